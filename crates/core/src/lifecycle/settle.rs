//! The settle phase as a guard: whoever holds it last settles. A response
//! body carries it to the end of the stream; dropped unsettled (the client
//! left, or the future was cancelled), it settles as `ClientLeft` with what
//! was seen, so no request escapes accounting.

use super::{Hooks, RequestContext};
use crate::capture::{Capture, CaptureRequest};
use crate::error::GatewayError;
use crate::usage::{End, Meter, Outcome, Usage};

pub struct Settlement {
    /// Boxed: the settlement moves through every phase and into the body.
    pub ctx: Box<RequestContext>,
    hooks: Hooks,
    /// What the tap saw, for a settlement by drop.
    pub meter: Meter,
    /// The status the client got, once an answer started.
    pub status: u16,
    /// The answer's payload, when the request log stores this request's
    /// (a hook asked for it at *admit*; see [`Settlement::take_capture`]).
    pub capture: Option<Box<Capture>>,
    settled: bool,
    /// The request's log span (the server's `request{request_id}`), entered
    /// while settling: lines logged from a stream's end or drop carry the id.
    span: tracing::Span,
}

impl Settlement {
    pub fn new(ctx: RequestContext, hooks: Hooks) -> Self {
        Self {
            ctx: Box::new(ctx),
            hooks,
            meter: Meter::default(),
            status: 0,
            capture: None,
            settled: false,
            span: tracing::Span::current(),
        }
    }

    pub fn hooks(&self) -> &Hooks {
        &self.hooks
    }

    /// Moves a capture a hook left in the context at *admit* to where the
    /// tap can fill it.
    pub fn take_capture(&mut self) {
        if let Some(c) = self.ctx.extensions.remove::<CaptureRequest>() {
            self.capture = Some(Box::new(Capture::new(c.0)));
        }
    }

    /// Settles a request that failed before any answer reached the client.
    pub fn fail(mut self, e: &GatewayError) {
        let outcome = Outcome {
            status: e.status(),
            error_code: Some(e.code().unwrap_or(e.kind()).to_string()),
            end: End::Failed,
            usage: Usage::default(),
            usage_estimated: false,
            finish_reason: None,
            ttft: None,
            duration: self.ctx.elapsed(),
        };
        self.settle(&outcome);
    }

    /// Settles with what the meter saw; counts not reported are estimated.
    pub fn finish(mut self, end: End, error_code: Option<String>) {
        let outcome = self.outcome(end, error_code);
        self.settle(&outcome);
    }

    fn outcome(&self, end: End, error_code: Option<String>) -> Outcome {
        let (usage, usage_estimated) = self.meter.usage(self.ctx.estimated_input_tokens);
        Outcome {
            status: self.status,
            error_code,
            end,
            usage,
            usage_estimated,
            finish_reason: self.meter.finish_reason.clone(),
            ttft: self.meter.ttft,
            duration: self.ctx.elapsed(),
        }
    }

    fn settle(&mut self, outcome: &Outcome) {
        if std::mem::replace(&mut self.settled, true) {
            return;
        }
        let _in_span = self.span.enter();
        if let Some(c) = self.capture.take() {
            let payload = c.finish(&self.ctx.body, self.ctx.inbound.dialect(), &outcome.usage);
            self.ctx.extensions.insert(payload);
        }
        tracing::debug!(
            end = outcome.end.as_str(),
            status = outcome.status,
            input_tokens = outcome.usage.total_input(),
            output_tokens = outcome.usage.output_tokens,
            estimated = outcome.usage_estimated,
            "settled"
        );
        for h in self.hooks.iter() {
            h.settle(&self.ctx, outcome);
        }
    }
}

impl Drop for Settlement {
    fn drop(&mut self) {
        if !self.settled {
            let mut outcome = self.outcome(End::ClientLeft, Some("client_disconnected".into()));
            if outcome.status == 0 {
                // Gone before any answer: nginx's "client closed request".
                outcome.status = 499;
            }
            self.settle(&outcome);
        }
    }
}
