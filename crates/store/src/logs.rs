//! The core [`LogStore`] over its own SQLite file (`logs.db`): WAL, and
//! `synchronous=NORMAL` — a power cut may lose the last batch of log rows,
//! never corrupt the file, and each batch costs no fsync (configuration
//! writes keep `FULL` in their own file). One writer connection (the log
//! writer's), a small read pool for the API.
//!
//! [`LogStore`]: switchyard_core::observability::LogStore

use std::path::Path;
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

use crate::queries::{int, store_error, uint};
use crate::OpenError;

/// Rows per multi-row INSERT (32 values each); the rest of a batch goes one
/// row per statement. Two statement shapes only: every shape is a prepared
/// statement the connection caches, and a big one is costly to prepare and hold.
const ROWS_PER_INSERT: usize = 64;

static MIGRATOR: Migrator = sqlx::migrate!("./log_migrations");

/// The columns a row is read from, spelt once (statements are built from literals only).
macro_rules! columns {
    () => {
        "id, request_id, started_at_ms, duration_ms, ttft_ms, inbound, route, provider, model, served_model, \
         stream, attempts, status, end_state, error_code, input_tokens, output_tokens, cache_read_tokens, \
         cache_write_tokens, reasoning_tokens, usage_estimated, cost_usd, key_id, key_name, team, user, tags, user_agent, \
         fallback_index, retries, attempt_details, has_payload"
    };
}

/// Whole chunks of [`ROWS_PER_INSERT`], then single rows.
fn shapes<T>(all: &[T]) -> impl Iterator<Item = &[T]> {
    let whole = all.len() - all.len() % ROWS_PER_INSERT;
    all[..whole].chunks(ROWS_PER_INSERT).chain(all[whole..].chunks(1))
}

pub struct SqliteLogStore {
    write: SqlitePool,
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
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            // The writer's page cache holds the indexes' hot pages (8 MiB, filled
            // only as the log grows): a miss costs a read on every insert.
            .connect_with(file.clone().create_if_missing(true).pragma("cache_size", "-8192"))
            .await?;
        MIGRATOR.run(&write).await?;
        // Readers (the log API) come and go: opened on first use, closed when
        // idle, so an idle gateway holds no reader (each is a thread and a page cache).
        let read = SqlitePoolOptions::new()
            .max_connections(2)
            .min_connections(0)
            .idle_timeout(Some(Duration::from_secs(60)))
            .connect_lazy_with(file.pragma("query_only", "ON"));
        Ok(Self { write, read })
    }

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
    async fn append(&self, batch: &LogBatch) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await.map_err(store_error)?;
        // Ids are given here, not by SQLite, so a payload can name its row
        // without a round trip per row (one writer: nothing races the max).
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM request_logs")
            .fetch_one(&mut *tx)
            .await
            .map_err(store_error)?;
        let ids = (last + 1..).zip(batch.rows.iter());
        let rows: Vec<_> = ids.collect();
        // Multi-row statements: per-statement overhead, not per-row work, is what a busy log pays for.
        for chunk in shapes(&rows) {
            let mut q = QueryBuilder::<Sqlite>::new(concat!("INSERT INTO request_logs (", columns!(), ") "));
            q.push_values(chunk, |mut b, (id, (r, payload))| {
                b.push_bind(*id)
                    .push_bind(&r.request_id)
                    .push_bind(int(r.started_at_ms))
                    .push_bind(int(r.duration_ms))
                    .push_bind(r.ttft_ms.map(int))
                    .push_bind(&r.inbound)
                    .push_bind(&r.route)
                    .push_bind(&r.provider)
                    .push_bind(&r.model)
                    .push_bind(&r.served_model)
                    .push_bind(r.stream)
                    .push_bind(i64::from(r.attempts))
                    .push_bind(i64::from(r.status))
                    .push_bind(&r.end)
                    .push_bind(&r.error_code)
                    .push_bind(int(r.input_tokens))
                    .push_bind(int(r.output_tokens))
                    .push_bind(int(r.cache_read_tokens))
                    .push_bind(int(r.cache_write_tokens))
                    .push_bind(int(r.reasoning_tokens))
                    .push_bind(r.usage_estimated)
                    .push_bind(r.cost_usd)
                    .push_bind(&r.key_id)
                    .push_bind(&r.key_name)
                    .push_bind(&r.team)
                    .push_bind(&r.user)
                    .push_bind(serde_json::to_string(&r.tags).unwrap_or_else(|_| "{}".into()))
                    .push_bind(&r.user_agent)
                    .push_bind(i64::from(r.fallback_index))
                    .push_bind(i64::from(r.retries))
                    .push_bind(serde_json::to_string(&r.attempt_details).unwrap_or_else(|_| "[]".into()))
                    .push_bind(r.has_payload && payload.is_some());
            });
            q.build().execute(&mut *tx).await.map_err(store_error)?;
        }
        let payloads: Vec<_> = rows.iter().filter_map(|(id, (r, p))| p.as_ref().map(|p| (*id, r, p))).collect();
        for chunk in shapes(&payloads) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT INTO request_payloads (log_id, started_at_ms, request, response, request_truncated, response_truncated) ",
            );
            q.push_values(chunk, |mut b, (id, r, p)| {
                b.push_bind(*id)
                    .push_bind(int(r.started_at_ms))
                    .push_bind(&p.request)
                    .push_bind(&p.response)
                    .push_bind(p.request_truncated)
                    .push_bind(p.response_truncated);
            });
            q.build().execute(&mut *tx).await.map_err(store_error)?;
        }
        crate::usage::upsert(&mut tx, &batch.rollups).await?;
        tx.commit().await.map_err(store_error)
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
        let done = sqlx::query(
            "DELETE FROM request_logs WHERE id IN (SELECT id FROM request_logs WHERE started_at_ms < ?1 ORDER BY id LIMIT ?2)",
        )
        .bind(int(before_ms))
        .bind(i64::from(batch))
        .execute(&self.write)
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected())
    }

    async fn prune_payloads(&self, before_ms: u64, batch: u32) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM request_payloads WHERE log_id IN \
             (SELECT log_id FROM request_payloads WHERE started_at_ms < ?1 ORDER BY log_id LIMIT ?2)",
        )
        .bind(int(before_ms))
        .bind(i64::from(batch))
        .execute(&self.write)
        .await
        .map_err(store_error)?;
        if done.rows_affected() > 0 {
            // The rows stay; they no longer have a payload to show.
            sqlx::query(
                "UPDATE request_logs SET has_payload = 0 WHERE has_payload = 1 AND started_at_ms < ?1 \
                 AND id NOT IN (SELECT log_id FROM request_payloads)",
            )
            .bind(int(before_ms))
            .execute(&self.write)
            .await
            .map_err(store_error)?;
        }
        Ok(done.rows_affected())
    }

    async fn prune_rollups(&self, before_ms: u64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM usage_hourly WHERE hour_ms < ?1")
            .bind(int(before_ms))
            .execute(&self.write)
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected())
    }

    async fn prune_oldest(&self, batch: u32) -> Result<u64, StoreError> {
        let done =
            sqlx::query("DELETE FROM request_logs WHERE id IN (SELECT id FROM request_logs ORDER BY id LIMIT ?1)")
                .bind(i64::from(batch))
                .execute(&self.write)
                .await
                .map_err(store_error)?;
        Ok(done.rows_affected())
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
