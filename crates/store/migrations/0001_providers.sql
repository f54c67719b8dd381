-- Providers, each as the config file spells it (JSON, `env.NAME` unresolved).
-- Identical to version 1 of the pre-sqlx store (PRAGMA user_version = 1), so
-- databases it created are adopted by marking this migration applied.
CREATE TABLE providers (
    name       TEXT PRIMARY KEY NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('file', 'api')),
    config     TEXT NOT NULL,
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;
