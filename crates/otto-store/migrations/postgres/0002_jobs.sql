-- Background jobs (otto-jobs): claimed with a lease, retried with backoff, buried when they
-- keep failing.
CREATE TABLE jobs (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    payload      TEXT    NOT NULL,
    dedup_key    TEXT    UNIQUE,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'done', 'dead')),
    attempts     INTEGER NOT NULL CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_at       TIMESTAMPTZ NOT NULL,
    lease_owner  TEXT,
    lease_until  TIMESTAMPTZ,
    last_error   TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);
