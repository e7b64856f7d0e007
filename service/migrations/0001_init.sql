-- The service's state: devices and their token hashes, last reports,
-- server secrets, and the DO Array's peer registrations and origin leases.
CREATE TABLE devices (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    enrolled_at timestamptz NOT NULL,
    doc         jsonb NOT NULL -- the device as the service encodes it
);

CREATE TABLE tokens (
    hash      bytea PRIMARY KEY, -- SHA-256 of the bearer token; the token is never stored
    device_id text NOT NULL REFERENCES devices (id) ON DELETE CASCADE
);

CREATE TABLE reports (
    device_id   text NOT NULL,
    app_id      text NOT NULL,
    received_at timestamptz NOT NULL,
    doc         jsonb NOT NULL,
    PRIMARY KEY (device_id, app_id)
);

CREATE TABLE secrets (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE peer_registrations (
    file_id    text NOT NULL,
    device_id  text NOT NULL,
    peer_id    text NOT NULL,
    addr       text NOT NULL,
    lan_id     text NOT NULL,
    group_id   text NOT NULL,
    mode       integer NOT NULL,
    complete   boolean NOT NULL,
    pieces     bytea,
    holds      boolean NOT NULL,
    npieces    integer NOT NULL,
    want       integer[] NOT NULL,
    max_origin integer NOT NULL,
    avoid      text[] NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (file_id, device_id)
);
CREATE INDEX peer_registrations_expires ON peer_registrations (expires_at);
CREATE INDEX peer_registrations_device ON peer_registrations (device_id);

CREATE TABLE peer_leases (
    file_id   text NOT NULL,
    scope     text NOT NULL,
    piece     integer NOT NULL,
    device_id text NOT NULL,
    until     timestamptz NOT NULL,
    PRIMARY KEY (file_id, scope, piece)
);
