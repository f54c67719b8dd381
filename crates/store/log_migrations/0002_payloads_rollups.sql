-- Which candidate answered, retries inside candidates, every candidate
-- tried (JSON), and whether the request's payloads were stored.
ALTER TABLE request_logs ADD COLUMN fallback_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE request_logs ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE request_logs ADD COLUMN attempt_details TEXT NOT NULL DEFAULT '[]';
ALTER TABLE request_logs ADD COLUMN has_payload INTEGER NOT NULL DEFAULT 0;
-- Every index is paid for on every insert: provider (and team) filters walk
-- back from the newest row instead, which a page of a busy provider finds fast.
DROP INDEX request_logs_provider;

-- Payloads, when stored: their own table (rows stay narrow), pruned sooner.
CREATE TABLE request_payloads (
    log_id             INTEGER PRIMARY KEY REFERENCES request_logs (id) ON DELETE CASCADE,
    started_at_ms      INTEGER NOT NULL,
    request            TEXT NOT NULL,
    response           TEXT NOT NULL,
    request_truncated  INTEGER NOT NULL,
    response_truncated INTEGER NOT NULL
) STRICT;
CREATE INDEX request_payloads_started ON request_payloads (started_at_ms);

-- Hourly usage, kept by the writer in the same transaction as the rows.
-- Absent dimensions are '' so the key is a plain unique key.
CREATE TABLE usage_hourly (
    hour_ms            INTEGER NOT NULL,
    provider           TEXT NOT NULL,
    model              TEXT NOT NULL,
    route              TEXT NOT NULL,
    key_id             TEXT NOT NULL,
    team               TEXT NOT NULL,
    user               TEXT NOT NULL,
    status_class       TEXT NOT NULL,
    key_name           TEXT NOT NULL,
    requests           INTEGER NOT NULL,
    errors             INTEGER NOT NULL,
    input_tokens       INTEGER NOT NULL,
    output_tokens      INTEGER NOT NULL,
    cache_read_tokens  INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    reasoning_tokens   INTEGER NOT NULL,
    cost_usd           REAL NOT NULL,
    unpriced           INTEGER NOT NULL,
    duration_hist      TEXT NOT NULL,
    ttft_hist          TEXT NOT NULL,
    PRIMARY KEY (hour_ms, provider, model, route, key_id, team, user, status_class)
) STRICT;
