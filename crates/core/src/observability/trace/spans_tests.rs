use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry::{Context, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};

use super::super::w3c::TraceParent;
use super::super::RequestTracer;
use crate::inbound::Inbound;
use crate::lifecycle::{Attempt, Credentials, Identity, RequestContext, RequestHooks};
use crate::usage::{End, Outcome, Usage};

#[derive(Debug, Default)]
struct Captured(Mutex<Vec<SpanData>>);

impl SpanProcessor for Captured {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &Context) {}
    fn on_end(&self, span: SpanData) {
        self.0.lock().unwrap().push(span);
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

const CLIENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn tracer() -> (RequestTracer, Arc<Captured>) {
    let captured = Arc::new(Captured::default());
    (RequestTracer::new(captured.clone()), captured)
}

fn ctx(traceparent: Option<&str>) -> RequestContext {
    let mut ctx = RequestContext::new("req-1".into(), Inbound::OpenAiChat);
    ctx.traceparent = traceparent.map(str::to_string);
    ctx.requested_model = "smart".into();
    ctx.route = Some("smart".into());
    ctx.identity = Some(Identity { key_id: Some("k1".into()), team: Some("t1".into()), ..Identity::default() });
    ctx
}

fn try_candidate(tracer: &RequestTracer, ctx: &mut RequestContext, provider: &str, model: &str) -> TraceParent {
    ctx.provider = Some(provider.into());
    ctx.served_model = Some(model.into());
    ctx.upstream_headers.clear();
    tracer.attempt(ctx);
    let sent = ctx.upstream_headers.get("traceparent").unwrap().to_str().unwrap();
    TraceParent::parse(sent).unwrap()
}

fn completed() -> Outcome {
    Outcome {
        status: 200,
        error_code: None,
        end: End::Completed,
        usage: Usage { input_tokens: 11, cache_read_tokens: 4, output_tokens: 7, ..Usage::default() },
        usage_estimated: false,
        finish_reason: Some("stop".into()),
        ttft: Some(Duration::from_millis(5)),
        duration: Duration::from_millis(20),
    }
}

fn attr(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes.iter().find(|kv| kv.key.as_str() == key).map(|kv| kv.value.clone())
}

#[test]
fn a_fallback_makes_one_server_span_and_a_client_span_per_candidate() {
    let (tracer, captured) = tracer();
    let mut ctx = ctx(Some(CLIENT));
    tracer.identify(&mut ctx, &Credentials::default()).unwrap();
    let first = try_candidate(&tracer, &mut ctx, "dead", "primary");
    ctx.attempts.push(Attempt { candidate: "dead/primary".into(), error: Some("upstream_transport".into()) });
    let second = try_candidate(&tracer, &mut ctx, "oa", "gpt-4o");
    tracer.settle(&ctx, &completed());

    let spans = captured.0.lock().unwrap();
    assert_eq!(spans.len(), 3);
    let client_trace = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap();
    let (server, attempts) = (&spans[0], &spans[1..]);
    assert_eq!(server.span_kind, SpanKind::Server);
    assert_eq!(server.name, "chat smart");
    assert_eq!(server.span_context.trace_id(), client_trace);
    assert_eq!(server.parent_span_id, SpanId::from_hex("00f067aa0ba902b7").unwrap());
    assert!(server.parent_span_is_remote);
    assert_eq!(attr(server, "gen_ai.usage.input_tokens"), Some(Value::I64(15)), "cached tokens count as input");
    assert_eq!(attr(server, "gen_ai.usage.output_tokens"), Some(Value::I64(7)));
    assert_eq!(attr(server, "gen_ai.usage.cache_read.input_tokens"), Some(Value::I64(4)));
    assert_eq!(attr(server, "gen_ai.response.model"), Some(Value::from("gpt-4o")));
    assert_eq!(attr(server, "gen_ai.provider.name"), Some(Value::from("oa")));
    assert_eq!(attr(server, "switchyard.route"), Some(Value::from("smart")));
    assert_eq!(attr(server, "switchyard.key_id"), Some(Value::from("k1")));
    assert_eq!(attr(server, "switchyard.team"), Some(Value::from("t1")));
    assert_eq!(attr(server, "switchyard.request_id"), Some(Value::from("req-1")));
    assert_eq!(attr(server, "error.type"), None);
    assert!(attr(server, "gen_ai.response.finish_reasons").unwrap().as_str().contains("stop"));
    assert_eq!(server.end_time, server.start_time + Duration::from_millis(20));

    for (span, sent) in attempts.iter().zip([first, second]) {
        assert_eq!(span.span_kind, SpanKind::Client);
        assert_eq!(span.parent_span_id, server.span_context.span_id());
        assert_eq!(span.span_context.trace_id(), client_trace);
        // The upstream was told this attempt's span as its parent.
        assert_eq!(sent.trace_id, client_trace);
        assert_eq!(sent.span_id, span.span_context.span_id());
        assert!(span.start_time >= server.start_time && span.end_time <= server.end_time);
    }
    assert_eq!(attempts[0].name, "chat primary");
    assert_eq!(attr(&attempts[0], "error.type"), Some(Value::from("upstream_transport")));
    assert!(matches!(attempts[0].status, Status::Error { .. }));
    assert_eq!(attempts[0].end_time, attempts[1].start_time);
    assert_eq!(attempts[1].name, "chat gpt-4o");
    assert_eq!(attr(&attempts[1], "error.type"), None);
    assert_eq!(attr(&attempts[1], "gen_ai.usage.output_tokens"), Some(Value::I64(7)));
}

#[test]
fn without_a_client_trace_a_new_sampled_one_starts() {
    let (tracer, captured) = tracer();
    let mut ctx = ctx(Some("not a traceparent"));
    tracer.identify(&mut ctx, &Credentials::default()).unwrap();
    let sent = try_candidate(&tracer, &mut ctx, "oa", "m");
    tracer.settle(&ctx, &completed());
    let spans = captured.0.lock().unwrap();
    assert_eq!(spans[0].parent_span_id, SpanId::INVALID);
    assert!(!spans[0].parent_span_is_remote);
    assert_eq!(spans[0].span_context.trace_id(), sent.trace_id);
    assert!(sent.flags.is_sampled());
}

#[test]
fn an_unsampled_client_trace_is_propagated_but_not_exported() {
    let (tracer, captured) = tracer();
    let mut ctx = ctx(Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"));
    tracer.identify(&mut ctx, &Credentials::default()).unwrap();
    let sent = try_candidate(&tracer, &mut ctx, "oa", "m");
    tracer.settle(&ctx, &completed());
    assert!(!sent.flags.is_sampled());
    assert_eq!(format!("{:032x}", sent.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert!(captured.0.lock().unwrap().is_empty());
}

#[test]
fn a_request_refused_before_identify_still_has_its_server_span() {
    let (tracer, captured) = tracer();
    let ctx = ctx(Some(CLIENT));
    let refused = Outcome {
        status: 401,
        error_code: Some("invalid_api_key".into()),
        end: End::Failed,
        usage: Usage::default(),
        usage_estimated: false,
        finish_reason: None,
        ttft: None,
        duration: Duration::from_millis(1),
    };
    tracer.settle(&ctx, &refused);
    let spans = captured.0.lock().unwrap();
    assert_eq!(spans.len(), 1);
    assert_eq!(attr(&spans[0], "error.type"), Some(Value::from("invalid_api_key")));
    assert_eq!(attr(&spans[0], "http.response.status_code"), Some(Value::I64(401)));
    assert_eq!(attr(&spans[0], "gen_ai.usage.input_tokens"), None);
    // A client error is not the server's failure.
    assert_eq!(spans[0].status, Status::Unset);
}
