//! What the request log needs from persistence. Its own database (file),
//! so a burst of log writes never waits on, or holds up, configuration writes.

use super::record::{LogFilter, LogPage, LogRow};
use crate::config_service::StoreError;

#[async_trait::async_trait]
pub trait LogStore: Send + Sync {
    /// Appends rows in one transaction.
    async fn append(&self, rows: &[LogRow]) -> Result<(), StoreError>;
    /// Rows matching `filter`, newest first, one page. The caller has
    /// validated the filter ([`LogFilter::status_class`], [`LogFilter::bound`]).
    async fn query(&self, filter: &LogFilter) -> Result<LogPage, StoreError>;
    async fn get(&self, request_id: &str) -> Result<Option<LogRow>, StoreError>;
    /// Deletes up to `batch` rows older than `before_ms`; how many went.
    async fn prune(&self, before_ms: u64, batch: u32) -> Result<u64, StoreError>;
}
