-- The request log in segments: one stored row per writer batch (up to 1,024
-- requests), not one per request. A row per request paid a
-- B-tree insert per column and per index on every request, two thirds of
-- the log's cost; a segment pays them once per batch. A request's log id is
-- segment << 10 | its index in the segment.
-- A segment's data is a JSON array of rows, each an array of values.
CREATE TABLE log_segments (
    id        INTEGER PRIMARY KEY,
    -- The earliest and latest start among its rows (time filters, retention).
    first_ms  INTEGER NOT NULL,
    last_ms   INTEGER NOT NULL,
    rows      INTEGER NOT NULL,
    -- Zone maps: the distinct values of a filtered column, as "\nv1\nv2\n"
    -- ('' none, '*' too many to list), so a filter skips segments unread.
    providers TEXT NOT NULL,
    models    TEXT NOT NULL,
    keys      TEXT NOT NULL,
    teams     TEXT NOT NULL,
    users     TEXT NOT NULL,
    -- Last: a scan of the columns above does not read it.
    data      TEXT NOT NULL
) STRICT;
CREATE INDEX log_segments_last ON log_segments (last_ms);

-- Request ids a lookup cannot find by date: every id but Switchyard's own
-- (UUIDv7, dated near the request's start), i.e. ids clients sent.
CREATE TABLE log_request_ids (
    log_id     INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL
) STRICT;
CREATE INDEX log_request_ids_request ON log_request_ids (request_id);

CREATE TABLE log_payloads (
    log_id             INTEGER PRIMARY KEY,
    started_at_ms      INTEGER NOT NULL,
    request            TEXT NOT NULL,
    response           TEXT NOT NULL,
    request_truncated  INTEGER NOT NULL,
    response_truncated INTEGER NOT NULL
) STRICT;
CREATE INDEX log_payloads_started ON log_payloads (started_at_ms);

-- Rows logged before: a segment each (same order), every request id in the
-- id table, payloads under their new log ids.
INSERT INTO log_segments (id, first_ms, last_ms, rows, providers, models, keys, teams, users, data)
SELECT id, started_at_ms, started_at_ms, 1,
       COALESCE(char(10) || provider || char(10), ''),
       char(10) || model || char(10),
       COALESCE(char(10) || key_id || char(10), ''),
       COALESCE(char(10) || team || char(10), ''),
       COALESCE(char(10) || user || char(10), ''),
       -- One row, positional (the order of `ReadRow` in src/segment.rs).
       json_array(json_array(
           request_id, started_at_ms, duration_ms, ttft_ms, inbound, route, provider, model, served_model,
           json(CASE WHEN stream THEN 'true' ELSE 'false' END), attempts, status, end_state, error_code,
           input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens,
           json(CASE WHEN usage_estimated THEN 'true' ELSE 'false' END), cost_usd, key_id, key_name, team, user,
           json(tags), user_agent, fallback_index, retries,
           (SELECT json_group_array(json_array(json_extract(a.value, '$.candidate'), json_extract(a.value, '$.error')))
              FROM json_each(attempt_details) AS a)))
FROM request_logs;
INSERT INTO log_request_ids (log_id, request_id) SELECT id << 10, request_id FROM request_logs;
INSERT INTO log_payloads (log_id, started_at_ms, request, response, request_truncated, response_truncated)
SELECT log_id << 10, started_at_ms, request, response, request_truncated, response_truncated FROM request_payloads;

DROP TABLE request_payloads;
DROP TABLE request_logs;
