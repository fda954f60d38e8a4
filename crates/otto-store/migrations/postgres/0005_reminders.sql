-- Reminders and two-way SMS (issue #11). The 0001 reminders table was never written; it is
-- replaced by one row per (appointment, kind, channel, appointment start): a move makes new
-- rows for the new start, and a row is sent at most once. Sending is driven by a job
-- ('reminder.send', payload the reminder id) so leases, retries and backoff are the worker's.
DROP TABLE reminders;
CREATE TABLE reminders (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appointment_id    BIGINT NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL CHECK (kind IN ('confirmation', 'reminder')),
    channel           TEXT NOT NULL CHECK (channel IN ('sms', 'call')),
    appointment_start TIMESTAMPTZ NOT NULL,
    due_at            TIMESTAMPTZ NOT NULL,
    status            TEXT NOT NULL CHECK (status IN
        ('pending', 'claimed', 'sent', 'delivered', 'failed', 'cancelled')),
    attempts          INTEGER NOT NULL CHECK (attempts >= 0),
    provider_sid      TEXT UNIQUE,
    provider_status   TEXT,
    last_error        TEXT,
    claimed_at        TIMESTAMPTZ,
    sent_at           TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (appointment_id, kind, channel, appointment_start)
);
CREATE INDEX reminders_by_due ON reminders (due_at);

-- Numbers that replied STOP (Twilio / US carrier rules); every send checks this first.
CREATE TABLE sms_opt_outs (
    phone        TEXT PRIMARY KEY,
    opted_out_at TIMESTAMPTZ NOT NULL
);

-- What an SMS conversation waits for (a YES to cancel, a number from offered slots).
CREATE TABLE sms_threads (
    phone      TEXT PRIMARY KEY,
    state      TEXT NOT NULL CHECK (length(state) <= 4000),
    expires_at TIMESTAMPTZ NOT NULL
);
