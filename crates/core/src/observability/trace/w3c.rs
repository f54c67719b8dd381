//! W3C Trace Context (`traceparent`), read from clients and written upstream.
//! <https://www.w3.org/TR/trace-context/#traceparent-header>

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::trace::{SpanId, TraceFlags, TraceId};

pub static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
pub static TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// A valid `traceparent`: the caller's trace and span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: TraceId,
    /// The caller's span: the parent of ours.
    pub span_id: SpanId,
    pub flags: TraceFlags,
}

impl TraceParent {
    /// `None` for anything the spec says to ignore (then a new trace starts):
    /// a wrong length or shape, upper-case hex, version `ff`, all-zero ids.
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let mut parts = value.splitn(5, '-');
        let (version, trace, span, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let rest = parts.next();
        if version.len() != 2 || !lower_hex(version) || version == "ff" {
            return None;
        }
        // Version 00 has exactly four fields; a later version may append more.
        if version == "00" && rest.is_some() {
            return None;
        }
        if trace.len() != 32 || span.len() != 16 || flags.len() != 2 {
            return None;
        }
        if !lower_hex(trace) || !lower_hex(span) || !lower_hex(flags) {
            return None;
        }
        let trace_id = TraceId::from_bytes(u128::from_str_radix(trace, 16).ok()?.to_be_bytes());
        let span_id = SpanId::from_bytes(u64::from_str_radix(span, 16).ok()?.to_be_bytes());
        if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
            return None;
        }
        let flags = TraceFlags::new(u8::from_str_radix(flags, 16).ok()?);
        Some(Self { trace_id, span_id, flags })
    }

    /// Version 00, as sent upstream; only the sampled flag is kept.
    pub fn header_value(&self) -> HeaderValue {
        let flags = self.flags.to_u8() & TraceFlags::SAMPLED.to_u8();
        let text = format!(
            "00-{:032x}-{:016x}-{flags:02x}",
            u128::from_be_bytes(self.trace_id.to_bytes()),
            u64::from_be_bytes(self.span_id.to_bytes())
        );
        // Hex digits and dashes only: always a valid header value.
        HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static(""))
    }
}

fn lower_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A random, valid (non-zero) trace id.
pub fn new_trace_id() -> TraceId {
    TraceId::from_bytes(rand::random::<u128>().max(1).to_be_bytes())
}

/// A random, valid (non-zero) span id.
pub fn new_span_id() -> SpanId {
    SpanId::from_bytes(rand::random::<u64>().max(1).to_be_bytes())
}

/// The client's `traceparent` and `tracestate`, as text, for the request context.
pub fn client_context(forwarded: &HeaderMap) -> (Option<String>, Option<String>) {
    let text = |name: &HeaderName| forwarded.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    (text(&TRACEPARENT), text(&TRACESTATE))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_valid_traceparent_round_trips() {
        let tp = TraceParent::parse(VALID).unwrap();
        assert_eq!(format!("{:032x}", tp.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(format!("{:016x}", tp.span_id), "00f067aa0ba902b7");
        assert!(tp.flags.is_sampled());
        assert_eq!(tp.header_value(), VALID);
    }

    #[test]
    fn malformed_traceparents_are_ignored() {
        for bad in [
            "",
            "garbage",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_later_version_is_read_as_far_as_version_00_goes() {
        let tp = TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-what-comes").unwrap();
        assert!(tp.flags.is_sampled());
        // Sent on as version 00, with only the flag version 00 defines.
        assert_eq!(tp.header_value(), VALID);
    }

    #[test]
    fn the_unsampled_flag_is_kept() {
        let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").unwrap();
        assert!(!tp.flags.is_sampled());
        assert!(tp.header_value().to_str().unwrap().ends_with("-00"));
    }
}
