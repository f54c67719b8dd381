//! The rate-limit headers each dialect's SDKs read, from the counters'
//! readings: OpenAI's `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`
//! (reset as a duration, `6m0s`), Anthropic's
//! `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}` (reset as
//! an RFC 3339 time); `retry-after` (and `retry-after-ms`, which the OpenAI
//! SDKs prefer) and `x-switchyard-limit` on a refusal.

use http::{HeaderMap, HeaderName, HeaderValue};
use switchyard_protocol::dialect::Dialect;

use super::limiter::{Reading, Unit};
use super::period;

/// The tightest reading per unit (least remaining).
fn tightest(readings: &[Reading], unit: Unit) -> Option<&Reading> {
    readings.iter().filter(|r| r.unit == unit).min_by_key(|r| (r.remaining, std::cmp::Reverse(r.reset_ms)))
}

fn put(h: &mut HeaderMap, name: &str, value: String) {
    if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
        h.insert(n, v);
    }
}

/// Writes the rate-limit headers of `readings` into `h`.
pub fn rate_limit(h: &mut HeaderMap, dialect: Dialect, readings: &[Reading], now_ms: u64) {
    for (unit, word) in [(Unit::Requests, "requests"), (Unit::Tokens, "tokens")] {
        let Some(r) = tightest(readings, unit) else { continue };
        match dialect {
            Dialect::AnthropicMessages => {
                put(h, &format!("anthropic-ratelimit-{word}-limit"), r.limit.to_string());
                put(h, &format!("anthropic-ratelimit-{word}-remaining"), r.remaining.to_string());
                put(h, &format!("anthropic-ratelimit-{word}-reset"), period::rfc3339(now_ms + r.reset_ms + 999));
            }
            _ => {
                put(h, &format!("x-ratelimit-limit-{word}"), r.limit.to_string());
                put(h, &format!("x-ratelimit-remaining-{word}"), r.remaining.to_string());
                put(h, &format!("x-ratelimit-reset-{word}"), duration(r.reset_ms));
            }
        }
    }
}

/// `retry-after` (whole seconds, rounded up), `retry-after-ms`, and which policy refused.
pub fn refusal(h: &mut HeaderMap, policy: &str, retry_after_ms: Option<u64>) {
    if let Some(ms) = retry_after_ms {
        put(h, "retry-after", ms.div_ceil(1000).max(1).to_string());
        put(h, "retry-after-ms", ms.to_string());
    }
    put(h, "x-switchyard-limit", format!("{policy}; source=local"));
}

/// A duration as OpenAI writes it: `20ms`, `1.5s`, `6m0s`, `1h2m3s`.
pub fn duration(ms: u64) -> String {
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (h, m, s) = (ms / 3_600_000, ms / 60_000 % 60, (ms % 60_000) as f64 / 1000.0);
    let secs = format!("{s:.3}");
    let secs = secs.trim_end_matches('0').trim_end_matches('.');
    match (h, m) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m{secs}s"),
        (h, m) => format!("{h}h{m}m{secs}s"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn reading(unit: Unit, limit: u64, remaining: u64, reset_ms: u64) -> Reading {
        Reading { policy: Arc::from("p"), unit, limit, remaining, reset_ms }
    }

    #[test]
    fn durations_read_like_openai_s() {
        assert_eq!(duration(20), "20ms");
        assert_eq!(duration(1500), "1.5s");
        assert_eq!(duration(360_000), "6m0s");
        assert_eq!(duration(3_723_000), "1h2m3s");
    }

    #[test]
    fn each_dialect_gets_its_own_names_and_the_tightest_counter() {
        let readings = [
            reading(Unit::Requests, 60, 59, 1000),
            reading(Unit::Requests, 1000, 10, 500),
            reading(Unit::Tokens, 100_000, 99_000, 600),
        ];
        let mut h = HeaderMap::new();
        rate_limit(&mut h, Dialect::OpenAiChat, &readings, 0);
        assert_eq!(h["x-ratelimit-limit-requests"], "1000");
        assert_eq!(h["x-ratelimit-remaining-requests"], "10");
        assert_eq!(h["x-ratelimit-reset-requests"], "500ms");
        assert_eq!(h["x-ratelimit-remaining-tokens"], "99000");
        let mut a = HeaderMap::new();
        rate_limit(&mut a, Dialect::AnthropicMessages, &readings, 1_800_000_000_000);
        assert_eq!(a["anthropic-ratelimit-requests-remaining"], "10");
        assert_eq!(a["anthropic-ratelimit-tokens-reset"], "2027-01-15T08:00:01Z");
        assert!(!a.contains_key("x-ratelimit-limit-requests"));
    }

    #[test]
    fn a_refusal_says_when_and_which() {
        let mut h = HeaderMap::new();
        refusal(&mut h, "key:abc", Some(1200));
        assert_eq!(h["retry-after"], "2");
        assert_eq!(h["retry-after-ms"], "1200");
        assert_eq!(h["x-switchyard-limit"], "key:abc; source=local");
    }
}
