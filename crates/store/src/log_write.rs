//! The request log's writes, run on its writer thread ([`WriterThread`]):
//! a batch is one transaction, each statement prepared once and kept in the
//! connection's statement cache, bound straight from the row; retention deletes
//! in small batches.
//!
//! [`WriterThread`]: crate::writer_thread::WriterThread

use std::borrow::Cow;

use rusqlite::{params, Connection, Transaction, TransactionBehavior};
use switchyard_core::observability::rollup::{Histogram, Rollup};
use switchyard_core::observability::LogBatch;

use crate::queries::int;

/// The columns of a row, spelt once (read in `logs.rs`, written here).
macro_rules! columns {
    () => {
        "id, request_id, started_at_ms, duration_ms, ttft_ms, inbound, route, provider, model, served_model, \
         stream, attempts, status, end_state, error_code, input_tokens, output_tokens, cache_read_tokens, \
         cache_write_tokens, reasoning_tokens, usage_estimated, cost_usd, key_id, key_name, team, user, tags, user_agent, \
         fallback_index, retries, attempt_details, has_payload"
    };
}
pub(crate) use columns;

const INSERT_ROW: &str = concat!(
    "INSERT INTO request_logs (",
    columns!(),
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, \
     ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32)"
);

const INSERT_PAYLOAD: &str = "INSERT INTO request_payloads \
     (log_id, started_at_ms, request, response, request_truncated, response_truncated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Rows, payloads and rollup deltas, all or nothing.
pub(crate) fn append(conn: &mut Connection, batch: &LogBatch) -> rusqlite::Result<()> {
    // IMMEDIATE: the write lock is taken at BEGIN, so the MAX(id) read below
    // cannot go stale under a retention delete from another connection.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Ids are given here, not by SQLite, so a payload names its row without
    // reading it back (one writer: nothing races the max).
    let last: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM request_logs", [], |r| r.get(0))?;
    {
        let mut rows = tx.prepare_cached(INSERT_ROW)?;
        let mut payloads = None;
        for (id, (r, payload)) in (last + 1..).zip(&batch.rows) {
            // Most rows have no tags: no serialiser run (and no allocation) for them.
            let tags: Cow<'_, str> = if r.tags.is_empty() {
                Cow::Borrowed("{}")
            } else {
                Cow::Owned(serde_json::to_string(&r.tags).unwrap_or_else(|_| "{}".into()))
            };
            let attempts = serde_json::to_string(&r.attempt_details).unwrap_or_else(|_| "[]".into());
            rows.execute(params![
                id,
                r.request_id,
                int(r.started_at_ms),
                int(r.duration_ms),
                r.ttft_ms.map(int),
                r.inbound,
                r.route,
                r.provider,
                r.model,
                r.served_model,
                r.stream,
                r.attempts,
                r.status,
                r.end,
                r.error_code,
                int(r.input_tokens),
                int(r.output_tokens),
                int(r.cache_read_tokens),
                int(r.cache_write_tokens),
                int(r.reasoning_tokens),
                r.usage_estimated,
                r.cost_usd,
                r.key_id,
                r.key_name,
                r.team,
                r.user,
                tags,
                r.user_agent,
                r.fallback_index,
                r.retries,
                attempts,
                r.has_payload && payload.is_some(),
            ])?;
            if let Some(p) = payload {
                // Prepared on the batch's first payload: most batches have none.
                let insert = match &mut payloads {
                    Some(insert) => insert,
                    None => payloads.insert(tx.prepare_cached(INSERT_PAYLOAD)?),
                };
                insert.execute(params![
                    id,
                    int(r.started_at_ms),
                    p.request,
                    p.response,
                    p.request_truncated,
                    p.response_truncated
                ])?;
            }
        }
    }
    upsert_rollups(&tx, &batch.rollups)?;
    tx.commit()
}

