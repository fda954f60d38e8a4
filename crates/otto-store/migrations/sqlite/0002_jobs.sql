-- Background jobs (otto-jobs): claimed with a lease, retried with backoff, buried when they
-- keep failing. Times are unix milliseconds, as in 0001.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),
    payload      TEXT    NOT NULL,
    dedup_key    TEXT    UNIQUE,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'done', 'dead')),
    attempts     INTEGER NOT NULL CHECK (attempts >= 0),
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_at       INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (status, run_at);
