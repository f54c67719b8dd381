//! OTLP traces from the real binary: a tiny OTLP/HTTP receiver decodes what
//! it exports; the fake upstream shows the `traceparent` it was sent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;
use switchyard_testkit::FakeUpstream;

const CLIENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";

#[derive(Default)]
struct Received {
    exports: Vec<ExportTraceServiceRequest>,
    headers: Vec<HeaderMap>,
}

/// Accepts `POST /v1/traces` on 127.0.0.1:0; returns its base URL.
async fn otlp_receiver(received: Arc<Mutex<Received>>) -> String {
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |headers: HeaderMap, body: Bytes| {
            let received = received.clone();
            async move {
                let export = ExportTraceServiceRequest::decode(body).expect("protobuf ExportTraceServiceRequest");
                let mut r = received.lock().unwrap();
                r.exports.push(export);
                r.headers.push(headers);
                ([("content-type", "application/x-protobuf")], Vec::<u8>::new())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn int(span: &Span, key: &str) -> Option<i64> {
    match attr(&span.attributes, key) {
        Some(Value::IntValue(n)) => Some(*n),
        _ => None,
    }
}

fn text<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    match attr(&span.attributes, key) {
        Some(Value::StringValue(s)) => Some(s),
        _ => None,
    }
}

/// `(trace id, parent id)` of a `traceparent` header.
fn ids(traceparent: &str) -> (String, String) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    (parts[1].to_string(), parts[2].to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_span_continues_the_client_trace_with_a_child_per_attempt() {
    let received = Arc::new(Mutex::new(Received::default()));
    let collector = otlp_receiver(received.clone()).await;
    let fake = FakeUpstream::start().await.unwrap();
    let mut gw = common::Gateway::start(
        &fake,
        &[
            "--otlp-endpoint",
            &collector,
            "--otlp-header",
            "x-collector-token=s3cret-t0ken",
            "--otlp-service-name",
            "switchyard-test",
        ],
        &[],
    );
    let resp = common::http()
        .post(format!("{}/v1/chat/completions", gw.base))
        .header("traceparent", format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"))
        .header("tracestate", "vendor=abc")
        .header("x-request-id", "req-trace-1")
        .json(&json!({"model": "smart", "messages": [{"role": "user", "content": "hello there traces"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-switchyard-attempts"], "2");
    let body: serde_json::Value = resp.json().await.unwrap();
    let (prompt, completion) =
        (body["usage"]["prompt_tokens"].as_i64().unwrap(), body["usage"]["completion_tokens"].as_i64().unwrap());

    // The upstream saw our attempt spans as parents, in the client's trace.
    let upstream: Vec<_> = fake.requests().into_iter().filter(|r| r.path.ends_with("/chat/completions")).collect();
    assert_eq!(upstream.len(), 2);
    let sent: Vec<(String, String)> = upstream.iter().map(|r| ids(r.header("traceparent").unwrap())).collect();
    for (r, (trace, parent)) in upstream.iter().zip(&sent) {
        assert_eq!(trace, CLIENT_TRACE);
        assert_ne!(parent, CLIENT_SPAN, "the client's span is not copied upstream");
        assert_eq!(r.header("tracestate"), Some("vendor=abc"));
    }
    assert_ne!(sent[0].1, sent[1].1, "one span per attempt");

    assert!(gw.stop().success());
    let received = received.lock().unwrap();
    assert!(!received.exports.is_empty(), "spans were exported at shutdown");
    assert!(received.headers.iter().all(|h| h.get("x-collector-token").is_some_and(|v| v == "s3cret-t0ken")));
    assert!(!gw.stderr().contains("s3cret-t0ken"), "a header value was logged:\n{}", gw.stderr());
    let resource = received.exports[0].resource_spans[0].resource.as_ref().unwrap();
    assert!(
        matches!(attr(&resource.attributes, "service.name"), Some(Value::StringValue(s)) if s == "switchyard-test")
    );
    let spans: Vec<&Span> = received
        .exports
        .iter()
        .flat_map(|e| &e.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect();

    let server = spans.iter().find(|s| s.kind == SpanKind::Server as i32).expect("a SERVER span");
    assert_eq!(hex(&server.trace_id), CLIENT_TRACE);
    assert_eq!(hex(&server.parent_span_id), CLIENT_SPAN);
    assert_eq!(server.name, "chat smart");
    assert_eq!(text(server, "gen_ai.operation.name"), Some("chat"));
    assert_eq!(text(server, "gen_ai.request.model"), Some("smart"));
    assert_eq!(text(server, "gen_ai.response.model"), Some("gpt-4o"));
    assert_eq!(text(server, "gen_ai.provider.name"), Some("oa"));
    assert_eq!(int(server, "gen_ai.usage.input_tokens"), Some(prompt));
    assert_eq!(int(server, "gen_ai.usage.output_tokens"), Some(completion));
    assert_eq!(int(server, "http.response.status_code"), Some(200));
    assert_eq!(text(server, "switchyard.request_id"), Some("req-trace-1"));
    assert_eq!(text(server, "switchyard.route"), Some("smart"));
    assert!(matches!(attr(&server.attributes, "switchyard.stream"), Some(Value::BoolValue(false))));
    assert!(
        matches!(attr(&server.attributes, "gen_ai.response.finish_reasons"), Some(Value::ArrayValue(a)) if !a.values.is_empty())
    );

    let mut attempts: Vec<&&Span> = spans.iter().filter(|s| s.kind == SpanKind::Client as i32).collect();
    attempts.sort_by_key(|s| s.start_time_unix_nano);
    assert_eq!(attempts.len(), 2);
    for (span, (_, upstream_parent)) in attempts.iter().zip(&sent) {
        assert_eq!(hex(&span.trace_id), CLIENT_TRACE);
        assert_eq!(span.parent_span_id, server.span_id);
        assert_eq!(&hex(&span.span_id), upstream_parent, "the upstream's parent is this attempt's span");
    }
    assert_eq!(attempts[0].name, "chat fault-503-always");
    assert_eq!(text(attempts[0], "error.type"), Some("upstream_status"));
    assert_eq!(attempts[1].name, "chat gpt-4o");
    assert_eq!(text(attempts[1], "error.type"), None);
    assert_eq!(int(attempts[1], "gen_ai.usage.output_tokens"), Some(completion));
    // No payload in any span.
    for span in &spans {
        for kv in &span.attributes {
            assert!(!format!("{:?}", kv.value).contains("hello there traces"), "{} holds the prompt", kv.key);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_tracing_the_client_traceparent_reaches_the_upstream_unchanged() {
    let fake = FakeUpstream::start().await.unwrap();
    let mut gw = common::Gateway::start(&fake, &[], &[]);
    let traceparent = format!("00-{CLIENT_TRACE}-{CLIENT_SPAN}-01");
    let resp = common::http()
        .post(format!("{}/v1/chat/completions", gw.base))
        .header("traceparent", &traceparent)
        .json(&json!({"model": "oa/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let upstream = fake.requests().into_iter().find(|r| r.path.ends_with("/chat/completions")).unwrap();
    assert_eq!(upstream.header("traceparent"), Some(traceparent.as_str()));
    assert!(gw.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_collector_fails_no_request() {
    // Accepts connections and never answers: the worst a collector can do.
    let black_hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", black_hole.local_addr().unwrap());
    let fake = FakeUpstream::start().await.unwrap();
    // Exports are attempted while requests are served (every 10 ms, a queue of 4).
    let mut gw = common::Gateway::start(
        &fake,
        &["--otlp-endpoint", &endpoint, "--otlp-timeout-secs", "1"],
        &[("OTEL_BSP_SCHEDULE_DELAY", "10"), ("OTEL_BSP_MAX_QUEUE_SIZE", "4")],
    );
    let http = common::http();
    for i in 0..20 {
        let stream = i % 2 == 1;
        let resp = http
            .post(format!("{}/v1/chat/completions", gw.base))
            .json(&json!({"model": "smart", "stream": stream, "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "request {i}");
        let text = resp.text().await.unwrap();
        assert!(if stream { text.contains("[DONE]") } else { text.contains("chat.completion") }, "{text}");
    }
    assert!(gw.stop().success(), "stderr:\n{}", gw.stderr());
    // The queue of 4 overflowed: spans were dropped (and counted), requests never waited.
    assert!(gw.stderr().contains("BatchSpanProcessor.SpansDropped"), "{}", gw.stderr());
    drop(black_hole);
}
