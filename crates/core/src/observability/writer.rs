//! The request log's writer: a bounded queue in front of one task that
//! appends in batches (at 1,000 rows or every 200 ms, whichever comes first),
//! with the batch's hourly rollups in the same transaction. A request only
//! ever `try_send`s: under pressure payloads are dropped first (over half the
//! queue used, or too many payload bytes queued), then whole rows when the
//! queue is full — each counted, never waited for. Payloads are redacted and
//! capped here, off the request's path. A batch the store refuses is retried
//! once, then dropped and counted. `shutdown` drains the queue into the store.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

use super::record::LogRow;
use super::redact::Redaction;
use super::rollup::fold;
use super::store::{LogBatch, LogStore};
use crate::capture::CapturedPayload;

pub const QUEUE: usize = 50_000;
pub const BATCH: usize = 1_000;
pub const EVERY: Duration = Duration::from_millis(200);
/// Payload bytes that may wait in the queue; past it new payloads are dropped.
pub const PAYLOAD_BYTES: usize = 64 << 20;
/// Rows a live tail may fall behind by before it is told it missed some.
const TAIL: usize = 1024;

/// What the writer did since start (for metrics and the API).
#[derive(Debug, Default)]
pub struct WriterStats {
    pub written: AtomicU64,
    /// Rows lost to a full queue.
    pub dropped_full: AtomicU64,
    /// Rows lost to a store that refused them twice.
    pub dropped_failed: AtomicU64,
    /// Payloads not stored (their rows were) because the queue was under pressure.
    pub payloads_dropped: AtomicU64,
}

/// One settled request on its way to the store.
pub struct LogEntry {
    pub row: LogRow,
    pub payload: Option<CapturedPayload>,
}

pub struct LogWriter {
    tx: mpsc::Sender<LogEntry>,
    capacity: usize,
    batch: usize,
    /// Tells the writer a whole batch is waiting.
    wake: Arc<Notify>,
    stats: Arc<WriterStats>,
    queued_payload_bytes: Arc<AtomicUsize>,
    tail: broadcast::Sender<Arc<LogRow>>,
    stop: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
}

/// How the writer batches.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    pub queue: usize,
    pub batch: usize,
    pub every: Duration,
}

impl Default for Batching {
    fn default() -> Self {
        Self { queue: QUEUE, batch: BATCH, every: EVERY }
    }
}

impl LogWriter {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Arc<dyn LogStore>, redaction: Redaction) -> Self {
        Self::start_with(store, redaction, Batching::default())
    }

    pub fn start_with(store: Arc<dyn LogStore>, redaction: Redaction, b: Batching) -> Self {
        let capacity = b.queue.max(1);
        let (tx, rx) = mpsc::channel(capacity);
        let (stop_tx, stop_rx) = oneshot::channel();
        let stats = Arc::new(WriterStats::default());
        let queued = Arc::new(AtomicUsize::new(0));
        let task = Task {
            store,
            redaction,
            batch: b.batch.max(1),
            every: b.every,
            stats: stats.clone(),
            queued_payload_bytes: queued.clone(),
        };
        let wake = Arc::new(Notify::new());
        let task = tokio::spawn(task.run(rx, stop_rx, wake.clone()));
        let (tail, _) = broadcast::channel(TAIL);
        Self {
            tx,
            capacity,
            batch: b.batch.max(1),
            wake,
            stats,
            queued_payload_bytes: queued,
            tail,
            stop: Mutex::new(Some((stop_tx, task))),
        }
    }

    /// Queues a row (and its payload); never waits.
    pub fn submit(&self, mut entry: LogEntry) {
        let mut stripped = false;
        let mut queued_bytes = 0;
        if let Some(p) = &entry.payload {
            let bytes = p.request.len() + p.response.len();
            let pressed = self.tx.capacity() < self.capacity / 2
                || self.queued_payload_bytes.load(Ordering::Relaxed) + bytes > PAYLOAD_BYTES;
            if pressed {
                entry.payload = None;
                entry.row.has_payload = false;
                stripped = true;
            } else {
                queued_bytes = bytes;
                self.queued_payload_bytes.fetch_add(bytes, Ordering::Relaxed);
            }
        }
        if self.tail.receiver_count() > 0 {
            let _ = self.tail.send(Arc::new(entry.row.clone()));
        }
        match self.tx.try_send(entry) {
            Ok(()) => {
                if stripped {
                    self.stats.payloads_dropped.fetch_add(1, Ordering::Relaxed);
                }
                if self.queue_depth() >= self.batch {
                    self.wake.notify_one();
                }
            }
            Err(_) => {
                self.queued_payload_bytes.fetch_sub(queued_bytes, Ordering::Relaxed);
                // The first drop is logged; the rest are only counted (a full queue is a burst).
                if self.stats.dropped_full.fetch_add(1, Ordering::Relaxed) == 0 {
                    tracing::error!("request log queue is full: rows are being dropped (switchyard_log_dropped_total)");
                }
            }
        }
    }

    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Rows waiting to be written.
    pub fn queue_depth(&self) -> usize {
        self.capacity - self.tx.capacity()
    }

    /// New rows as they settle (before they are written), for a live tail.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LogRow>> {
        self.tail.subscribe()
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

