//! Observability: one narrow row per request, written at *settle* by a
//! background writer that never blocks a request.
//!
//! - [`record`]: [`LogRow`], the row, and what the log API filters by.
//! - [`store`]: [`LogStore`], the persistence the writer and the API need
//!   (SQLite in its own file now; Postgres with many replicas).
//! - [`writer`]: the bounded queue and batch writer; drops are counted, never waited on.
//! - [`retention`]: rows older than the retention pruned in small batches.
//! - [`hook`]: [`RequestLog`], the hook that asks for payloads and turns an outcome into a row.
//! - [`metrics`]: Prometheus request metrics (a settle hook); [`collectors`]: the
//!   writer's and the process's, read at scrape.
//! - [`redact`]: stored payloads' redaction and caps.
//! - [`rollup`]: hourly usage rollups, and the usage report built from them.
//! - [`trace`]: OpenTelemetry spans per request and attempt, exported over OTLP.

pub mod collectors;
pub mod hook;
pub mod metrics;
pub mod record;
pub mod redact;
pub mod retention;
pub mod rollup;
pub mod store;
pub mod trace;
pub mod writer;

pub use hook::{PayloadPolicy, RequestLog};
pub use record::{AttemptDetail, LogFilter, LogPage, LogRow, StoredPayload};
pub use store::LogStore;
pub use writer::{LogBatch, LogEntry, LogWriter, WriterStats};

/// The request log as the API reads it: the store, and the writer's live tail.
#[derive(Clone)]
pub struct Logs {
    pub store: std::sync::Arc<dyn LogStore>,
    pub writer: std::sync::Arc<LogWriter>,
}

/// A duration as log lines show it: milliseconds, to the microsecond.
pub fn log_ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}
