//! The settle hook that writes the request log: one [`LogRow`] per request,
//! handed to the [`LogWriter`]'s queue (never awaited: settle may run inside
//! a stream's drop).

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use super::record::LogRow;
use super::writer::LogWriter;
use crate::governance::period;
use crate::lifecycle::{RequestContext, RequestHooks};
use crate::usage::{End, Outcome, Usage};

/// Prices `<provider>/<model>` for `usage`; `None` when nothing covers it.
pub type Pricer = Arc<dyn Fn(&str, &Usage) -> Option<f64> + Send + Sync>;

pub struct RequestLog {
    writer: Arc<LogWriter>,
    pricer: Option<Pricer>,
}

impl RequestLog {
    pub fn new(writer: Arc<LogWriter>, pricer: Option<Pricer>) -> Self {
        Self { writer, pricer }
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
        LogRow {
            request_id: ctx.request_id.clone(),
            started_at: period::rfc3339(started_at_ms),
            started_at_ms,
            duration_ms: millis(outcome.duration),
            ttft_ms: outcome.ttft.map(millis),
            inbound: ctx.inbound.as_str().to_string(),
            route: ctx.route.clone(),
            provider: ctx.provider.clone(),
            model: ctx.requested_model.clone(),
            served_model: ctx.served_model.clone(),
            stream: ctx.stream,
            // Failed candidates are recorded; the one that answered is not.
            attempts: u32::try_from(ctx.attempts.len() + usize::from(outcome.end != End::Failed)).unwrap_or(u32::MAX),
            status: outcome.status,
            end: outcome.end.as_str().to_string(),
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
        }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RequestHooks for RequestLog {
    fn settle(&self, ctx: &RequestContext, outcome: &Outcome) {
        self.writer.submit(self.row(ctx, outcome));
    }
}
