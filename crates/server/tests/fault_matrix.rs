//! The fault matrix: every upstream failure the fake can produce, for OpenAI
//! and Anthropic clients, stream and not, passthrough and translated, with the
//! exact outcome the client must see. One table; each row runs in all the
//! cells it names.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::{json, Value};

/// Both providers are the fake; `oa` speaks OpenAI (Databricks' Unified API),
/// `an` Anthropic. Short timeouts and small caps so that every fault is quick.
const PROVIDERS: &str = r#"{
  "oa": {
    "network_config": {"base_url": "{gw}/mlflow", "max_retries": 2, "retry_backoff_initial": 5, "retry_backoff_max": 20,
      "default_request_timeout_in_seconds": 2, "stream_idle_timeout_in_seconds": 1,
      "max_response_body_size_mb": 1, "max_stream_event_size_kb": 64},
    "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}
  },
  "an": {
    "network_config": {"base_url": "{gw}/anthropic", "max_retries": 2, "retry_backoff_initial": 5, "retry_backoff_max": 20,
      "default_request_timeout_in_seconds": 2, "stream_idle_timeout_in_seconds": 1,
      "max_response_body_size_mb": 1, "max_stream_event_size_kb": 64},
    "custom_provider_config": {"base_provider_type": "anthropic", "is_key_less": true}
  },
  "dead": {
    "network_config": {"base_url": "http://127.0.0.1:9", "max_retries": 1, "retry_backoff_initial": 5, "retry_backoff_max": 10},
    "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}
  }
}"#;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    OpenAi,
    Anthropic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    Passthrough,
    Translated,
}

/// What the client must see.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// A normal answer whose text contains this.
    Answer(&'static str),
    /// An error status, with the OpenAI `code` (or type) and the Anthropic type.
    Error(u16, &'static str, &'static str),
    /// A 200 event stream that ends with an in-band error containing this text.
    InBand(&'static str),
    /// The upstream's bytes, relayed unread (passthrough): a 200 whose body contains this.
    Relayed(&'static str),
}

use Expect::*;

struct Case {
    model: &'static str,
    stream: bool,
    paths: &'static [Path],
    expect: Expect,
}

const BOTH: &[Path] = &[Path::Passthrough, Path::Translated];
const PASS: &[Path] = &[Path::Passthrough];
const TRANS: &[Path] = &[Path::Translated];

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Statuses: retried while retries last, then the upstream's status in the client's dialect.
    Case { model: "fault-500-always", stream: false, paths: BOTH, expect: Error(500, "upstream_error", "api_error") },
    Case { model: "fault-500-always", stream: true, paths: BOTH, expect: Error(500, "upstream_error", "api_error") },
    Case { model: "fault-502-always", stream: false, paths: BOTH, expect: Error(502, "upstream_error", "api_error") },
    Case { model: "fault-503-always", stream: true, paths: BOTH, expect: Error(503, "upstream_error", "api_error") },
    Case { model: "fault-504-always", stream: false, paths: BOTH, expect: Error(504, "upstream_error", "timeout_error") },
    Case { model: "fault-529-always", stream: false, paths: BOTH, expect: Error(529, "upstream_error", "overloaded_error") },
    Case { model: "fault-503-once", stream: false, paths: BOTH, expect: Answer("") },
    Case { model: "fault-529-once", stream: true, paths: BOTH, expect: Answer("") },
    Case { model: "fault-429-once", stream: false, paths: BOTH, expect: Answer("") },
    Case { model: "fault-429-date-once", stream: false, paths: BOTH, expect: Answer("") },
    Case { model: "fault-429-ms-once", stream: true, paths: BOTH, expect: Answer("") },
    Case { model: "error-400", stream: false, paths: BOTH, expect: Error(400, "upstream_error", "invalid_request_error") },
    // Time: no response head within the request timeout.
    Case { model: "fault-slow-headers", stream: false, paths: BOTH, expect: Error(504, "upstream_timeout", "timeout_error") },
    Case { model: "fault-slow-headers", stream: true, paths: BOTH, expect: Error(504, "upstream_timeout", "timeout_error") },
    // Streams that go wrong after the first byte: an in-band error, never a clean end.
    Case { model: "fault-stall", stream: true, paths: BOTH, expect: InBand("sent nothing for 1 s") },
    Case { model: "fault-reset", stream: true, paths: BOTH, expect: InBand("broke") },
    Case { model: "fault-truncate", stream: true, paths: BOTH, expect: InBand("closed the stream before it completed") },
    Case { model: "fault-stream-error", stream: true, paths: TRANS, expect: InBand("") },
    Case { model: "fault-error-continue", stream: true, paths: TRANS, expect: InBand("") },
    // Bodies that are not what was asked for.
    Case { model: "fault-html-200", stream: false, paths: BOTH, expect: Error(502, "bad_upstream_response", "api_error") },
    Case { model: "fault-html-200", stream: true, paths: BOTH, expect: Error(502, "bad_upstream_response", "api_error") },
    Case { model: "fault-empty-200", stream: false, paths: BOTH, expect: Error(502, "bad_upstream_response", "api_error") },
    Case { model: "fault-empty-200", stream: true, paths: BOTH, expect: Error(502, "bad_upstream_response", "api_error") },
    Case { model: "fault-badjson-200", stream: false, paths: TRANS, expect: Error(502, "bad_upstream_response", "api_error") },
    Case { model: "fault-badjson-200", stream: false, paths: PASS, expect: Relayed("\"choices\": [") },
    Case { model: "fault-badsse", stream: true, paths: PASS, expect: Relayed("data: {not json at all") },
    Case { model: "fault-badsse", stream: true, paths: TRANS, expect: InBand("") },
    Case { model: "fault-huge-2", stream: false, paths: TRANS, expect: Error(502, "upstream_response_too_large", "api_error") },
    Case { model: "fault-huge-2", stream: false, paths: PASS, expect: Relayed("aaaaaaaa") },
    Case { model: "fault-longline", stream: true, paths: TRANS, expect: InBand("larger than 64 KiB") },
    Case { model: "fault-longline", stream: true, paths: PASS, expect: InBand("closed the stream before it completed") },
    Case { model: "fault-gzip", stream: false, paths: BOTH, expect: Answer("compressed hello") },
];

/// The provider that makes `client` take `path`.
fn provider(client: Client, path: Path) -> &'static str {
    match (client, path) {
        (Client::OpenAi, Path::Passthrough) | (Client::Anthropic, Path::Translated) => "oa",
        _ => "an",
    }
}

