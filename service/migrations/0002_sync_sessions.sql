-- What every serve process on the database must see alike: each device's
-- last sync and the properties it reported then (assignment filters), and
-- the console's sessions (the SHA-256 of a session id, never the id).
ALTER TABLE devices
    ADD COLUMN last_sync_at timestamptz, -- NULL: never synced
    ADD COLUMN sync_props   jsonb;       -- NULL: none reported since enrollment

CREATE TABLE console_sessions (
    hash       bytea PRIMARY KEY,
    expires_at timestamptz NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
