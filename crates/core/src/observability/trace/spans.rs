//! A settled request as finished spans, named and attributed per the OTel
//! GenAI semantic conventions (`gen_ai.*`), with explicit ids and times.
//! No payload (prompt, completion) ever becomes an attribute.

use std::borrow::Cow;
use std::time::{Instant, SystemTime};

use opentelemetry::trace::{SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use super::hook::{AttemptSpan, RequestTrace};
use crate::inbound::Inbound;
use crate::lifecycle::RequestContext;
use crate::usage::{End, Outcome};

/// `gen_ai.operation.name` for what the client called. The Responses API
/// and Anthropic Messages are chat; counting tokens has no convention name.
pub fn operation(inbound: Inbound) -> &'static str {
    match inbound {
        Inbound::OpenAiChat | Inbound::OpenAiResponses | Inbound::AnthropicMessages => "chat",
        Inbound::OpenAiCompletions => "text_completion",
        Inbound::OpenAiEmbeddings => "embeddings",
        Inbound::AnthropicCountTokens => "count_tokens",
    }
}

/// The request's SERVER span, then one CLIENT span per candidate tried.
pub(crate) fn spans(
    ctx: &RequestContext,
    outcome: &Outcome,
    trace: &RequestTrace,
    scope: &InstrumentationScope,
) -> Vec<SpanData> {
    let at = |i: Instant| ctx.started_at + i.saturating_duration_since(ctx.started);
    let end = ctx.started_at + outcome.duration;
    let mut out = Vec::with_capacity(1 + trace.attempts.len());
    out.push(request_span(ctx, outcome, trace, end, scope));
    for (i, attempt) in trace.attempts.iter().enumerate() {
        // A candidate ends when the next one starts; the last one with the request.
        let ended = trace.attempts.get(i + 1).map_or(end, |next| at(next.started));
        // Failed candidates are recorded in order; the one that answered is not.
        let failed = ctx.attempts.get(i).map(|a| a.error.as_deref().unwrap_or("failed"));
        out.push(attempt_span(ctx, outcome, trace, attempt, (at(attempt.started), ended), failed, scope));
    }
    out
}

fn request_span(
    ctx: &RequestContext,
    outcome: &Outcome,
    trace: &RequestTrace,
    end: SystemTime,
    scope: &InstrumentationScope,
) -> SpanData {
    let operation = operation(ctx.inbound);
    let mut attributes = vec![
        KeyValue::new("gen_ai.operation.name", operation),
        KeyValue::new("gen_ai.request.model", ctx.requested_model.clone()),
        KeyValue::new("http.response.status_code", i64::from(outcome.status)),
        KeyValue::new("switchyard.request_id", ctx.request_id.clone()),
        KeyValue::new("switchyard.inbound", ctx.inbound.as_str()),
        KeyValue::new("switchyard.stream", ctx.stream),
        KeyValue::new("switchyard.end", outcome.end.as_str()),
        KeyValue::new("switchyard.usage_estimated", outcome.usage_estimated),
    ];
    if let Some(provider) = &ctx.provider {
        attributes.push(KeyValue::new("gen_ai.provider.name", provider.clone()));
    }
    if outcome.end != End::Failed {
        if let Some(model) = &ctx.served_model {
            attributes.push(KeyValue::new("gen_ai.response.model", model.clone()));
        }
    }
    usage_attributes(outcome, &mut attributes);
    if let Some(route) = &ctx.route {
        attributes.push(KeyValue::new("switchyard.route", route.clone()));
    }
    if let Some(identity) = &ctx.identity {
        if let Some(key) = &identity.key_id {
            attributes.push(KeyValue::new("switchyard.key_id", key.clone()));
        }
        if let Some(team) = &identity.team {
            attributes.push(KeyValue::new("switchyard.team", team.clone()));
        }
    }
    attributes.push(KeyValue::new("switchyard.attempts", trace.attempts.len() as i64));
    if let Some(code) = &outcome.error_code {
        attributes.push(KeyValue::new("error.type", code.clone()));
    }
    let context = SpanContext::new(trace.trace_id, trace.span_id, trace.flags, false, trace.trace_state.clone());
    SpanData {
        span_context: context,
        parent_span_id: trace.parent.unwrap_or(SpanId::INVALID),
        parent_span_is_remote: trace.parent.is_some(),
        span_kind: SpanKind::Server,
        name: Cow::Owned(format!("{operation} {}", ctx.requested_model)),
        start_time: ctx.started_at,
        end_time: end,
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: request_status(outcome),
        instrumentation_scope: scope.clone(),
    }
}

