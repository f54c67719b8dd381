//! The request log of `switchyard serve`: its own SQLite file, a writer that
//! never blocks a request, the hook that feeds it, and retention.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use switchyard_core::config::LoggingConfig;
use switchyard_core::observability::hook::Pricer;
use switchyard_core::observability::redact::Redaction;
use switchyard_core::observability::retention::{spawn_retention, Retention};
use switchyard_core::observability::{LogStore, LogWriter, Logs, PayloadPolicy, RequestLog};
use switchyard_core::Gateway;
use switchyard_store::SqliteLogStore;
use tokio::task::JoinHandle;

use crate::cli::ServeArgs;

pub struct Running {
    pub logs: Logs,
    file: Arc<SqliteLogStore>,
    retention: JoinHandle<()>,
}

const DAY: Duration = Duration::from_secs(86_400);

/// Opens the log, starts the writer and retention, and adds the hook to the gateway.
pub async fn start(
    args: &ServeArgs,
    mut config: LoggingConfig,
    pricer: Pricer,
    gateway: &Gateway,
) -> anyhow::Result<Running> {
    if let Some(days) = args.log_retention_days {
        anyhow::ensure!(days > 0, "--log-retention-days must be at least 1");
        config.retention_days = days;
    }
    if let Some(on) = args.log_payloads {
        config.payloads = on;
    }
    let file = Arc::new(
        SqliteLogStore::open_dir(&args.data_dir)
            .await
            .with_context(|| format!("opening the request log in {}", args.data_dir.display()))?,
    );
    let store: Arc<dyn LogStore> = file.clone();
    let redaction = Redaction::new(&config.redact_paths, config.redact_credentials, config.payload_max_bytes);
    let writer = Arc::new(LogWriter::start(store.clone(), redaction));
    let policy = PayloadPolicy { default_on: config.payloads, max_bytes: config.payload_max_bytes };
    gateway.add_hooks(Arc::new(RequestLog::new(writer.clone(), Some(pricer), policy)));
    let retention = spawn_retention(
        store.clone(),
        Retention {
            rows: DAY * u32::try_from(config.retention_days).unwrap_or(u32::MAX),
            payloads: DAY * u32::try_from(config.payload_retention_days).unwrap_or(u32::MAX),
            max_bytes: (config.max_size_mb > 0).then(|| config.max_size_mb.saturating_mul(1 << 20)),
        },
    );
    if config.payloads {
        tracing::info!(max_bytes = config.payload_max_bytes, "request payloads are stored in the request log");
    }
    Ok(Running { logs: Logs { store, writer }, file, retention })
}

impl Running {
    /// Writes what is queued (requests have settled by now) and closes the file.
    pub async fn stop(self) {
        self.retention.abort();
        self.logs.writer.shutdown().await;
        self.file.close().await;
    }
}