/// Adds each delta to its hour's row. One writer connection, so the
/// read-merge-write of a histogram never races.
fn upsert_rollups(tx: &Transaction<'_>, rollups: &[Rollup]) -> rusqlite::Result<()> {
    if rollups.is_empty() {
        return Ok(());
    }
    let mut existing = tx.prepare_cached(
        "SELECT duration_hist, ttft_hist FROM usage_hourly WHERE hour_ms = ?1 AND provider = ?2 AND model = ?3 \
         AND route = ?4 AND key_id = ?5 AND team = ?6 AND user = ?7 AND status_class = ?8",
    )?;
    let mut upsert = tx.prepare_cached(
        "INSERT INTO usage_hourly (hour_ms, provider, model, route, key_id, team, user, status_class, key_name, \
         requests, errors, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, \
         cost_usd, unpriced, duration_hist, ttft_hist) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20) \
         ON CONFLICT (hour_ms, provider, model, route, key_id, team, user, status_class) DO UPDATE SET \
         key_name = CASE WHEN excluded.key_name = '' THEN key_name ELSE excluded.key_name END, \
         requests = requests + excluded.requests, errors = errors + excluded.errors, \
         input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens, \
         cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens, \
         cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens, \
         reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens, cost_usd = cost_usd + excluded.cost_usd, \
         unpriced = unpriced + excluded.unpriced, \
         duration_hist = excluded.duration_hist, ttft_hist = excluded.ttft_hist",
    )?;
    for r in rollups {
        let k = &r.key;
        let key = params![int(k.hour_ms), k.provider, k.model, k.route, k.key_id, k.team, k.user, k.status_class];
        let (mut duration, mut ttft) = (r.counts.duration, r.counts.ttft);
        let mut found = existing.query(key)?;
        if let Some(row) = found.next()? {
            duration.merge(&Histogram::decode(&row.get::<_, String>(0)?));
            ttft.merge(&Histogram::decode(&row.get::<_, String>(1)?));
        }
        drop(found);
        let c = &r.counts;
        upsert.execute(params![
            int(k.hour_ms),
            k.provider,
            k.model,
            k.route,
            k.key_id,
            k.team,
            k.user,
            k.status_class,
            r.key_name,
            int(c.requests),
            int(c.errors),
            int(c.input_tokens),
            int(c.output_tokens),
            int(c.cache_read_tokens),
            int(c.cache_write_tokens),
            int(c.reasoning_tokens),
            c.cost_usd,
            int(c.unpriced),
            duration.encode(),
            ttft.encode(),
        ])?;
    }
    Ok(())
}

/// Up to `batch` rows (with their payloads, by cascade) older than `before_ms`.
pub(crate) fn prune(conn: &mut Connection, before_ms: u64, batch: u32) -> rusqlite::Result<u64> {
    let n = conn.execute(
        "DELETE FROM request_logs WHERE id IN (SELECT id FROM request_logs WHERE started_at_ms < ?1 ORDER BY id LIMIT ?2)",
        params![int(before_ms), batch],
    )?;
    Ok(n as u64)
}

/// Up to `batch` payloads of rows older than `before_ms`; the rows stay.
pub(crate) fn prune_payloads(conn: &mut Connection, before_ms: u64, batch: u32) -> rusqlite::Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let n = tx.execute(
        "DELETE FROM request_payloads WHERE log_id IN \
         (SELECT log_id FROM request_payloads WHERE started_at_ms < ?1 ORDER BY log_id LIMIT ?2)",
        params![int(before_ms), batch],
    )?;
    if n > 0 {
        // The rows no longer have a payload to show.
        tx.execute(
            "UPDATE request_logs SET has_payload = 0 WHERE has_payload = 1 AND started_at_ms < ?1 \
             AND id NOT IN (SELECT log_id FROM request_payloads)",
            params![int(before_ms)],
        )?;
    }
    tx.commit()?;
    Ok(n as u64)
}

/// Rollups of hours before `before_ms`.
pub(crate) fn prune_rollups(conn: &mut Connection, before_ms: u64) -> rusqlite::Result<u64> {
    let n = conn.execute("DELETE FROM usage_hourly WHERE hour_ms < ?1", params![int(before_ms)])?;
    Ok(n as u64)
}

/// The `batch` oldest rows (the size cap's lever).
pub(crate) fn prune_oldest(conn: &mut Connection, batch: u32) -> rusqlite::Result<u64> {
    let n = conn.execute(
        "DELETE FROM request_logs WHERE id IN (SELECT id FROM request_logs ORDER BY id LIMIT ?1)",
        params![batch],
    )?;
    Ok(n as u64)
}