/// A server error or a broken stream is an error; a client's own mistake
/// (4xx) or departure is not (HTTP server span conventions).
fn request_status(outcome: &Outcome) -> Status {
    match &outcome.error_code {
        Some(code) if outcome.status >= 500 || outcome.end == End::Broke => Status::error(code.clone()),
        _ => Status::Unset,
    }
}

fn attempt_span(
    ctx: &RequestContext,
    outcome: &Outcome,
    trace: &RequestTrace,
    attempt: &AttemptSpan,
    (start, end): (SystemTime, SystemTime),
    failed: Option<&str>,
    scope: &InstrumentationScope,
) -> SpanData {
    let operation = operation(ctx.inbound);
    let mut attributes = vec![
        KeyValue::new("gen_ai.operation.name", operation),
        KeyValue::new("gen_ai.provider.name", attempt.provider.clone()),
        KeyValue::new("gen_ai.request.model", attempt.model.clone()),
    ];
    let status = match failed {
        Some(error) => {
            attributes.push(KeyValue::new("error.type", error.to_string()));
            Status::error(error.to_string())
        }
        None => {
            // The candidate that answered: the answer is the request's.
            attributes.push(KeyValue::new("gen_ai.response.model", attempt.model.clone()));
            attributes.push(KeyValue::new("http.response.status_code", i64::from(outcome.status)));
            usage_attributes(outcome, &mut attributes);
            match &outcome.error_code {
                Some(code) if outcome.end == End::Broke => {
                    attributes.push(KeyValue::new("error.type", code.clone()));
                    Status::error(code.clone())
                }
                _ => Status::Unset,
            }
        }
    };
    let context = SpanContext::new(trace.trace_id, attempt.span_id, trace.flags, false, trace.trace_state.clone());
    SpanData {
        span_context: context,
        parent_span_id: trace.span_id,
        parent_span_is_remote: false,
        span_kind: SpanKind::Client,
        name: Cow::Owned(format!("{operation} {}", attempt.model)),
        start_time: start,
        end_time: end,
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status,
        instrumentation_scope: scope.clone(),
    }
}

/// Token counts (`input_tokens` includes cached ones, as the conventions
/// ask) and the finish reason, when the request got that far.
fn usage_attributes(outcome: &Outcome, attributes: &mut Vec<KeyValue>) {
    if outcome.end == End::Failed {
        return;
    }
    let u = &outcome.usage;
    attributes.push(KeyValue::new("gen_ai.usage.input_tokens", saturate(u.total_input())));
    attributes.push(KeyValue::new("gen_ai.usage.output_tokens", saturate(u.output_tokens)));
    if u.cache_read_tokens > 0 {
        attributes.push(KeyValue::new("gen_ai.usage.cache_read.input_tokens", saturate(u.cache_read_tokens)));
    }
    if u.cache_write_tokens > 0 {
        attributes.push(KeyValue::new("gen_ai.usage.cache_creation.input_tokens", saturate(u.cache_write_tokens)));
    }
    if let Some(reason) = &outcome.finish_reason {
        let reasons = Value::Array(Array::String(vec![StringValue::from(reason.clone())]));
        attributes.push(KeyValue::new("gen_ai.response.finish_reasons", reasons));
    }
}

/// OTLP integers are signed.
fn saturate(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
#[path = "spans_tests.rs"]
mod tests;
