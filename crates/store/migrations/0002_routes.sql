-- Routes (virtual models), each as the config file spells it (JSON:
-- `targets`, `fallbacks`). Same precedence as providers: `file` rows mirror
-- the config file at every start, `api` rows are the management API's.
CREATE TABLE routes (
    name       TEXT PRIMARY KEY NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('file', 'api')),
    config     TEXT NOT NULL,
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
) STRICT;
