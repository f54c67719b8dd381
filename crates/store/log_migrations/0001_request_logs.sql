-- The request log: one narrow row per request (payloads, when they come,
-- go to a table of their own). Its own database file (logs.db), so log
-- writes never queue behind configuration writes or the other way round.
CREATE TABLE request_logs (
    id                 INTEGER PRIMARY KEY,
    request_id         TEXT NOT NULL,
    started_at_ms      INTEGER NOT NULL,
    duration_ms        INTEGER NOT NULL,
    ttft_ms            INTEGER,
    inbound            TEXT NOT NULL,
    route              TEXT,
    provider           TEXT,
    model              TEXT NOT NULL,
    served_model       TEXT,
    stream             INTEGER NOT NULL,
    attempts           INTEGER NOT NULL,
    status             INTEGER NOT NULL,
    end_state          TEXT NOT NULL,
    error_code         TEXT,
    input_tokens       INTEGER NOT NULL,
    output_tokens      INTEGER NOT NULL,
    cache_read_tokens  INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    reasoning_tokens   INTEGER NOT NULL,
    usage_estimated    INTEGER NOT NULL,
    cost_usd           REAL,
    key_id             TEXT,
    key_name           TEXT,
    team               TEXT,
    user               TEXT,
    tags               TEXT NOT NULL,
    user_agent         TEXT
) STRICT;

-- Not unique: a client may send the same x-request-id twice; both requests are logged.
CREATE INDEX request_logs_request_id ON request_logs (request_id);
CREATE INDEX request_logs_started ON request_logs (started_at_ms);
CREATE INDEX request_logs_key ON request_logs (key_id, id);
CREATE INDEX request_logs_provider ON request_logs (provider, id);
