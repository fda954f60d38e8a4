-- Google Calendar (issue #12): what survives restarts and is shared between instances.
-- Named values: the drift reconcile's sync token per calendar ('sync_token:<calendar id>') and
-- the owner's refresh token when `otto calendar connect` stores it here.
CREATE TABLE calendar_state (
    name       TEXT PRIMARY KEY CHECK (length(name) <= 1100),
    value      TEXT NOT NULL CHECK (length(value) <= 8000),
    updated_at TIMESTAMPTZ NOT NULL
);

-- Events of Otto's moved or deleted by hand in Google, found by the reconcile; one per
-- appointment, shown on the dashboard until the event matches the booking again.
CREATE TABLE calendar_drifts (
    appointment_id BIGINT PRIMARY KEY REFERENCES appointments (id) ON DELETE CASCADE,
    booked_start   TIMESTAMPTZ NOT NULL,
    booked_end     TIMESTAMPTZ NOT NULL,
    event_start    TIMESTAMPTZ,
    event_end      TIMESTAMPTZ,
    found_at       TIMESTAMPTZ NOT NULL
);
