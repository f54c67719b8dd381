//! The core [`LogStore`] over its own SQLite file (`logs.db`): WAL, and
//! `synchronous=NORMAL` — a power cut may lose the last batch of log rows,
//! never corrupt the file, and each batch costs no fsync (configuration
//! writes keep `FULL` in their own file). One writer connection (the log
//! writer's), a small read pool for the API.
//!
//! [`LogStore`]: switchyard_core::observability::LogStore

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite};
use switchyard_core::config_service::StoreError;
use switchyard_core::governance::period;
use switchyard_core::observability::rollup::{Rollup, UsageFilter};
use switchyard_core::observability::{LogBatch, LogFilter, LogPage, LogRow, LogStore, StoredPayload};

use crate::log_write::{self, columns};
use crate::queries::{int, store_error, uint};
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

fn row_of(r: &SqliteRow) -> Result<LogRow, sqlx::Error> {
    let started: i64 = r.try_get("started_at_ms")?;
    let tags: String = r.try_get("tags")?;
    let attempts: String = r.try_get("attempt_details")?;
    Ok(LogRow {
        request_id: r.try_get("request_id")?,
        started_at: period::rfc3339(uint(started)),
        started_at_ms: uint(started),
        duration_ms: uint(r.try_get("duration_ms")?),
        ttft_ms: r.try_get::<Option<i64>, _>("ttft_ms")?.map(uint),
        inbound: r.try_get("inbound")?,
        route: r.try_get("route")?,
        provider: r.try_get("provider")?,
        model: r.try_get("model")?,
        served_model: r.try_get("served_model")?,
        stream: r.try_get("stream")?,
        attempts: u32::try_from(r.try_get::<i64, _>("attempts")?).unwrap_or(0),
        status: u16::try_from(r.try_get::<i64, _>("status")?).unwrap_or(0),
        end: r.try_get("end_state")?,
        error_code: r.try_get("error_code")?,
        input_tokens: uint(r.try_get("input_tokens")?),
        output_tokens: uint(r.try_get("output_tokens")?),
        cache_read_tokens: uint(r.try_get("cache_read_tokens")?),
        cache_write_tokens: uint(r.try_get("cache_write_tokens")?),
        reasoning_tokens: uint(r.try_get("reasoning_tokens")?),
        usage_estimated: r.try_get("usage_estimated")?,
        cost_usd: r.try_get("cost_usd")?,
        key_id: r.try_get("key_id")?,
        key_name: r.try_get("key_name")?,
        team: r.try_get("team")?,
        user: r.try_get("user")?,
        tags: serde_json::from_str(&tags).unwrap_or_default(),
        user_agent: r.try_get("user_agent")?,
        fallback_index: u32::try_from(r.try_get::<i64, _>("fallback_index")?).unwrap_or(0),
        retries: u32::try_from(r.try_get::<i64, _>("retries")?).unwrap_or(0),
        attempt_details: serde_json::from_str(&attempts).unwrap_or_default(),
        has_payload: r.try_get("has_payload")?,
    })
}

/// `AND <column> = ?` for each filter set.
fn push_filters(q: &mut QueryBuilder<Sqlite>, f: &LogFilter) {
    // Column names are literals here, never input.
    let eq = |q: &mut QueryBuilder<Sqlite>, column: &'static str, v: &Option<String>| {
        if let Some(v) = v {
            q.push(" AND ").push(column).push(" = ").push_bind(v.clone());
        }
    };
    eq(q, "provider", &f.provider);
    eq(q, "model", &f.model);
    eq(q, "route", &f.route);
    eq(q, "key_id", &f.key);
    eq(q, "team", &f.team);
    eq(q, "user", &f.user);
    eq(q, "error_code", &f.error_code);
    eq(q, "request_id", &f.request_id);
    if let Some(s) = f.stream {
        q.push(" AND stream = ").push_bind(s);
    }
    if let Some(Ok(class)) = f.status_class() {
        q.push(" AND status >= ")
            .push_bind(i64::from(class) * 100)
            .push(" AND status < ")
            .push_bind(i64::from(class + 1) * 100);
    }
    if let Ok(Some(since)) = LogFilter::bound(f.since.as_deref(), "since") {
        q.push(" AND started_at_ms >= ").push_bind(int(since));
    }
    if let Ok(Some(until)) = LogFilter::bound(f.until.as_deref(), "until") {
        q.push(" AND started_at_ms < ").push_bind(int(until));
    }
    if let Some(text) = f.q.as_deref().filter(|t| !t.is_empty()) {
        // `instr`, not LIKE: the text is matched as typed (no `%`/`_` wildcards), case-sensitively.
        q.push(" AND id IN (SELECT log_id FROM request_payloads WHERE instr(request, ")
            .push_bind(text.to_string())
            .push(") > 0 OR instr(response, ")
            .push_bind(text.to_string())
            .push(") > 0)");
    }
    if let Some(id) = f.cursor.as_deref().and_then(|c| c.parse::<i64>().ok()) {
        q.push(" AND id < ").push_bind(id);
    }
}

#[async_trait::async_trait]
impl LogStore for SqliteLogStore {
    async fn append(&self, batch: Arc<LogBatch>) -> Result<(), StoreError> {
        self.write.call(move |conn| log_write::append(conn, &batch)).await
    }

    async fn query(&self, filter: &LogFilter) -> Result<LogPage, StoreError> {
        let limit = filter.page_size();
        let mut q = QueryBuilder::<Sqlite>::new(concat!("SELECT ", columns!(), " FROM request_logs WHERE 1 = 1"));
        push_filters(&mut q, filter);
        // One more than a page tells whether there is a next one.
        q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit) + 1);
        let rows = q.build().fetch_all(&self.read).await.map_err(store_error)?;
        let more = rows.len() > limit as usize;
        let page = &rows[..rows.len().min(limit as usize)];
        let next_cursor =
            if more { page.last().and_then(|r| r.try_get::<i64, _>("id").ok()).map(|id| id.to_string()) } else { None };
        let data = page.iter().map(row_of).collect::<Result<_, _>>().map_err(store_error)?;
        Ok(LogPage { data, next_cursor })
    }

    async fn get(&self, request_id: &str) -> Result<Option<(LogRow, Option<StoredPayload>)>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM request_logs WHERE request_id = ?1 ORDER BY id DESC LIMIT 1"
        ))
        .bind(request_id)
        .fetch_optional(&self.read)
        .await
        .map_err(store_error)?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get("id").map_err(store_error)?;
        let log = row_of(&row).map_err(store_error)?;
        let payload = sqlx::query(
            "SELECT request, response, request_truncated, response_truncated FROM request_payloads WHERE log_id = ?1",
        )
        .bind(id)
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
        Ok(Some((log, payload)))
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
