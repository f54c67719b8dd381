//! The hook that writes the request log: at *admit* it asks for the
//! request's payloads when they are to be stored (globally, or for the key
//! or team); at *settle* one [`LogRow`] per request, with the payload if
//! captured, goes to the [`LogWriter`]'s queue (never awaited: settle may
//! run inside a stream's drop).

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use futures::future::BoxFuture;

use super::record::{AttemptDetail, LogRow};
use super::writer::{LogEntry, LogWriter};
use crate::capture::{CaptureRequest, CapturedPayload};
use crate::error::GatewayError;
use crate::lifecycle::{RequestContext, RequestHooks};
use crate::usage::{End, Outcome, Usage};

/// Prices `<provider>/<model>` for `usage`; `None` when nothing covers it.
pub type Pricer = Arc<dyn Fn(&str, &Usage) -> Option<f64> + Send + Sync>;

/// When payloads are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadPolicy {
    /// For requests whose key and team say nothing.
    pub default_on: bool,
    /// Bytes stored per side.
    pub max_bytes: usize,
}

pub struct RequestLog {
    writer: Arc<LogWriter>,
    pricer: Option<Pricer>,
    payloads: PayloadPolicy,
}

impl RequestLog {
    pub fn new(writer: Arc<LogWriter>, pricer: Option<Pricer>, payloads: PayloadPolicy) -> Self {
        Self { writer, pricer, payloads }
    }

    fn wants_payload(&self, ctx: &RequestContext) -> bool {
        ctx.identity.as_ref().and_then(|i| i.log_payloads).unwrap_or(self.payloads.default_on)
    }

    /// The row for one settled request.
    pub fn row(&self, ctx: &RequestContext, outcome: &Outcome) -> LogRow {
        let started_at_ms =
            ctx.started_at.duration_since(UNIX_EPOCH).map(|d| u64::try_from(d.as_millis()).unwrap_or(0)).unwrap_or(0);
        let served = ctx.provider.as_deref().zip(ctx.served_model.as_deref()).map(|(p, m)| format!("{p}/{m}"));
        let cost_usd = match (&self.pricer, served.as_deref()) {
            (Some(price), Some(model)) => price(model, &outcome.usage),
            _ => None,
        };
        let identity = ctx.identity.as_ref();
        let u = &outcome.usage;
        let mut attempt_details: Vec<AttemptDetail> = ctx
            .attempts
            .iter()
            .map(|a| AttemptDetail { candidate: a.candidate.clone(), error: a.error.clone() })
            .collect();
        let answered = outcome.end != End::Failed;
        if answered {
            attempt_details.push(AttemptDetail { candidate: served.unwrap_or_default(), error: None });
        }
        LogRow {
            request_id: ctx.request_id.clone(),
            // Rendered when the row is read (store, tail): not on every request.
            started_at: String::new(),
            started_at_ms,
            duration_ms: millis(outcome.duration),
            ttft_ms: outcome.ttft.map(millis),
            inbound: ctx.inbound.as_str().into(),
            route: ctx.route.clone(),
            provider: ctx.provider.clone(),
            model: ctx.requested_model.clone(),
            served_model: ctx.served_model.clone(),
            stream: ctx.stream,
            // Failed candidates are recorded; the one that answered is not.
            attempts: u32::try_from(attempt_details.len()).unwrap_or(u32::MAX),
            status: outcome.status,
            end: outcome.end.as_str().into(),
            error_code: outcome.error_code.clone(),
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            cache_read_tokens: u.cache_read_tokens,
            cache_write_tokens: u.cache_write_tokens,
            reasoning_tokens: u.reasoning_tokens,
            usage_estimated: outcome.usage_estimated,
            cost_usd,
            key_id: identity.and_then(|i| i.key_id.clone()),
            key_name: identity.and_then(|i| i.key_name.clone()),
            team: identity.and_then(|i| i.team.clone()),
            user: ctx.user.clone(),
            tags: identity.map(|i| i.tags.clone()).unwrap_or_default(),
            user_agent: ctx.user_agent.clone(),
            fallback_index: u32::try_from(ctx.attempts.len()).unwrap_or(u32::MAX),
            retries: ctx.retries,
            attempt_details,
            has_payload: ctx.extensions.get::<CapturedPayload>().is_some(),
        }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RequestHooks for RequestLog {
    fn admit<'a>(&'a self, ctx: &'a mut RequestContext) -> BoxFuture<'a, Result<(), GatewayError>> {
        if self.wants_payload(ctx) {
            ctx.extensions.insert(CaptureRequest(self.payloads.max_bytes));
        }
        Box::pin(async { Ok(()) })
    }

    fn settle(&self, ctx: &RequestContext, outcome: &Outcome) {
        let payload = ctx.extensions.get::<CapturedPayload>().cloned();
        self.writer.submit(LogEntry { row: self.row(ctx, outcome), payload });
    }
}
