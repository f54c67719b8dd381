//! The core [`LogStore`] over its own SQLite file (`logs.db`): WAL, and
//! `synchronous=NORMAL` — a power cut may lose the last batch of log rows,
//! never corrupt the file, and each batch costs no fsync (configuration
//! writes keep `FULL` in their own file). One writer connection (the log
//! writer's), a small read pool for the API.
//!
//! [`LogStore`]: switchyard_core::observability::LogStore

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Row, Sqlite};
use switchyard_core::config_service::StoreError;
use switchyard_core::governance::period;
use switchyard_core::observability::rollup::{Rollup, UsageFilter};
use switchyard_core::observability::{LogBatch, LogFilter, LogPage, LogRow, LogStore, StoredPayload};

use crate::log_write;
use crate::queries::{int, store_error, uint};
use crate::segment;
use crate::writer_thread::WriterThread;
use crate::OpenError;

static MIGRATOR: Migrator = sqlx::migrate!("./log_migrations");

pub struct SqliteLogStore {
    write: WriterThread,
    read: SqlitePool,
}

impl SqliteLogStore {
    /// Opens (creating if needed) `logs.db` in `data_dir`.
    pub async fn open_dir(data_dir: &Path) -> Result<Self, OpenError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| OpenError::DataDir { path: data_dir.display().to_string(), source })?;
        let file = SqliteConnectOptions::new()
            .filename(data_dir.join("logs.db"))
            .busy_timeout(Duration::from_secs(5))
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true);
        // Migrations through sqlx, on a connection closed once they ran: every
        // later write goes through the writer thread's own connection.
        let migrate =
            SqlitePoolOptions::new().max_connections(1).connect_with(file.clone().create_if_missing(true)).await?;
        MIGRATOR.run(&migrate).await?;
        migrate.close().await;
        let write = WriterThread::open(&data_dir.join("logs.db"), "log-writer")?;
        // Readers (the log API) come and go: opened on first use, closed when
        // idle, so an idle gateway holds no reader (each is a thread and a page cache).
        let read = SqlitePoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .idle_timeout(Some(Duration::from_secs(60)))
            .connect_lazy_with(file.pragma("query_only", "ON"));
        Ok(Self { write, read })
    }

    /// Lets queued writes finish and closes both connections.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// Tests a zone map: the segment may hold the value.
fn zone(q: &mut QueryBuilder<Sqlite>, column: &'static str, v: &Option<String>) {
    // Column names are literals here, never input.
    if let Some(v) = v {
        q.push(" AND (")
            .push(column)
            .push(" = '")
            .push(segment::ANY)
            .push("' OR instr(")
            .push(column)
            .push(", char(10) || ")
            .push_bind(v.clone())
            .push(" || char(10)) > 0)");
    }
}

/// The payload search: log ids whose stored request or response holds the text as typed.
const PAYLOAD_MATCH: &str = "SELECT log_id FROM log_payloads WHERE instr(request, ?1) > 0 OR instr(response, ?1) > 0";

/// The segments that may hold rows passing `f`, newest first: the zone maps,
/// time span, cursor, request-id and payload-search narrow them; the rows are
/// tested one by one when read.
fn segments_query(f: &LogFilter, q_text: Option<&str>) -> QueryBuilder<Sqlite> {
    // A log id is `segment << ID_SHIFT | index` (segment.rs), here in SQL.
    let shift = segment::ID_SHIFT;
    let mut q = QueryBuilder::<Sqlite>::new(format!(
        "SELECT id, data, (SELECT group_concat(log_id - (id << {shift})) FROM log_payloads \
         WHERE log_id >= id << {shift} AND log_id < (id + 1) << {shift}) AS payloads FROM log_segments WHERE 1 = 1"
    ));
    zone(&mut q, "providers", &f.provider);
    zone(&mut q, "models", &f.model);
    zone(&mut q, "keys", &f.key);
    zone(&mut q, "teams", &f.team);
    zone(&mut q, "users", &f.user);
    if let Ok(Some(since)) = LogFilter::bound(f.since.as_deref(), "since") {
        q.push(" AND last_ms >= ").push_bind(int(since));
    }
    if let Ok(Some(until)) = LogFilter::bound(f.until.as_deref(), "until") {
        q.push(" AND first_ms < ").push_bind(int(until));
    }
    if let Some(cursor) = cursor(f) {
        q.push(" AND id <= ").push_bind(segment::segment_of(cursor));
    }
    if let Some(id) = &f.request_id {
        q.push(format!(" AND (id IN (SELECT log_id >> {shift} FROM log_request_ids WHERE request_id = "))
            .push_bind(id.clone())
            .push(")");
        // Switchyard's own ids are found by their date instead (see `segment::dated_by_id`).
        if let Some(ms) = segment::uuid7_ms(id) {
            q.push(" OR (last_ms >= ")
                .push_bind(int(ms.saturating_sub(segment::DATED_ID_SLACK_MS)))
                .push(" AND first_ms <= ")
                .push_bind(int(ms.saturating_add(segment::DATED_ID_SLACK_MS)))
                .push(")");
        }
        q.push(")");
    }
    if let Some(text) = q_text {
        q.push(format!(" AND id IN (SELECT log_id >> {shift} FROM log_payloads WHERE instr(request, "))
            .push_bind(text.to_string())
            .push(") > 0 OR instr(response, ")
            .push_bind(text.to_string())
            .push(") > 0)");
    }
    q.push(" ORDER BY id DESC");
    q
}

