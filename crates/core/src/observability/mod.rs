//! Observability: one narrow row per request, written at *settle* by a
//! background writer that never blocks a request.
//!
//! - [`record`]: [`LogRow`], the row, and what the log API filters by.
//! - [`store`]: [`LogStore`], the persistence the writer and the API need
//!   (SQLite in its own file now; Postgres with many replicas).
//! - [`writer`]: the bounded queue and batch writer; drops are counted, never waited on.
//! - [`retention`]: rows older than the retention pruned in small batches.
//! - [`hook`]: [`RequestLog`], the settle hook that turns an outcome into a row.
//! - [`trace`]: OpenTelemetry spans per request and attempt, exported over OTLP.

pub mod hook;
pub mod record;
pub mod retention;
pub mod store;
pub mod trace;
pub mod writer;

pub use hook::RequestLog;
pub use record::{LogFilter, LogPage, LogRow};
pub use store::LogStore;
pub use writer::{LogWriter, WriterStats};

/// A duration as log lines show it: milliseconds, to the microsecond.
pub fn log_ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}
