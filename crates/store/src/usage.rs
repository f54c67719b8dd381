//! The request log's hourly rollups in SQLite as `GET /api/usage` reads
//! them (the writer upserts them in each batch's transaction: `log_write`).

use sqlx::sqlite::SqlitePool;
use sqlx::{QueryBuilder, Row, Sqlite};
use switchyard_core::config_service::StoreError;
use switchyard_core::observability::rollup::{Counts, Histogram, Rollup, RollupKey, UsageFilter};

use crate::queries::{int, store_error, uint};

/// Rollups of the hours that start in `[since, until)`, narrowed by the filter's dimensions.
pub(crate) async fn select(pool: &SqlitePool, f: &UsageFilter) -> Result<Vec<Rollup>, StoreError> {
    let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM usage_hourly WHERE hour_ms >= ");
    q.push_bind(int(f.since_ms)).push(" AND hour_ms < ").push_bind(int(f.until_ms));
    for (column, v) in [
        ("provider", &f.provider),
        ("model", &f.model),
        ("route", &f.route),
        ("key_id", &f.key),
        ("team", &f.team),
        ("user", &f.user),
    ] {
        if let Some(v) = v {
            // Column names are literals here, never input.
            q.push(" AND ").push(column).push(" = ").push_bind(v.clone());
        }
    }
    q.push(" ORDER BY hour_ms");
    let rows = q.build().fetch_all(pool).await.map_err(store_error)?;
    rows.iter()
        .map(|r| -> Result<Rollup, sqlx::Error> {
            Ok(Rollup {
                key: RollupKey {
                    hour_ms: uint(r.try_get("hour_ms")?),
                    provider: r.try_get("provider")?,
                    model: r.try_get("model")?,
                    route: r.try_get("route")?,
                    key_id: r.try_get("key_id")?,
                    team: r.try_get("team")?,
                    user: r.try_get("user")?,
                    status_class: r.try_get("status_class")?,
                },
                key_name: r.try_get("key_name")?,
                counts: Counts {
                    requests: uint(r.try_get("requests")?),
                    errors: uint(r.try_get("errors")?),
                    input_tokens: uint(r.try_get("input_tokens")?),
                    output_tokens: uint(r.try_get("output_tokens")?),
                    cache_read_tokens: uint(r.try_get("cache_read_tokens")?),
                    cache_write_tokens: uint(r.try_get("cache_write_tokens")?),
                    reasoning_tokens: uint(r.try_get("reasoning_tokens")?),
                    cost_usd: r.try_get("cost_usd")?,
                    unpriced: uint(r.try_get("unpriced")?),
                    duration: Histogram::decode(&r.try_get::<String, _>("duration_hist")?),
                    ttft: Histogram::decode(&r.try_get::<String, _>("ttft_hist")?),
                },
            })
        })
        .collect::<Result<_, _>>()
        .map_err(store_error)
}
