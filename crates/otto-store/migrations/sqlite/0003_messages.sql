-- Messages callers leave for the staff, listed and marked handled on the dashboard and CLI.
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    call_id     INTEGER REFERENCES call_logs (id) ON DELETE SET NULL,
    customer_id INTEGER REFERENCES customers (id) ON DELETE SET NULL,
    from_phone  TEXT    NOT NULL,
    caller_name TEXT,
    body        TEXT    NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    created_at  INTEGER NOT NULL,
    handled_at  INTEGER,
    handled_by  TEXT
);
CREATE INDEX messages_open ON messages (handled_at, created_at);
