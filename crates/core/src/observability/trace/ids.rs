//! What a request's trace knows between its phases: its ids, the client's
//! trace context, and a span per candidate tried (kept in `ctx.extensions`).

use std::time::Instant;

use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};

use super::w3c::{new_span_id, new_trace_id, TraceParent};

/// What a request's trace knows between its phases (in `ctx.extensions`).
#[derive(Debug, Clone)]
pub(crate) struct RequestTrace {
    pub trace_id: TraceId,
    /// The request (SERVER) span.
    pub span_id: SpanId,
    /// The client's span, when it sent a valid `traceparent`.
    pub parent: Option<SpanId>,
    pub flags: TraceFlags,
    pub trace_state: TraceState,
    pub attempts: Vec<AttemptSpan>,
}

/// One candidate tried: its CLIENT span.
#[derive(Debug, Clone)]
pub(crate) struct AttemptSpan {
    pub span_id: SpanId,
    pub started: Instant,
    pub provider: String,
    pub model: String,
}

impl RequestTrace {
    /// Continues the client's trace (`traceparent`, `tracestate`), or starts one (sampled).
    pub(crate) fn start(traceparent: Option<&str>, tracestate: Option<&str>) -> Self {
        match traceparent.and_then(TraceParent::parse) {
            Some(client) => Self {
                trace_id: client.trace_id,
                span_id: new_span_id(),
                parent: Some(client.span_id),
                flags: client.flags,
                trace_state: tracestate.and_then(|s| s.parse().ok()).unwrap_or_default(),
                attempts: Vec::new(),
            },
            None => Self {
                trace_id: new_trace_id(),
                span_id: new_span_id(),
                parent: None,
                flags: TraceFlags::SAMPLED,
                trace_state: TraceState::default(),
                attempts: Vec::new(),
            },
        }
    }

    /// The client decides (parent-based sampling); our own traces are all kept.
    pub fn sampled(&self) -> bool {
        self.flags.is_sampled()
    }
}
