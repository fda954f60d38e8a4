-- Otto's schema for PostgreSQL. Instants are TIMESTAMPTZ, dates DATE.
-- Keep in step with migrations/sqlite.

CREATE TABLE customers (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT    NOT NULL CHECK (length(btrim(name)) > 0),
    phone       TEXT    NOT NULL UNIQUE,
    email       TEXT    CHECK (email IS NULL OR email = lower(email)),
    street      TEXT,
    city        TEXT,
    state       TEXT,
    postal_code TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CHECK ((street IS NULL) = (city IS NULL)
       AND (street IS NULL) = (state IS NULL)
       AND (street IS NULL) = (postal_code IS NULL))
);

CREATE TABLE vehicles (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    vin         TEXT    UNIQUE,
    year        INTEGER NOT NULL CHECK (year BETWEEN 1900 AND 2100),
    make        TEXT    NOT NULL,
    model       TEXT    NOT NULL,
    trim_level  TEXT,
    mileage     BIGINT CHECK (mileage >= 0),
    plate       TEXT
);
CREATE INDEX vehicles_by_customer ON vehicles (customer_id);

CREATE TABLE appointments (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id       BIGINT NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    vehicle_id        BIGINT REFERENCES vehicles (id) ON DELETE SET NULL,
    service           TEXT    NOT NULL,
    starts_at         TIMESTAMPTZ NOT NULL,
    ends_at           TIMESTAMPTZ NOT NULL,
    bay               INTEGER NOT NULL CHECK (bay >= 1),
    status            TEXT    NOT NULL
        CHECK (status IN ('scheduled', 'confirmed', 'cancelled', 'completed', 'no_show')),
    notes             TEXT,
    source            TEXT    NOT NULL CHECK (source IN ('phone', 'text', 'dashboard')),
    calendar_event_id TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX appointments_by_status_start ON appointments (status, starts_at);
CREATE INDEX appointments_by_customer_start ON appointments (customer_id, starts_at);

CREATE TABLE service_history (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vehicle_id   BIGINT NOT NULL REFERENCES vehicles (id) ON DELETE CASCADE,
    service_date DATE    NOT NULL,
    mileage      BIGINT CHECK (mileage >= 0),
    work         TEXT    NOT NULL,
    cost_cents   BIGINT NOT NULL CHECK (cost_cents >= 0)
);
CREATE INDEX service_history_by_vehicle ON service_history (vehicle_id, service_date);

CREATE TABLE call_logs (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_sid      TEXT    NOT NULL UNIQUE,
    direction     TEXT    NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    from_number   TEXT    NOT NULL,
    to_number     TEXT    NOT NULL,
    started_at    TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ,
    duration_secs INTEGER CHECK (duration_secs >= 0),
    outcome       TEXT,
    summary       TEXT,
    customer_id   BIGINT REFERENCES customers (id) ON DELETE SET NULL,
    -- Turns appended so far; the next turn's seq. Bumped under the row's write lock.
    turn_count    INTEGER NOT NULL DEFAULT 0 CHECK (turn_count >= 0)
);
CREATE INDEX call_logs_by_start ON call_logs (started_at);

CREATE TABLE call_turns (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id     BIGINT NOT NULL REFERENCES call_logs (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL CHECK (seq >= 0),
    speaker     TEXT    NOT NULL CHECK (speaker IN ('caller', 'agent')),
    text        TEXT    NOT NULL,
    spoken_at   TIMESTAMPTZ NOT NULL,
    interrupted BOOLEAN NOT NULL,
    UNIQUE (call_id, seq)
);

CREATE TABLE reminders (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    appointment_id BIGINT NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
    channel        TEXT    NOT NULL CHECK (channel IN ('sms', 'call')),
    due_at         TIMESTAMPTZ NOT NULL,
    sent_at        TIMESTAMPTZ,
    status         TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
    attempts       INTEGER NOT NULL CHECK (attempts >= 0)
);
CREATE INDEX reminders_by_status_due ON reminders (status, due_at);
