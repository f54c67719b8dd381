//! Retention of the request log: rows by age, payloads by (a shorter) age,
//! rollups by a long age, and the whole log by size — each pruned in small
//! batches (a long DELETE would hold the log file's write lock), at start
//! and every hour.

use std::sync::Arc;
use std::time::Duration;

use super::store::LogStore;
use crate::config_service::StoreError;
use crate::governance::period::now_ms;

/// Rows deleted per statement.
pub const PRUNE_BATCH: u32 = 5_000;
/// Rows deleted per step while the log is over its size cap (small: the
/// size is measured between steps, so the cut stays close to the cap).
pub const SIZE_BATCH: u32 = 100;
/// Hourly rollups are small: kept for 400 days (a year-on-year view).
pub const ROLLUP_KEEP: Duration = Duration::from_secs(400 * 86_400);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub rows: Duration,
    pub payloads: Duration,
    /// Live bytes the log may hold; `None`: no cap.
    pub max_bytes: Option<u64>,
}

/// What one pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub rows: u64,
    pub payloads: u64,
    pub rows_for_size: u64,
}

fn before(keep: Duration) -> u64 {
    now_ms().saturating_sub(u64::try_from(keep.as_millis()).unwrap_or(u64::MAX))
}

/// Repeats `step` (one batch) until a batch comes back short.
async fn batches<F, Fut>(mut step: F) -> Result<u64, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<u64, StoreError>>,
{
    let mut total = 0;
    loop {
        let n = step().await?;
        total += n;
        if n < u64::from(PRUNE_BATCH) {
            return Ok(total);
        }
        // Let the writer's batches in between.
        tokio::task::yield_now().await;
    }
}

/// One retention pass.
pub async fn prune(store: &dyn LogStore, r: &Retention) -> Result<Pruned, StoreError> {
    let rows_before = before(r.rows);
    let payloads_before = before(r.payloads);
    let rows = batches(|| store.prune(rows_before, PRUNE_BATCH)).await?;
    let payloads = batches(|| store.prune_payloads(payloads_before, PRUNE_BATCH)).await?;
    store.prune_rollups(before(ROLLUP_KEEP)).await?;
    let mut rows_for_size = 0;
    if let Some(cap) = r.max_bytes {
        // Deleting frees pages for reuse; the live size is what the cap is on.
        while store.size_bytes().await? > cap {
            let n = store.prune_oldest(SIZE_BATCH).await?;
            rows_for_size += n;
            if n == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    Ok(Pruned { rows, payloads, rows_for_size })
}

/// Prunes at start and every hour.
pub fn spawn_retention(store: Arc<dyn LogStore>, r: Retention) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            match prune(store.as_ref(), &r).await {
                Ok(p) if p != Pruned::default() => tracing::info!(
                    rows = p.rows,
                    payloads = p.payloads,
                    rows_for_size = p.rows_for_size,
                    "request log pruned (retention)"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!("request log retention: {e}"),
            }
        }
    })
}
