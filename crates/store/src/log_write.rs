//! The request log's writes, run on its writer thread ([`WriterThread`]):
//! a batch is one transaction writing a segment (or a few) and the rows'
//! payloads and id entries, each statement prepared once and kept in the
//! connection's statement cache; retention deletes whole segments, in small
//! batches.
//!
//! [`WriterThread`]: crate::writer_thread::WriterThread

use rusqlite::{params, Connection, Transaction, TransactionBehavior};
use switchyard_core::observability::rollup::{Histogram, Rollup};
use switchyard_core::observability::LogBatch;

use crate::queries::int;
use crate::segment::{self, SEGMENT_ROWS};

const INSERT_SEGMENT: &str = "INSERT INTO log_segments \
     (id, first_ms, last_ms, rows, providers, models, keys, teams, users, data) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

const INSERT_REQUEST_ID: &str = "INSERT INTO log_request_ids (log_id, request_id) VALUES (?1, ?2)";

const INSERT_PAYLOAD: &str = "INSERT INTO log_payloads \
     (log_id, started_at_ms, request, response, request_truncated, response_truncated) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

/// Segments, payloads and rollup deltas, all or nothing.
pub(crate) fn append(conn: &mut Connection, batch: &LogBatch) -> rusqlite::Result<()> {
    // IMMEDIATE: the write lock is taken at BEGIN, so the MAX(id) read below
    // cannot go stale under a retention delete from another connection.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Segment ids are given here (one writer: nothing races the max), so a
    // payload names its row's log id without reading anything back.
    let last: i64 = tx.query_row("SELECT COALESCE(MAX(id), 0) FROM log_segments", [], |r| r.get(0))?;
    for (id, chunk) in (last + 1..).zip(batch.rows.chunks(SEGMENT_ROWS)) {
        let s = segment::encode(chunk.iter().map(|(r, _)| r));
        tx.prepare_cached(INSERT_SEGMENT)?.execute(params![
            id,
            int(s.first_ms),
            int(s.last_ms),
            chunk.len() as i64,
            s.providers,
            s.models,
            s.keys,
            s.teams,
            s.users,
            s.data
        ])?;
        for (index, (r, payload)) in chunk.iter().enumerate() {
            let log_id = segment::log_id(id, index);
            // Prepared only when used: most batches have neither.
            if !segment::dated_by_id(r) {
                tx.prepare_cached(INSERT_REQUEST_ID)?.execute(params![log_id, r.request_id])?;
            }
            if let Some(p) = payload {
                tx.prepare_cached(INSERT_PAYLOAD)?.execute(params![
                    log_id,
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

/// Deletes whole segments, oldest first, up to `batch` rows (at least one
/// segment, however many rows it holds), with their payloads and id entries.
fn delete_segments(tx: &Transaction<'_>, candidates: &[(i64, i64)], batch: u32) -> rusqlite::Result<u64> {
    let mut rows = 0u64;
    for &(id, n) in candidates {
        let n = u64::try_from(n).unwrap_or(0);
        if rows > 0 && rows + n > u64::from(batch) {
            break;
        }
        let range = params![segment::log_id(id, 0), segment::segment_end(id)];
        tx.prepare_cached("DELETE FROM log_payloads WHERE log_id >= ?1 AND log_id < ?2")?.execute(range)?;
        tx.prepare_cached("DELETE FROM log_request_ids WHERE log_id >= ?1 AND log_id < ?2")?.execute(range)?;
        tx.prepare_cached("DELETE FROM log_segments WHERE id = ?1")?.execute([id])?;
        rows += n;
    }
    Ok(rows)
}

fn candidates(tx: &Transaction<'_>, sql: &str, p: impl rusqlite::Params) -> rusqlite::Result<Vec<(i64, i64)>> {
    let mut q = tx.prepare_cached(sql)?;
    let found = q.query_map(p, |r| Ok((r.get(0)?, r.get(1)?)))?.collect();
    found
}

/// Up to `batch` rows of segments whose every row started before `before_ms`.
/// Whole segments: a row outlives its age by at most its batch's span.
pub(crate) fn prune(conn: &mut Connection, before_ms: u64, batch: u32) -> rusqlite::Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let old = candidates(
        &tx,
        "SELECT id, rows FROM log_segments WHERE last_ms < ?1 ORDER BY id LIMIT ?2",
        params![int(before_ms), batch],
    )?;
    let n = delete_segments(&tx, &old, batch)?;
    tx.commit()?;
    Ok(n)
}

/// Up to `batch` payloads of rows older than `before_ms`; the rows stay.
pub(crate) fn prune_payloads(conn: &mut Connection, before_ms: u64, batch: u32) -> rusqlite::Result<u64> {
    let n = conn.execute(
        "DELETE FROM log_payloads WHERE log_id IN \
         (SELECT log_id FROM log_payloads WHERE started_at_ms < ?1 ORDER BY log_id LIMIT ?2)",
        params![int(before_ms), batch],
    )?;
    Ok(n as u64)
}

/// Rollups of hours before `before_ms`.
pub(crate) fn prune_rollups(conn: &mut Connection, before_ms: u64) -> rusqlite::Result<u64> {
    let n = conn.execute("DELETE FROM usage_hourly WHERE hour_ms < ?1", params![int(before_ms)])?;
    Ok(n as u64)
}

/// The oldest segments, up to `batch` rows (at least one segment): the size cap's lever.
pub(crate) fn prune_oldest(conn: &mut Connection, batch: u32) -> rusqlite::Result<u64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let oldest = candidates(&tx, "SELECT id, rows FROM log_segments ORDER BY id LIMIT ?1", [batch])?;
    let n = delete_segments(&tx, &oldest, batch)?;
    tx.commit()?;
    Ok(n)
}
