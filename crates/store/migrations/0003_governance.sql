-- Governance: virtual keys (the secret only as its HMAC), teams, policies,
-- prices set through the API, and the limit counters' checkpoints. Each
-- record is the JSON the core crate reads (`governance::records`), with the
-- columns queries and integrity need beside it.
CREATE TABLE teams (
    name       TEXT PRIMARY KEY NOT NULL,
    record     TEXT NOT NULL,
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;

CREATE TABLE virtual_keys (
    id         TEXT PRIMARY KEY NOT NULL,
    team       TEXT REFERENCES teams (name) ON DELETE RESTRICT,
    record     TEXT NOT NULL,
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;

CREATE INDEX virtual_keys_team ON virtual_keys (team);

CREATE TABLE policies (
    id         TEXT PRIMARY KEY NOT NULL,
    scope      TEXT NOT NULL UNIQUE,
    record     TEXT NOT NULL,
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;

CREATE TABLE prices (
    model  TEXT PRIMARY KEY NOT NULL,
    record TEXT NOT NULL
) STRICT;

-- `<policy>/<epoch>/<slot>/<subject>` → the counter's state (JSON).
CREATE TABLE limit_counters (
    key        TEXT PRIMARY KEY NOT NULL,
    state      TEXT NOT NULL,
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;
