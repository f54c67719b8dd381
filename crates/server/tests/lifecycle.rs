//! The request lifecycle end to end: usage captured on every path (and
//! equal to what the client was told), settle exactly once on success,
//! upstream error, mid-stream break, refusal and client disconnect, the
//! hidden `include_usage`, and pools kept across a reload.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};
use switchyard_core::lifecycle::{Credentials, RequestContext, RequestHooks};
use switchyard_core::{End, GatewayError, Outcome};
use switchyard_testkit::{FakeOptions, FakeUpstream};

const CONFIG: &str = r#"{
  "providers": {
    "oa": {"network_config": {"base_url": "{gw}/mlflow", "max_retries": 0},
           "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}},
    "oai": {"network_config": {"base_url": "{gw}", "max_retries": 0},
            "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}},
    "chatonly": {"network_config": {"base_url": "{gw}/mlflow", "max_retries": 0},
                 "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true,
                   "allowed_requests": {"chat_completion": true, "chat_completion_stream": true}}},
    "an": {"network_config": {"base_url": "{gw}/anthropic", "max_retries": 0},
           "custom_provider_config": {"base_provider_type": "anthropic", "is_key_less": true}}
  }
}"#;

/// Records every phase it is called for.
#[derive(Default)]
struct Recorder {
    settled: Mutex<Vec<(RequestContext, Outcome)>>,
    identified: Mutex<Vec<Option<String>>>,
    /// `admit` refuses models that start with this.
    refuse: Mutex<Option<String>>,
}

impl RequestHooks for Recorder {
    fn identify(&self, _ctx: &mut RequestContext, credentials: &Credentials) -> Result<(), GatewayError> {
        self.identified.lock().unwrap().push(credentials.presented_key.clone());
        Ok(())
    }

    fn admit<'a>(&'a self, ctx: &'a mut RequestContext) -> futures::future::BoxFuture<'a, Result<(), GatewayError>> {
        let refuse = self.refuse.lock().unwrap().clone();
        Box::pin(async move {
            match refuse {
                Some(prefix) if ctx.requested_model.starts_with(&prefix) => Err(GatewayError::Rejected {
                    status: 429,
                    code: "rate_limited".into(),
                    message: format!("{} is over its limit", ctx.requested_model),
                }),
                _ => Ok(()),
            }
        })
    }

    fn settle(&self, ctx: &RequestContext, outcome: &Outcome) {
        self.settled.lock().unwrap().push((ctx.clone(), outcome.clone()));
    }
}

impl Recorder {
    /// Waits (briefly) until `n` requests have settled, then a little more to
    /// catch a second settlement of any of them.
    async fn settled(&self, n: usize) -> Vec<(RequestContext, Outcome)> {
        for _ in 0..200 {
            if self.settled.lock().unwrap().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let got = std::mem::take(&mut *self.settled.lock().unwrap());
        assert_eq!(got.len(), n, "settled {} times: {:?}", got.len(), got.iter().map(|(_, o)| o).collect::<Vec<_>>());
        got
    }
}

async fn start() -> (common::Harness, Arc<Recorder>) {
    let fake = FakeUpstream::start_with(FakeOptions::default()).await.unwrap();
    let text = CONFIG.replace("{gw}", &fake.url(""));
    let h = common::start_from_config_text(fake, &text).await;
    let rec = Arc::new(Recorder::default());
    h.gateway.add_hooks(rec.clone());
    (h, rec)
}

fn chat(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "max_tokens": 32, "messages": [{"role": "user", "content": "say hello to the gateway"}]})
}

fn responses(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "input": "say hello to the gateway"})
}

/// `data:` payloads of an event stream, parsed.
fn events(text: &str) -> Vec<Value> {
    text.lines().filter_map(|l| l.strip_prefix("data: ")).filter_map(|d| serde_json::from_str(d).ok()).collect()
}

