//! What the request log needs from persistence. Its own database (file),
//! so a burst of log writes never waits on, or holds up, configuration writes.

use std::sync::Arc;

use super::record::{LogFilter, LogPage, LogRow, StoredPayload};
use super::rollup::{Rollup, UsageFilter};
use crate::config_service::StoreError;

/// What one append writes: rows (with their payloads) and the rollup deltas they add up to.
#[derive(Debug, Default)]
pub struct LogBatch {
    pub rows: Vec<(LogRow, Option<StoredPayload>)>,
    pub rollups: Vec<Rollup>,
}

#[async_trait::async_trait]
pub trait LogStore: Send + Sync {
    /// Appends rows, their payloads and the rollup deltas in one transaction.
    /// Shared, not borrowed: a store may hand it to a thread of its own, and
    /// the writer keeps it for one retry.
    async fn append(&self, batch: Arc<LogBatch>) -> Result<(), StoreError>;
    /// Rows matching `filter`, newest first, one page. The caller has
    /// validated the filter ([`LogFilter::validate`]).
    async fn query(&self, filter: &LogFilter) -> Result<LogPage, StoreError>;
    /// The newest row with this request id, and its payload if stored.
    async fn get(&self, request_id: &str) -> Result<Option<(LogRow, Option<StoredPayload>)>, StoreError>;
    /// Hourly rollups in the filter's range (hours starting in it) and dimensions.
    async fn usage(&self, filter: &UsageFilter) -> Result<Vec<Rollup>, StoreError>;
    /// Deletes up to `batch` rows (with their payloads) older than `before_ms`; how many went.
    async fn prune(&self, before_ms: u64, batch: u32) -> Result<u64, StoreError>;
    /// Deletes up to `batch` payloads of rows older than `before_ms` (the rows stay).
    async fn prune_payloads(&self, before_ms: u64, batch: u32) -> Result<u64, StoreError>;
    /// Deletes rollups of hours before `before_ms`.
    async fn prune_rollups(&self, before_ms: u64) -> Result<u64, StoreError>;
    /// Deletes the `batch` oldest rows (the size cap's lever).
    async fn prune_oldest(&self, batch: u32) -> Result<u64, StoreError>;
    /// Bytes the log's live data takes (not counting free pages).
    async fn size_bytes(&self) -> Result<u64, StoreError>;
}
