-- Messages callers leave for the staff, listed and marked handled on the dashboard and CLI.
CREATE TABLE messages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id     BIGINT REFERENCES call_logs (id) ON DELETE SET NULL,
    customer_id BIGINT REFERENCES customers (id) ON DELETE SET NULL,
    from_phone  TEXT    NOT NULL,
    caller_name TEXT,
    body        TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    created_at  TIMESTAMPTZ NOT NULL,
    handled_at  TIMESTAMPTZ,
    handled_by  TEXT
);
CREATE INDEX messages_open ON messages (handled_at, created_at);
