//! How the process log writes values that need it.

/// A duration as log lines show it: milliseconds, to the microsecond.
pub fn log_ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}
