//! Metrics read at scrape time: the request log writer's queue and drops,
//! and the process's own (`process_*`, as Prometheus's client libraries
//! name them), read from `/proc` on Linux.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

use super::writer::LogWriter;

pub struct LogWriterCollector(pub Arc<LogWriter>);

impl std::fmt::Debug for LogWriterCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LogWriterCollector")
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct What {
    /// `row` (queue full), `payload` (queue under pressure; the row was kept),
    /// `failed` (the store refused a batch twice).
    what: &'static str,
}

impl Collector for LogWriterCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = self.0.stats();
        let dropped = ConstCounter::new(0u64);
        let mut family = encoder.encode_descriptor(
            "switchyard_log_dropped",
            "Request log entries not written",
            None,
            dropped.metric_type(),
        )?;
        for (what, n) in [
            ("row", s.dropped_full.load(Ordering::Relaxed)),
            ("payload", s.payloads_dropped.load(Ordering::Relaxed)),
            ("failed", s.dropped_failed.load(Ordering::Relaxed)),
        ] {
            ConstCounter::new(n).encode(family.encode_family(&What { what })?)?;
        }
        let written = ConstCounter::new(s.written.load(Ordering::Relaxed));
        written.encode(encoder.encode_descriptor(
            "switchyard_log_written",
            "Request log rows written",
            None,
            written.metric_type(),
        )?)?;
        let depth = ConstGauge::new(i64::try_from(self.0.queue_depth()).unwrap_or(i64::MAX));
        depth.encode(encoder.encode_descriptor(
            "switchyard_log_queue_depth",
            "Request log rows waiting to be written",
            None,
            depth.metric_type(),
        )?)
    }
}

/// `process_*` from `/proc/self` (nothing elsewhere).
#[derive(Debug)]
pub struct ProcessCollector {
    started_secs: f64,
    ticks_per_sec: f64,
}

impl Default for ProcessCollector {
    fn default() -> Self {
        let started_secs =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        // USER_HZ is 100 on every Linux this runs on.
        Self { started_secs, ticks_per_sec: 100.0 }
    }
}

/// Fields of `/proc/self/stat` after the command name.
fn stat_fields() -> Option<Vec<u64>> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    Some(after.split_whitespace().map(|f| f.parse().unwrap_or(0)).collect())
}

fn open_fds() -> Option<u64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as u64)
}

fn max_fds() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let start = ConstGauge::new(self.started_secs);
        start.encode(encoder.encode_descriptor(
            "process_start_time",
            "Start time of the process since the epoch",
            Some(&Unit::Seconds),
            start.metric_type(),
        )?)?;
        // stat fields after `(comm) `: state=0, …, utime=11, stime=12, num_threads=17, vsize=20, rss=21 (pages).
        if let Some(f) = stat_fields() {
            let get = |i: usize| f.get(i).copied().unwrap_or(0);
            let cpu = ConstCounter::new((get(11) + get(12)) as f64 / self.ticks_per_sec);
            cpu.encode(encoder.encode_descriptor(
                "process_cpu",
                "User and system CPU time spent",
                Some(&Unit::Seconds),
                cpu.metric_type(),
            )?)?;
            let threads = ConstGauge::new(get(17) as i64);
            threads.encode(encoder.encode_descriptor(
                "process_threads",
                "OS threads",
                None,
                threads.metric_type(),
            )?)?;
            let vsize = ConstGauge::new(get(20) as i64);
            vsize.encode(encoder.encode_descriptor(
                "process_virtual_memory",
                "Virtual memory size",
                Some(&Unit::Bytes),
                vsize.metric_type(),
            )?)?;
            let rss = ConstGauge::new((get(21) * 4096) as i64);
            rss.encode(encoder.encode_descriptor(
                "process_resident_memory",
                "Resident memory size",
                Some(&Unit::Bytes),
                rss.metric_type(),
            )?)?;
        }
        if let Some(n) = open_fds() {
            let g = ConstGauge::new(n as i64);
            g.encode(encoder.encode_descriptor("process_open_fds", "Open file descriptors", None, g.metric_type())?)?;
        }
        if let Some(n) = max_fds() {
            let g = ConstGauge::new(n as i64);
            g.encode(encoder.encode_descriptor(
                "process_max_fds",
                "Most file descriptors the process may open",
                None,
                g.metric_type(),
            )?)?;
        }
        Ok(())
    }
}
