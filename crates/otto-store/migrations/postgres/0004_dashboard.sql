-- The staff side: per-reply latency on agent turns, tool actions beside the transcript, staff
-- accounts with their sign-in sessions, and the audit log of staff writes.
ALTER TABLE call_turns
    ADD COLUMN transcript_ms INTEGER CHECK (transcript_ms >= 0),
    ADD COLUMN first_text_ms INTEGER CHECK (first_text_ms >= 0),
    ADD COLUMN first_audio_ms INTEGER CHECK (first_audio_ms >= 0),
    ADD COLUMN first_frame_ms INTEGER CHECK (first_frame_ms >= 0);
CREATE INDEX call_turns_by_time ON call_turns (spoken_at);
CREATE INDEX call_logs_by_customer ON call_logs (customer_id, started_at);

CREATE TABLE call_actions (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id BIGINT NOT NULL REFERENCES call_logs (id) ON DELETE CASCADE,
    at      TIMESTAMPTZ NOT NULL,
    tool    TEXT NOT NULL CHECK (length(tool) BETWEEN 1 AND 64),
    detail  TEXT NOT NULL CHECK (length(detail) <= 2000)
);
CREATE INDEX call_actions_by_call ON call_actions (call_id, at);

CREATE TABLE staff (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    role          TEXT NOT NULL CHECK (role IN ('owner', 'staff')),
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

-- A signed-in browser: the SHA-256 of its cookie token (the token itself is never stored) and
-- the CSRF token its forms carry.
CREATE TABLE staff_sessions (
    token_hash TEXT PRIMARY KEY,
    staff_id   BIGINT NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);

CREATE TABLE audit_log (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      TIMESTAMPTZ NOT NULL,
    staff   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail  TEXT NOT NULL
);
CREATE INDEX audit_log_by_time ON audit_log (at);