/// (input incl. cache, output) as the client was told, in its dialect.
fn told(dialect: &str, text: &str, stream: bool) -> (u64, u64) {
    let n = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    match (dialect, stream) {
        ("chat", false) => {
            let v: Value = serde_json::from_str(text).unwrap();
            (n(&v, "/usage/prompt_tokens"), n(&v, "/usage/completion_tokens"))
        }
        ("chat", true) => {
            let ev = events(text);
            let u = ev.iter().rev().find(|e| e["usage"].is_object()).expect("a usage chunk");
            (n(u, "/usage/prompt_tokens"), n(u, "/usage/completion_tokens"))
        }
        ("anthropic", false) => {
            let v: Value = serde_json::from_str(text).unwrap();
            let input = n(&v, "/usage/input_tokens")
                + n(&v, "/usage/cache_read_input_tokens")
                + n(&v, "/usage/cache_creation_input_tokens");
            (input, n(&v, "/usage/output_tokens"))
        }
        ("anthropic", true) => {
            let ev = events(text);
            let start = ev.iter().find(|e| e["type"] == "message_start").expect("message_start");
            let delta = ev.iter().find(|e| e["type"] == "message_delta").expect("message_delta");
            let input = |v: &Value, at: &str| {
                n(v, &format!("{at}/input_tokens"))
                    + n(v, &format!("{at}/cache_read_input_tokens"))
                    + n(v, &format!("{at}/cache_creation_input_tokens"))
            };
            // The final counts: message_delta repeats the input when it knows it
            // (a translated OpenAI upstream reports it only at the end).
            (input(start, "/message/usage").max(input(delta, "/usage")), n(delta, "/usage/output_tokens"))
        }
        ("responses", false) => {
            let v: Value = serde_json::from_str(text).unwrap();
            (n(&v, "/usage/input_tokens"), n(&v, "/usage/output_tokens"))
        }
        ("responses", true) => {
            let ev = events(text);
            let done = ev.iter().find(|e| e["type"] == "response.completed").expect("response.completed");
            (n(done, "/response/usage/input_tokens"), n(done, "/response/usage/output_tokens"))
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn usage_is_captured_on_every_path_and_matches_what_the_client_was_told() {
    let (h, rec) = start().await;
    let with_usage = |mut b: Value| {
        b["stream_options"] = json!({"include_usage": true});
        b
    };
    // (label, path, body, dialect the client reads, stream)
    let cases: Vec<(&str, &str, Value, &str, bool)> = vec![
        ("passthrough chat", "/v1/chat/completions", chat("oa/m", false), "chat", false),
        ("passthrough chat stream", "/v1/chat/completions", with_usage(chat("oa/m", true)), "chat", true),
        ("passthrough messages", "/anthropic/v1/messages", chat("an/m", false), "anthropic", false),
        ("passthrough messages stream", "/anthropic/v1/messages", chat("an/m", true), "anthropic", true),
        ("passthrough responses", "/v1/responses", responses("oai/m", false), "responses", false),
        ("passthrough responses stream", "/v1/responses", responses("oai/m", true), "responses", true),
        ("translated chat → messages", "/v1/chat/completions", chat("an/m", false), "chat", false),
        ("translated chat stream → messages", "/v1/chat/completions", with_usage(chat("an/m", true)), "chat", true),
        ("translated messages → chat", "/anthropic/v1/messages", chat("oa/m", false), "anthropic", false),
        ("translated messages stream → chat", "/anthropic/v1/messages", chat("oa/m", true), "anthropic", true),
        ("emulated responses via chat", "/v1/responses", responses("chatonly/m", false), "responses", false),
        ("emulated responses stream via chat", "/v1/responses", responses("chatonly/m", true), "responses", true),
        ("translated responses → messages", "/v1/responses", responses("an/m", true), "responses", true),
    ];
    for (label, path, body, dialect, stream) in cases {
        let resp = h.post(path, &body).await;
        assert_eq!(resp.status(), 200, "{label}");
        let text = resp.text().await.unwrap();
        let (input, output) = told(dialect, &text, stream);
        assert!(input > 0 && output > 0, "{label}: the fake reports usage: {text}");
        let got = rec.settled(1).await;
        let (ctx, o) = &got[0];
        assert_eq!(o.end, End::Completed, "{label}");
        assert!(!o.usage_estimated, "{label}: reported, not estimated");
        assert_eq!((o.usage.total_input(), o.usage.output_tokens), (input, output), "{label}");
        assert_eq!(ctx.stream, stream, "{label}");
        assert!(o.ttft.is_some() && o.ttft <= Some(o.duration), "{label}: {o:?}");
        assert!(o.finish_reason.is_some(), "{label}: {o:?}");
    }
    // Embeddings report input only; count_tokens consumes nothing.
    let resp = h.post("/v1/embeddings", &json!({"model": "oa/e", "input": "one two three"})).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    let (_, o) = rec.settled(1).await.remove(0);
    assert_eq!(o.usage.total_input(), body["usage"]["prompt_tokens"].as_u64().unwrap());
    assert!(!o.usage_estimated);
    let resp = h
        .post(
            "/anthropic/v1/messages/count_tokens",
            &json!({"model": "an/m", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let (_, o) = rec.settled(1).await.remove(0);
    assert_eq!((o.usage.total(), o.usage_estimated), (0, false));
}

#[tokio::test]
async fn a_passthrough_stream_gets_usage_the_client_did_not_ask_for_without_seeing_it() {
    let (h, rec) = start().await;
    // The same request straight to an identical upstream, for the bytes the client would get.
    let direct = FakeUpstream::start().await.unwrap();
    let body = chat("m", true);
    let direct_text = reqwest::Client::new()
        .post(direct.url("/mlflow/v1/chat/completions"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut via = body.clone();
    via["model"] = json!("oa/m");
    let text = h.post("/v1/chat/completions", &via).await.text().await.unwrap();
    assert_eq!(text, direct_text, "the client's bytes are what a direct call returns");
    assert!(!text.contains("usage"));
    let sent = h.chat_requests().pop().unwrap();
    assert_eq!(sent.body["stream_options"], json!({"include_usage": true}), "asked upstream");
    let (_, o) = rec.settled(1).await.remove(0);
    assert!(!o.usage_estimated, "{o:?}");
    // What a client asking for usage is told.
    let mut asked = via.clone();
    asked["stream_options"] = json!({"include_usage": true});
    let told_text = h.post("/v1/chat/completions", &asked).await.text().await.unwrap();
    assert_eq!((o.usage.total_input(), o.usage.output_tokens), told("chat", &told_text, true));
    rec.settled(1).await;
}

#[tokio::test]
async fn settle_runs_exactly_once_on_every_ending() {
    let (h, rec) = start().await;
    // Upstream error: refused before any byte.
    let resp = h.post("/v1/chat/completions", &chat("oa/error-400", false)).await;
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    let (_, o) = rec.settled(1).await.remove(0);
    assert_eq!((o.end, o.status, o.usage.total()), (End::Failed, 400, 0));
    assert_eq!(o.error_code.as_deref(), err["error"]["code"].as_str(), "the code the client saw: {err}");

    // A stream that breaks after it started: settled as broken, output estimated from what was seen.
    let resp = h.post("/anthropic/v1/messages", &chat("oa/fault-reset-x", true)).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("event: error"), "{text}");
    let (_, o) = rec.settled(1).await.remove(0);
    assert_eq!(o.end, End::Broke);
    assert_eq!(o.error_code.as_deref(), Some("upstream_stream_error"));
    assert!(o.usage_estimated && o.usage.total_input() > 0, "{o:?}");

    // An upstream that ends its stream with its own error event: relayed, but not a success.
    let resp = h.post("/anthropic/v1/messages", &chat("an/fault-stream-error", true)).await;
    let text = resp.text().await.unwrap();
    assert!(text.contains("event: error"), "{text}");
    let (_, o) = rec.settled(1).await.remove(0);
    assert_eq!(o.end, End::Broke, "{o:?}");

    // The client leaves after the first chunk of a slow stream.
    let resp = h.post("/v1/chat/completions", &chat("oa/slow-stream", true)).await;
    let mut body = resp.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert!(!first.is_empty());
    drop(body);
    let (_, o) = rec.settled(1).await.remove(0);
    assert_eq!(o.end, End::ClientLeft, "{o:?}");
    assert_eq!(o.status, 200);
    assert!(o.usage.total_input() > 0, "charged for what it asked: {o:?}");

    // A success after two failed candidates settles once, with every attempt.
    let mut b = chat("oa/fault-503-always", false);
    b["fallbacks"] = json!(["oa/fault-529-always", "an/rescue"]);
    let resp = h.post("/v1/chat/completions", &b).await;
    assert_eq!(resp.status(), 200);
    let (ctx, o) = rec.settled(1).await.remove(0);
    assert_eq!(o.end, End::Completed);
    assert_eq!(ctx.candidates, ["oa/fault-503-always", "oa/fault-529-always", "an/rescue"]);
    assert_eq!(ctx.attempts.len(), 2, "two failed attempts recorded: {:?}", ctx.attempts);
    assert_eq!((ctx.provider.as_deref(), ctx.served_model.as_deref()), (Some("an"), Some("rescue")));

    // Refused at receive (bad body) and at admit: settled once each, nothing sent.
    let sent = h.fake.requests().len();
    let resp = h.post("/v1/chat/completions", &json!({"model": "oa/m", "messages": []})).await;
    assert_eq!(resp.status(), 400);
    let (_, o) = rec.settled(1).await.remove(0);
    assert_eq!((o.end, o.status), (End::Failed, 400));
    *rec.refuse.lock().unwrap() = Some("oa/limited".into());
    let resp = h.post("/anthropic/v1/messages", &chat("oa/limited", false)).await;
    assert_eq!(resp.status(), 429);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["type"], "error", "the client's dialect: {err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("over its limit"));
    let resp = h.post("/v1/chat/completions", &chat("oa/limited", false)).await;
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "rate_limited", "{err}");
    for (_, o) in rec.settled(2).await {
        assert_eq!((o.end, o.status, o.error_code.as_deref()), (End::Failed, 429, Some("rate_limited")));
    }
    assert_eq!(h.fake.requests().len(), sent, "refused requests never went upstream");
}

#[tokio::test]
async fn identify_sees_the_client_key_and_the_context_carries_who_and_what() {
    let (h, rec) = start().await;
    let resp = h
        .http
        .post(format!("{}/v1/chat/completions", h.base))
        .header("authorization", "Bearer sk-client-1")
        .header("x-request-id", "req-lifecycle-1")
        .header("user-agent", "lifecycle-test/1")
        .json(&json!({"model": "oa/m", "user": "alice", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = h
        .http
        .post(format!("{}/anthropic/v1/messages", h.base))
        .header("x-api-key", "sk-client-2")
        .header("x-switchyard-user", "bob")
        .json(&json!({"model": "an/m", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let got = rec.settled(2).await;
    assert_eq!(*rec.identified.lock().unwrap(), [Some("sk-client-1".to_string()), Some("sk-client-2".to_string())]);
    let (ctx, _) = &got[0];
    assert_eq!(ctx.request_id, "req-lifecycle-1");
    assert_eq!(ctx.user.as_deref(), Some("alice"));
    assert_eq!(ctx.user_agent.as_deref(), Some("lifecycle-test/1"));
    assert_eq!(ctx.requested_model, "oa/m");
    assert_eq!(ctx.inbound.as_str(), "openai.chat");
    let (ctx, _) = &got[1];
    assert_eq!(ctx.user.as_deref(), Some("bob"));
    assert!(!ctx.request_id.is_empty(), "generated at the edge");
    assert!(h.fake.requests().iter().all(|r| r.header("authorization").is_none() && r.header("x-api-key").is_none()));
}

#[tokio::test]
async fn a_reload_keeps_the_connections_of_untouched_providers() {
    let (h, _rec) = start().await;
    for _ in 0..5 {
        assert_eq!(h.post("/v1/chat/completions", &chat("oa/m", false)).await.status(), 200);
    }
    let before = h.fake.connections();
    assert!(before >= 1);
    // Another provider is added: `oa` is untouched and keeps its pool.
    let text = CONFIG.replace("{gw}", &h.fake.url("")).replace(
        r#""an": {"#,
        r#""extra": {"network_config": {"base_url": "http://127.0.0.1:9"}, "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}},
    "an": {"#,
    );
    let (config, _) = switchyard_core::config::GatewayConfig::parse(&text, &common::env()).unwrap();
    h.gateway.reload(config).unwrap();
    for _ in 0..5 {
        assert_eq!(h.post("/v1/chat/completions", &chat("oa/m", false)).await.status(), 200);
    }
    assert_eq!(h.fake.connections(), before, "no new connection: the pool survived the reload");
    // A changed provider gets a new client (and so a new connection).
    let changed = text.replacen(r#""max_retries": 0}"#, r#""max_retries": 1}"#, 1);
    let (config, _) = switchyard_core::config::GatewayConfig::parse(&changed, &common::env()).unwrap();
    h.gateway.reload(config).unwrap();
    assert_eq!(h.post("/v1/chat/completions", &chat("oa/m", false)).await.status(), 200);
    assert_eq!(h.fake.connections(), before + 1);
}
