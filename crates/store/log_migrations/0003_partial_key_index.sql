-- Rows without a virtual key (an open gateway's every row) skip the key
-- index: `key_id = ?` never matches them, and an index entry costs as much
-- as a third of the row's own insert.
DROP INDEX request_logs_key;
CREATE INDEX request_logs_key ON request_logs (key_id, id) WHERE key_id IS NOT NULL;
