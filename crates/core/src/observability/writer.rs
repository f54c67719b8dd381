//! The request log's writer: a bounded queue in front of one task that
//! appends in batches (at 1,000 rows or every 200 ms, whichever comes first).
//! A request only ever `try_send`s: when the queue is full the row is dropped
//! and counted, never waited for. A batch the store refuses is retried once,
//! then dropped and counted. `shutdown` drains the queue into the store.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::record::LogRow;
use super::store::LogStore;

pub const QUEUE: usize = 50_000;
pub const BATCH: usize = 1_000;
pub const EVERY: Duration = Duration::from_millis(200);

/// What the writer did since start (for metrics and the API).
#[derive(Debug, Default)]
pub struct WriterStats {
    pub written: AtomicU64,
    /// Rows lost to a full queue.
    pub dropped_full: AtomicU64,
    /// Rows lost to a store that refused them twice.
    pub dropped_failed: AtomicU64,
}

pub struct LogWriter {
    tx: mpsc::Sender<LogRow>,
    stats: Arc<WriterStats>,
    stop: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

impl LogWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Arc<dyn LogStore>) -> Self {
        Self::start_with(store, QUEUE, BATCH, EVERY)
    }

    pub fn start_with(store: Arc<dyn LogStore>, queue: usize, batch: usize, every: Duration) -> Self {
        let (tx, rx) = mpsc::channel(queue.max(1));
        let (stop_tx, stop_rx) = oneshot::channel();
        let stats = Arc::new(WriterStats::default());
        let task = tokio::spawn(run(store, rx, stop_rx, batch.max(1), every, stats.clone()));
        Self { tx, stats, stop: Mutex::new(Some((stop_tx, task))) }
    }

    /// Queues a row; never waits. A full queue drops it (counted).
    pub fn submit(&self, row: LogRow) {
        // The first drop is logged; the rest are only counted (a full queue is a burst).
        if self.tx.try_send(row).is_err() && self.stats.dropped_full.fetch_add(1, Ordering::Relaxed) == 0 {
            tracing::error!("request log queue is full: rows are being dropped (counted in the writer's stats)");
        }
    }

    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Writes everything queued, then stops the task.
    pub async fn shutdown(&self) {
        let stop = self.stop.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some((tx, task)) = stop {
            let _ = tx.send(());
            let _ = task.await;
        }
    }
}

async fn run(
    store: Arc<dyn LogStore>,
    mut rx: mpsc::Receiver<LogRow>,
    mut stop: oneshot::Receiver<()>,
    batch: usize,
    every: Duration,
    stats: Arc<WriterStats>,
) {
    let mut buf: Vec<LogRow> = Vec::with_capacity(batch);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let room = batch.saturating_sub(buf.len()).max(1);
        tokio::select! {
            biased;
            _ = &mut stop => {
                rx.close();
                while let Some(row) = rx.recv().await {
                    buf.push(row);
                    if buf.len() >= batch {
                        flush(store.as_ref(), &mut buf, &stats).await;
                    }
                }
                flush(store.as_ref(), &mut buf, &stats).await;
                return;
            }
            n = rx.recv_many(&mut buf, room) => {
                if n == 0 {
                    flush(store.as_ref(), &mut buf, &stats).await;
                    return;
                }
                if buf.len() >= batch {
                    flush(store.as_ref(), &mut buf, &stats).await;
                }
            }
            _ = tick.tick() => {
                if !buf.is_empty() {
                    flush(store.as_ref(), &mut buf, &stats).await;
                }
            }
        }
    }
}

async fn flush(store: &dyn LogStore, buf: &mut Vec<LogRow>, stats: &WriterStats) {
    if buf.is_empty() {
        return;
    }
    let n = buf.len() as u64;
    let mut result = store.append(buf).await;
    if let Err(e) = &result {
        tracing::warn!(rows = n, "request log write failed, retrying once: {e}");
        tokio::time::sleep(Duration::from_millis(100)).await;
        result = store.append(buf).await;
    }
    match result {
        Ok(()) => {
            stats.written.fetch_add(n, Ordering::Relaxed);
        }
        Err(e) => {
            stats.dropped_failed.fetch_add(n, Ordering::Relaxed);
            tracing::error!(rows = n, "request log rows dropped: the store refused them twice: {e}");
        }
    }
    buf.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config_service::StoreError;
    use crate::observability::record::{LogFilter, LogPage};

    /// A store that holds every append until released, and counts what it kept.
    #[derive(Default)]
    struct Stalled {
        open: tokio::sync::Notify,
        kept: Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl LogStore for Stalled {
        async fn append(&self, rows: &[LogRow]) -> Result<(), StoreError> {
            self.open.notified().await;
            self.open.notify_one();
            self.kept.lock().unwrap().extend(rows.iter().map(|r| r.request_id.clone()));
            Ok(())
        }
        async fn query(&self, _: &LogFilter) -> Result<LogPage, StoreError> {
            Ok(LogPage { data: vec![], next_cursor: None })
        }
        async fn get(&self, _: &str) -> Result<Option<LogRow>, StoreError> {
            Ok(None)
        }
        async fn prune(&self, _: u64, _: u32) -> Result<u64, StoreError> {
            Ok(0)
        }
    }

    fn row(i: usize) -> LogRow {
        serde_json::from_value(serde_json::json!({"request_id": format!("r{i}"), "started_at": "", "started_at_ms": 0,
            "duration_ms": 0, "ttft_ms": null, "inbound": "openai.chat", "route": null, "provider": null, "model": "m",
            "served_model": null, "stream": false, "attempts": 1, "status": 200, "end": "completed", "error_code": null,
            "input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0, "reasoning_tokens": 0,
            "usage_estimated": false, "cost_usd": null, "key_id": null, "key_name": null, "team": null, "user": null,
            "tags": {}, "user_agent": null}))
        .unwrap()
    }

    #[tokio::test]
    async fn a_stalled_store_never_blocks_a_request_and_drops_are_counted() {
        let store = Arc::new(Stalled::default());
        let writer = LogWriter::start_with(store.clone(), 10, 4, Duration::from_millis(5));
        let started = std::time::Instant::now();
        for i in 0..100 {
            writer.submit(row(i));
            tokio::task::yield_now().await;
        }
        assert!(started.elapsed() < Duration::from_secs(2), "submitting never waited on the store");
        let dropped = writer.stats().dropped_full.load(Ordering::Relaxed);
        assert!(dropped >= 80, "the queue holds 10 and one batch is in flight: {dropped} dropped");
        store.open.notify_one();
        writer.shutdown().await;
        let kept = store.kept.lock().unwrap().len() as u64;
        assert_eq!(kept + dropped, 100, "every row is either written or counted as dropped");
        assert_eq!(writer.stats().written.load(Ordering::Relaxed), kept);
    }
}