fn cursor(f: &LogFilter) -> Option<i64> {
    f.cursor.as_deref().and_then(|c| c.parse::<i64>().ok())
}

impl SqliteLogStore {
    /// Up to `limit` rows passing `f`, newest first, with their log ids, and
    /// whether more follow. Segments are read one at a time, only as far as
    /// the page needs.
    async fn scan(&self, f: &LogFilter, limit: usize) -> Result<(Vec<(i64, LogRow)>, bool), StoreError> {
        let q_text = f.q.as_deref().filter(|t| !t.is_empty());
        // The payloads holding the text, tested per row (a segment holds others too).
        let searched: Option<HashSet<i64>> = match q_text {
            Some(text) => Some(
                sqlx::query_scalar(PAYLOAD_MATCH)
                    .bind(text.to_string())
                    .fetch_all(&self.read)
                    .await
                    .map_err(store_error)?
                    .into_iter()
                    .collect(),
            ),
            None => None,
        };
        let cursor = cursor(f);
        let mut found = Vec::new();
        let mut query = segments_query(f, q_text);
        let mut segments = query.build().fetch(&self.read);
        while let Some(s) = segments.try_next().await.map_err(store_error)? {
            let id: i64 = s.try_get("id").map_err(store_error)?;
            let data: &str = s.try_get("data").map_err(store_error)?;
            let payloads: Option<&str> = s.try_get("payloads").map_err(store_error)?;
            let with_payload: Vec<usize> =
                payloads.unwrap_or_default().split(',').filter_map(|i| i.parse().ok()).collect();
            let rows = segment::decode(data).map_err(|e| StoreError::Corrupt {
                what: "request log segment",
                name: id.to_string(),
                reason: e.to_string(),
            })?;
            for (index, mut row) in rows.into_iter().enumerate().rev() {
                let log_id = segment::log_id(id, index);
                if cursor.is_some_and(|c| log_id >= c) || searched.as_ref().is_some_and(|s| !s.contains(&log_id)) {
                    continue;
                }
                row.has_payload = with_payload.contains(&index);
                if !f.matches(&row) {
                    continue;
                }
                if found.len() == limit {
                    return Ok((found, true));
                }
                row.started_at = period::rfc3339(row.started_at_ms);
                found.push((log_id, row));
            }
        }
        Ok((found, false))
    }
}

#[async_trait::async_trait]
impl LogStore for SqliteLogStore {
    async fn append(&self, batch: Arc<LogBatch>) -> Result<(), StoreError> {
        self.write.call(move |conn| log_write::append(conn, &batch)).await
    }

    async fn query(&self, filter: &LogFilter) -> Result<LogPage, StoreError> {
        let (rows, more) = self.scan(filter, filter.page_size() as usize).await?;
        let next_cursor = if more { rows.last().map(|(id, _)| id.to_string()) } else { None };
        Ok(LogPage { data: rows.into_iter().map(|(_, r)| r).collect(), next_cursor })
    }

    async fn get(&self, request_id: &str) -> Result<Option<(LogRow, Option<StoredPayload>)>, StoreError> {
        let by_id = LogFilter { request_id: Some(request_id.to_string()), ..LogFilter::default() };
        let Some((log_id, row)) = self.scan(&by_id, 1).await?.0.pop() else { return Ok(None) };
        let payload = sqlx::query(
            "SELECT request, response, request_truncated, response_truncated FROM log_payloads WHERE log_id = ?1",
        )
        .bind(log_id)
        .fetch_optional(&self.read)
        .await
        .map_err(store_error)?
        .map(|p| -> Result<StoredPayload, sqlx::Error> {
            Ok(StoredPayload {
                request: p.try_get("request")?,
                response: p.try_get("response")?,
                request_truncated: p.try_get("request_truncated")?,
                response_truncated: p.try_get("response_truncated")?,
            })
        })
        .transpose()
        .map_err(store_error)?;
        Ok(Some((row, payload)))
    }

    async fn usage(&self, filter: &UsageFilter) -> Result<Vec<Rollup>, StoreError> {
        crate::usage::select(&self.read, filter).await
    }

    async fn prune(&self, before_ms: u64, batch: u32) -> Result<u64, StoreError> {
        self.write.call(move |conn| log_write::prune(conn, before_ms, batch)).await
    }

    async fn prune_payloads(&self, before_ms: u64, batch: u32) -> Result<u64, StoreError> {
        self.write.call(move |conn| log_write::prune_payloads(conn, before_ms, batch)).await
    }

    async fn prune_rollups(&self, before_ms: u64) -> Result<u64, StoreError> {
        self.write.call(move |conn| log_write::prune_rollups(conn, before_ms)).await
    }

    async fn prune_oldest(&self, batch: u32) -> Result<u64, StoreError> {
        self.write.call(move |conn| log_write::prune_oldest(conn, batch)).await
    }

    async fn size_bytes(&self) -> Result<u64, StoreError> {
        let (pages, free, size): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT page_count FROM pragma_page_count()), (SELECT freelist_count FROM pragma_freelist_count()), \
             (SELECT page_size FROM pragma_page_size())",
        )
        .fetch_one(&self.read)
        .await
        .map_err(store_error)?;
        Ok(uint((pages - free).max(0) * size))
    }
}
