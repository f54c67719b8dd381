//! Retention of the request log by age: pruned in small batches (a long
//! DELETE would hold the log file's write lock), once an hour and at start.

use std::sync::Arc;
use std::time::Duration;

use super::store::LogStore;
use crate::governance::period::now_ms;

/// Rows deleted per statement.
pub const PRUNE_BATCH: u32 = 5_000;

/// Deletes every row older than `keep`, batch by batch; how many went.
pub async fn prune_older_than(store: &dyn LogStore, keep: Duration) -> u64 {
    let before = now_ms().saturating_sub(u64::try_from(keep.as_millis()).unwrap_or(u64::MAX));
    let mut total = 0;
    loop {
        match store.prune(before, PRUNE_BATCH).await {
            Ok(n) => {
                total += n;
                if n < u64::from(PRUNE_BATCH) {
                    return total;
                }
                // Let the writer's batches in between.
                tokio::task::yield_now().await;
            }
            Err(e) => {
                tracing::warn!("request log retention: {e}");
                return total;
            }
        }
    }
}

/// Prunes at start and every hour.
pub fn spawn_retention(store: Arc<dyn LogStore>, keep: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let n = prune_older_than(store.as_ref(), keep).await;
            if n > 0 {
                tracing::info!(rows = n, "request log rows past retention pruned");
            }
        }
    })
}
