//! [`RequestTracer`], the lifecycle hook: ids when the request starts, a
//! `traceparent` for each upstream attempt, finished spans at *settle*.
//! Nothing here blocks or waits: a span goes to the processor's bounded
//! queue (the batch processor drops, and counts, what does not fit).

use std::sync::Arc;
use std::time::Instant;

use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::trace::SpanProcessor;

use super::spans;
use super::w3c::{new_span_id, new_trace_id, TraceParent, TRACEPARENT};
use crate::error::GatewayError;
use crate::lifecycle::{Credentials, RequestContext, RequestHooks};
use crate::usage::Outcome;

/// Emits one SERVER span per request and one CLIENT span per candidate tried.
pub struct RequestTracer {
    processor: Arc<dyn SpanProcessor>,
    scope: InstrumentationScope,
}

impl std::fmt::Debug for RequestTracer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestTracer").finish_non_exhaustive()
    }
}

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
    fn start(traceparent: Option<&str>, tracestate: Option<&str>) -> Self {
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

impl RequestTracer {
    /// Spans go to `processor`: the OTLP batch processor
    /// ([`super::OtlpExport::processor`]), or any other.
    pub fn new(processor: Arc<dyn SpanProcessor>) -> Self {
        let scope = InstrumentationScope::builder("switchyard").with_version(env!("CARGO_PKG_VERSION")).build();
        Self { processor, scope }
    }

    fn state(ctx: &mut RequestContext) -> &mut RequestTrace {
        let (traceparent, tracestate) = (ctx.traceparent.as_deref(), ctx.tracestate.as_deref());
        ctx.extensions.get_or_insert_with(|| RequestTrace::start(traceparent, tracestate))
    }
}

impl RequestHooks for RequestTracer {
    /// The ids exist from the start, whatever later phases do.
    fn identify(&self, ctx: &mut RequestContext, _credentials: &Credentials) -> Result<(), GatewayError> {
        Self::state(ctx);
        Ok(())
    }

    fn attempt(&self, ctx: &mut RequestContext) {
        let provider = ctx.provider.clone().unwrap_or_default();
        let model = ctx.served_model.clone().unwrap_or_default();
        let trace = Self::state(ctx);
        let span_id = new_span_id();
        trace.attempts.push(AttemptSpan { span_id, started: Instant::now(), provider, model });
        // The upstream's parent is this attempt's span, in the client's trace.
        let upstream = TraceParent { trace_id: trace.trace_id, span_id, flags: trace.flags }.header_value();
        ctx.upstream_headers.insert(TRACEPARENT.clone(), upstream);
    }

    fn settle(&self, ctx: &RequestContext, outcome: &Outcome) {
        // A request refused before this hook's `identify` ran has no state yet.
        let fresh;
        let trace = match ctx.extensions.get::<RequestTrace>() {
            Some(t) => t,
            None => {
                fresh = RequestTrace::start(ctx.traceparent.as_deref(), ctx.tracestate.as_deref());
                &fresh
            }
        };
        if !trace.sampled() {
            return;
        }
        for span in spans::spans(ctx, outcome, trace, &self.scope) {
            self.processor.on_end(span);
        }
    }
}