async fn call(h: &common::Harness, client: Client, model: &str, stream: bool) -> (u16, String, String) {
    let path = match client {
        Client::OpenAi => "/v1/chat/completions",
        Client::Anthropic => "/anthropic/v1/messages",
    };
    // The same body reads as a valid request in both dialects.
    let body = json!({"model": model, "stream": stream, "max_tokens": 16, "messages": [{"role": "user", "content": "hi there"}]});
    let resp = h.post(path, &body).await;
    let status = resp.status().as_u16();
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, ct, resp.text().await.unwrap_or_default())
}

/// `None` when the outcome is right, else what was wrong.
fn check(client: Client, expect: Expect, status: u16, ct: &str, body: &str) -> Option<String> {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let fail = |why: &str| Some(format!("{why}; got {status} {ct}: {}", &body[..body.len().min(400)]));
    match expect {
        Answer(text) => {
            if status != 200 || !body.contains(text) {
                return fail("expected an answer");
            }
            if ct.starts_with("text/event-stream") {
                let done = match client {
                    Client::OpenAi => body.contains("data: [DONE]"),
                    Client::Anthropic => body.contains("event: message_stop"),
                };
                if !done || body.contains("\"error\"") {
                    return fail("expected a complete stream");
                }
            }
        }
        Error(code, openai_code, anthropic_type) => {
            if status != code {
                return fail(&format!("expected status {code}"));
            }
            let ok = match client {
                // Passthrough keeps the upstream's own code (e.g. Databricks' `TEMPORARILY_UNAVAILABLE`).
                Client::OpenAi if openai_code == "upstream_error" => json["error"]["code"].is_string(),
                Client::OpenAi => json["error"]["code"] == openai_code || json["error"]["type"] == openai_code,
                Client::Anthropic => json["type"] == "error" && json["error"]["type"] == anthropic_type,
            };
            if !ok {
                return fail("wrong error body");
            }
            if body.contains("127.0.0.1") {
                return fail("the upstream URL leaked into the client's error");
            }
        }
        InBand(text) => {
            if status != 200 || !ct.starts_with("text/event-stream") || !body.contains(text) {
                return fail(&format!("expected a stream ending in an error containing {text:?}"));
            }
            let (error_marker, success) = match client {
                Client::OpenAi => ("data: {\"error\"", "data: [DONE]"),
                Client::Anthropic => ("event: error", "event: message_stop"),
            };
            let Some(at) = body.find(error_marker) else { return fail("no in-band error event") };
            // Exactly one error, and nothing after it that reads as success.
            if body[at + 1..].contains(error_marker) || body[at..].contains(success) {
                return fail("the stream went on after its error");
            }
            if client == Client::OpenAi && body[at..].contains("\"finish_reason\":\"stop\"") {
                return fail("a finish_reason after the error");
            }
        }
        Relayed(text) => {
            if status != 200 || !body.contains(text) {
                return fail("expected the upstream's bytes");
            }
        }
    }
    None
}

#[tokio::test]
async fn every_fault_in_every_cell() {
    let h = common::start(PROVIDERS).await;
    let mut failures = Vec::new();
    let mut cells = 0;
    for (i, case) in CASES.iter().enumerate() {
        for client in [Client::OpenAi, Client::Anthropic] {
            for path in case.paths {
                cells += 1;
                // A unique model per cell: the fake's "-once" faults count per model.
                let model = format!("{}/{}-c{i}-{client:?}-{path:?}", provider(client, *path), case.model);
                let (status, ct, body) = call(&h, client, &model, case.stream).await;
                if let Some(why) = check(client, case.expect, status, &ct, &body) {
                    failures.push(format!("{model} stream={} ({client:?}, {path:?}): {why}", case.stream));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of {cells} cells failed:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn an_unreachable_provider_is_named_without_its_url() {
    let h = common::start(PROVIDERS).await;
    for client in [Client::OpenAi, Client::Anthropic] {
        for stream in [false, true] {
            let (status, _, body) = call(&h, client, "dead/m", stream).await;
            assert_eq!(status, 502, "{body}");
            assert!(body.contains("dead") && body.contains("unreachable"), "{body}");
            assert!(!body.contains("127.0.0.1") && !body.contains(":9/"), "URL leaked: {body}");
        }
    }
}

#[tokio::test]
async fn retries_reach_the_upstream_as_configured() {
    let h = common::start(PROVIDERS).await;
    let (status, _, _) = call(&h, Client::OpenAi, "oa/fault-529-always-count", false).await;
    assert_eq!(status, 529);
    let seen = h.fake.requests().iter().filter(|r| r.body["model"] == "fault-529-always-count").count();
    assert_eq!(seen, 3, "one try and max_retries = 2 retries");
}