struct Task {
    store: Arc<dyn LogStore>,
    redaction: Redaction,
    batch: usize,
    every: Duration,
    stats: Arc<WriterStats>,
    queued_payload_bytes: Arc<AtomicUsize>,
}

impl Task {
    /// Wakes on the tick, or when a batch is waiting — not at every row:
    /// a busy gateway would otherwise wake this task once per request.
    async fn run(self, mut rx: mpsc::Receiver<LogEntry>, mut stop: oneshot::Receiver<()>, wake: Arc<Notify>) {
        let mut buf: Vec<LogEntry> = Vec::with_capacity(self.batch);
        let mut tick = tokio::time::interval(self.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => {
                    rx.close();
                    while let Some(entry) = rx.recv().await {
                        buf.push(entry);
                        if buf.len() >= self.batch {
                            self.flush(&mut buf).await;
                        }
                    }
                    self.flush(&mut buf).await;
                    return;
                }
                _ = wake.notified() => {}
                _ = tick.tick() => {}
            }
            loop {
                match rx.try_recv() {
                    Ok(entry) => {
                        buf.push(entry);
                        if buf.len() >= self.batch {
                            self.flush(&mut buf).await;
                        }
                    }
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        self.flush(&mut buf).await;
                        return;
                    }
                }
            }
            self.flush(&mut buf).await;
        }
    }

    async fn flush(&self, buf: &mut Vec<LogEntry>) {
        if buf.is_empty() {
            return;
        }
        let n = buf.len() as u64;
        let mut batch = LogBatch { rows: Vec::with_capacity(buf.len()), rollups: Vec::new() };
        for e in buf.drain(..) {
            let stored = e.payload.map(|p| {
                self.queued_payload_bytes.fetch_sub(p.request.len() + p.response.len(), Ordering::Relaxed);
                self.redaction.apply(&p)
            });
            batch.rows.push((e.row, stored));
        }
        batch.rollups = fold(batch.rows.iter().map(|(r, _)| r));
        let batch = Arc::new(batch);
        let mut result = self.store.append(Arc::clone(&batch)).await;
        if let Err(e) = &result {
            tracing::warn!(rows = n, "request log write failed, retrying once: {e}");
            tokio::time::sleep(Duration::from_millis(100)).await;
            result = self.store.append(batch).await;
        }
        match result {
            Ok(()) => {
                self.stats.written.fetch_add(n, Ordering::Relaxed);
            }
            Err(e) => {
                self.stats.dropped_failed.fetch_add(n, Ordering::Relaxed);
                tracing::error!(rows = n, "request log rows dropped: the store refused them twice: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config_service::StoreError;
    use crate::observability::record::{sample_row, LogFilter, LogPage, StoredPayload};
    use crate::observability::rollup::{Rollup, UsageFilter};

    /// A store that holds every append until released, and counts what it kept.
    #[derive(Default)]
    struct Stalled {
        open: tokio::sync::Notify,
        kept: Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl LogStore for Stalled {
        async fn append(&self, batch: Arc<LogBatch>) -> Result<(), StoreError> {
            self.open.notified().await;
            self.open.notify_one();
            self.kept.lock().unwrap().extend(batch.rows.iter().map(|(r, _)| r.request_id.clone()));
            Ok(())
        }
        async fn query(&self, _: &LogFilter) -> Result<LogPage, StoreError> {
            Ok(LogPage { data: vec![], next_cursor: None })
        }
        async fn get(&self, _: &str) -> Result<Option<(LogRow, Option<StoredPayload>)>, StoreError> {
            Ok(None)
        }
        async fn usage(&self, _: &UsageFilter) -> Result<Vec<Rollup>, StoreError> {
            Ok(vec![])
        }
        async fn prune(&self, _: u64, _: u32) -> Result<u64, StoreError> {
            Ok(0)
        }
        async fn prune_payloads(&self, _: u64, _: u32) -> Result<u64, StoreError> {
            Ok(0)
        }
        async fn prune_rollups(&self, _: u64) -> Result<u64, StoreError> {
            Ok(0)
        }
        async fn prune_oldest(&self, _: u32) -> Result<u64, StoreError> {
            Ok(0)
        }
        async fn size_bytes(&self) -> Result<u64, StoreError> {
            Ok(0)
        }
    }

    fn entry(i: usize, payload: bool) -> LogEntry {
        let payload = payload.then(|| CapturedPayload {
            request: bytes::Bytes::from(vec![b'x'; 100]),
            response: bytes::Bytes::new(),
            request_cut: false,
            response_cut: false,
        });
        LogEntry { row: sample_row(&format!("r{i}")), payload }
    }

    fn redaction() -> Redaction {
        Redaction::new(&[], true, 1024)
    }

    #[tokio::test]
    async fn a_stalled_store_never_blocks_a_request_and_drops_are_counted() {
        let store = Arc::new(Stalled::default());
        let b = Batching { queue: 10, batch: 4, every: Duration::from_millis(5) };
        let writer = LogWriter::start_with(store.clone(), redaction(), b);
        let started = std::time::Instant::now();
        for i in 0..100 {
            writer.submit(entry(i, false));
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

    #[tokio::test]
    async fn under_pressure_payloads_go_first_then_rows() {
        let store = Arc::new(Stalled::default());
        let b = Batching { queue: 8, batch: 1, every: Duration::from_millis(5) };
        let writer = LogWriter::start_with(store.clone(), redaction(), b);
        let mut tail = writer.subscribe();
        for i in 0..20 {
            writer.submit(entry(i, true));
        }
        let stats = writer.stats();
        let payloads = stats.payloads_dropped.load(Ordering::Relaxed);
        let rows = stats.dropped_full.load(Ordering::Relaxed);
        assert!(payloads >= 3, "past half the queue, payloads are dropped: {payloads}");
        assert!(rows >= 10, "a full queue drops rows: {rows}");
        assert!(payloads + rows <= 20, "an entry is counted once: as a lost payload or as a lost row");
        let first = tail.recv().await.unwrap();
        assert_eq!(first.request_id, "r0", "the tail sees rows as they are submitted");
        assert!(writer.queue_depth() > 0);
        store.open.notify_one();
        writer.shutdown().await;
        assert_eq!(
            writer.queued_payload_bytes.load(Ordering::Relaxed),
            0,
            "every queued payload byte is accounted for"
        );
    }
}
