//! The request log's hourly rollups in SQLite: upserted by the writer in
//! the batch's transaction (one writer connection, so the read-merge-write
//! of a histogram never races), read by `GET /api/usage`.

use sqlx::sqlite::SqlitePool;
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};
use switchyard_core::config_service::StoreError;
use switchyard_core::observability::rollup::{Counts, Histogram, Rollup, RollupKey, UsageFilter};

use crate::queries::{int, store_error, uint};

/// Adds each delta to its hour's row.
pub(crate) async fn upsert(tx: &mut Transaction<'_, Sqlite>, rollups: &[Rollup]) -> Result<(), StoreError> {
    for r in rollups {
        let k = &r.key;
        let existing = sqlx::query(
            "SELECT duration_hist, ttft_hist FROM usage_hourly WHERE hour_ms = ?1 AND provider = ?2 AND model = ?3 \
             AND route = ?4 AND key_id = ?5 AND team = ?6 AND user = ?7 AND status_class = ?8",
        )
        .bind(int(k.hour_ms))
        .bind(&k.provider)
        .bind(&k.model)
        .bind(&k.route)
        .bind(&k.key_id)
        .bind(&k.team)
        .bind(&k.user)
        .bind(&k.status_class)
        .fetch_optional(&mut **tx)
        .await
        .map_err(store_error)?;
        let (mut duration, mut ttft) = (r.counts.duration, r.counts.ttft);
        if let Some(row) = existing {
            duration.merge(&Histogram::decode(&row.try_get::<String, _>("duration_hist").map_err(store_error)?));
            ttft.merge(&Histogram::decode(&row.try_get::<String, _>("ttft_hist").map_err(store_error)?));
        }
        let c = &r.counts;
        sqlx::query(
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
        )
        .bind(int(k.hour_ms))
        .bind(&k.provider)
        .bind(&k.model)
        .bind(&k.route)
        .bind(&k.key_id)
        .bind(&k.team)
        .bind(&k.user)
        .bind(&k.status_class)
        .bind(&r.key_name)
        .bind(int(c.requests))
        .bind(int(c.errors))
        .bind(int(c.input_tokens))
        .bind(int(c.output_tokens))
        .bind(int(c.cache_read_tokens))
        .bind(int(c.cache_write_tokens))
        .bind(int(c.reasoning_tokens))
        .bind(c.cost_usd)
        .bind(int(c.unpriced))
        .bind(duration.encode())
        .bind(ttft.encode())
        .execute(&mut **tx)
        .await
        .map_err(store_error)?;
    }
    Ok(())
}

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
