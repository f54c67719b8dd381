//! Routes (virtual models) and fallbacks: targets by weight, fallbacks in
//! order across base formats, never after the first byte, and one error
//! naming every candidate when all fail.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::{json, Value};
use switchyard_testkit::{FakeOptions, FakeUpstream};

const CONFIG: &str = r#"{
  "providers": {
    "oa": {"network_config": {"base_url": "{gw}/mlflow", "max_retries": 1, "retry_backoff_initial": 5, "retry_backoff_max": 10},
           "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}},
    "an": {"network_config": {"base_url": "{gw}/anthropic", "max_retries": 1, "retry_backoff_initial": 5, "retry_backoff_max": 10},
           "custom_provider_config": {"base_provider_type": "anthropic", "is_key_less": true}},
    "dead": {"network_config": {"base_url": "http://127.0.0.1:9", "max_retries": 0},
             "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}}
  },
  "routes": {
    "weighted": {"targets": [{"model": "oa/heavy", "weight": 3}, {"model": "an/light", "weight": 1}]},
    "claude-sonnet": {"targets": [{"model": "dead/primary"}], "fallbacks": ["an/backup"]},
    "all-bad": {"targets": [{"model": "oa/fault-503-always"}], "fallbacks": ["dead/x", "an/fault-529-always"]}
  }
}"#;

async fn start() -> common::Harness {
    let fake = FakeUpstream::start_with(FakeOptions::default()).await.unwrap();
    let text = CONFIG.replace("{gw}", &fake.url(""));
    common::start_from_config_text(fake, &text).await
}

fn chat(model: &str, stream: bool, extra: Value) -> Value {
    let mut b = json!({"model": model, "stream": stream, "max_tokens": 16, "messages": [{"role": "user", "content": "hi there"}]});
    if let Value::Object(e) = extra {
        b.as_object_mut().unwrap().extend(e);
    }
    b
}

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

#[tokio::test]
async fn route_targets_are_chosen_by_weight() {
    let h = start().await;
    let mut heavy = 0;
    for _ in 0..1_000 {
        let resp = h.post("/v1/chat/completions", &chat("weighted", false, json!({}))).await;
        assert_eq!(resp.status(), 200);
        match header(&resp, "x-switchyard-served-by").as_str() {
            "oa/heavy" => heavy += 1,
            "an/light" => {}
            other => panic!("served by {other:?}"),
        }
    }
    // 3:1 → 750 ± 5 % of 1,000.
    assert!((700..=800).contains(&heavy), "oa/heavy served {heavy} of 1000");
}

#[tokio::test]
async fn a_route_falls_back_across_base_formats_in_both_dialects() {
    let h = start().await;
    for stream in [false, true] {
        let resp = h.post("/v1/chat/completions", &chat("claude-sonnet", stream, json!({}))).await;
        assert_eq!(resp.status(), 200, "stream={stream}");
        assert_eq!(header(&resp, "x-switchyard-served-by"), "an/backup");
        assert_eq!(header(&resp, "x-switchyard-attempts"), "2");
        let text = resp.text().await.unwrap();
        assert!(if stream { text.contains("data: [DONE]") } else { text.contains("chat.completion") }, "{text}");
        let resp = h.post("/anthropic/v1/messages", &chat("claude-sonnet", stream, json!({}))).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(header(&resp, "x-switchyard-served-by"), "an/backup");
    }
}

#[tokio::test]
async fn request_fallbacks_are_tried_in_order_and_never_sent_upstream() {
    let h = start().await;
    for (path, stream) in [
        ("/v1/chat/completions", false),
        ("/v1/chat/completions", true),
        ("/anthropic/v1/messages", false),
        ("/anthropic/v1/messages", true),
    ] {
        let body = chat("oa/fault-503-always", stream, json!({"fallbacks": ["dead/m", "an/rescue"]}));
        let resp = h.post(path, &body).await;
        assert_eq!(resp.status(), 200, "{path} stream={stream}");
        assert_eq!(header(&resp, "x-switchyard-served-by"), "an/rescue");
        assert_eq!(header(&resp, "x-switchyard-attempts"), "3");
    }
    assert!(
        h.fake.requests().iter().all(|r| r.body.get("fallbacks").is_none()),
        "the field is Switchyard's, not the model's"
    );
    let resp = h.post("/v1/chat/completions", &chat("oa/plain", false, json!({}))).await;
    assert_eq!(header(&resp, "x-switchyard-served-by"), "oa/plain");
    assert_eq!(header(&resp, "x-switchyard-attempts"), "1");
}

#[tokio::test]
async fn no_fallback_once_a_byte_reached_the_client() {
    let h = start().await;
    let body = chat("oa/fault-reset-nofb", true, json!({"fallbacks": ["an/never"]}));
    let resp = h.post("/v1/chat/completions", &body).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-switchyard-served-by"), "oa/fault-reset-nofb");
    let text = resp.text().await.unwrap();
    assert!(text.contains("upstream_stream_error"), "{text}");
    assert!(h.fake.requests().iter().all(|r| r.body["model"] != "never"), "the fallback was not tried");
    // A 400 is the request's fault, not the candidate's: no fallback either.
    let resp = h.post("/v1/chat/completions", &chat("oa/error-400", false, json!({"fallbacks": ["an/never"]}))).await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn when_every_candidate_fails_the_error_names_each() {
    let h = start().await;
    let resp = h.post("/v1/chat/completions", &chat("all-bad", false, json!({}))).await;
    assert_eq!(resp.status(), 529, "the last candidate's status");
    let err: Value = resp.json().await.unwrap();
    let message = err["error"]["message"].as_str().unwrap();
    assert_eq!(err["error"]["code"], "all_candidates_failed");
    for c in ["oa/fault-503-always: ", "dead/x: ", "an/fault-529-always: "] {
        assert!(message.contains(c), "{message}");
    }
    let resp = h.post("/anthropic/v1/messages", &chat("all-bad", true, json!({}))).await;
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["type"], "error");
    assert_eq!(err["error"]["type"], "overloaded_error");
    assert!(err["error"]["message"].as_str().unwrap().contains("dead/x"), "{err}");
}

#[tokio::test]
async fn malformed_fallbacks_are_a_400_naming_the_entry() {
    let h = start().await;
    for (fallbacks, param) in
        [(json!("an/x"), "fallbacks"), (json!(["an/x", 3]), "fallbacks[1]"), (json!(["nope/x"]), "fallbacks[0]")]
    {
        let resp = h.post("/v1/chat/completions", &chat("oa/m", false, json!({"fallbacks": fallbacks}))).await;
        assert_eq!(resp.status(), 400);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["param"], param, "{err}");
    }
    assert!(h.fake.requests().is_empty());
}

#[test]
fn route_config_is_validated() {
    use switchyard_core::config::GatewayConfig;
    let text = r#"{"providers": {"oa": {"network_config": {"base_url": "https://h.example"},
        "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}}},
      "routes": {"oa": {"targets": [{"model": "oa/m"}]},
                 "r": {"targets": [{"model": "nope/m", "weight": 0}], "fallbacks": ["justmodel", 7]},
                 "empty": {"targets": []}}}"#;
    let err = GatewayConfig::from_json_str(text).unwrap_err().to_string();
    for expected in [
        "routes.oa: route `oa` has the name of a provider",
        "routes.r.targets[0].model: names provider `nope`, which is not configured",
        "routes.r.targets[0].weight: must be more than zero, got 0",
        "routes.r.fallbacks[0]: \"justmodel\" is not `<provider>/<model>`",
        "routes.r.fallbacks[1]: must be a `<provider>/<model>` string",
        "routes.empty.targets: needs at least one target",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
}
