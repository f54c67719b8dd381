//! Attribution through the hop: a Databricks provider receives
//! `Databricks-Ai-Gateway-Request-Tags` naming the caller's virtual key, team,
//! user and request id, merged with the client's own tags (which cannot
//! override them); a provider with the tags off, or a fallback to another
//! vendor, is told nothing; a malformed client header is refused by name.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::{api, start_governed, Harness};
use reqwest::Method;
use serde_json::{json, Value};
use switchyard_testkit::FakeUpstream;

const FILE: &str = r#"{"providers": {
  "dbx": {"network_config": {"base_url": "{gw}/mlflow", "max_retries": 0, "databricks_request_tags": true},
    "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}},
  "dbx-native": {"network_config": {"base_url": "{gw}/anthropic", "max_retries": 0, "databricks_request_tags": true},
    "custom_provider_config": {"base_provider_type": "anthropic", "is_key_less": true}},
  "other": {"network_config": {"base_url": "{gw}/mlflow", "max_retries": 0},
    "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}}},
  "routes": {"spill": {"targets": [{"model": "dbx/fault-503-always"}], "fallbacks": ["other/backup"]}}}"#;

async fn caller(h: &Harness) -> String {
    let (status, team) = api(h, Method::POST, "/api/teams", Some(json!({"name": "ml-platform"}))).await;
    assert_eq!(status, 201, "{team}");
    let (status, k) = api(h, Method::POST, "/api/keys", Some(json!({"name": "ci-bot", "team": "ml-platform"}))).await;
    assert_eq!(status, 201, "{k}");
    k["key"].as_str().unwrap().to_string()
}

fn tags_of(r: &switchyard_testkit::RecordedRequest) -> BTreeMap<String, String> {
    let v = r.header("databricks-ai-gateway-request-tags").unwrap_or_else(|| panic!("no tags header on {}", r.path));
    serde_json::from_str(v).unwrap_or_else(|e| panic!("not a JSON object of strings ({e}): {v}"))
}

#[tokio::test]
async fn the_caller_travels_to_databricks_merged_with_the_clients_tags() {
    let h = start_governed(FakeUpstream::start().await.unwrap(), FILE, None).await;
    let token = caller(&h).await;
    let resp = h
        .http
        .post(format!("{}/v1/chat/completions", h.base))
        .bearer_auth(&token)
        .header("x-switchyard-user", "ana@example.com")
        .header("x-request-id", "req-tags-1")
        .header("Databricks-Ai-Gateway-Request-Tags", r#"{"project": "chatbot", "switchyard_key": "forged"}"#)
        .json(&json!({"model": "dbx/llama", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let sent = h.chat_requests().pop().unwrap();
    let tags = tags_of(&sent);
    assert_eq!(tags["project"], "chatbot", "the client's own tag is kept");
    assert_eq!(tags["switchyard_key"], "ci-bot", "and cannot claim another key");
    assert_eq!(tags["switchyard_team"], "ml-platform");
    assert_eq!(tags["switchyard_user"], "ana@example.com");
    assert_eq!(tags["switchyard_request_id"], "req-tags-1");
    assert!(sent.header("authorization").is_none(), "the client's key never travels");

    // Anthropic client, Native provider: the same header on the passthrough.
    let resp = h
        .http
        .post(format!("{}/anthropic/v1/messages", h.base))
        .header("x-api-key", &token)
        .json(&json!({"model": "dbx-native/claude", "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let sent = h.fake.requests().into_iter().rfind(|r| r.path.ends_with("/v1/messages")).unwrap();
    let tags = tags_of(&sent);
    assert_eq!((tags["switchyard_key"].as_str(), tags.contains_key("project")), ("ci-bot", false));
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(tags["switchyard_request_id"], id, "Switchyard's own id when the client sent none");
}

#[tokio::test]
async fn other_vendors_hear_nothing_and_a_malformed_client_header_is_refused() {
    let h = start_governed(FakeUpstream::start().await.unwrap(), FILE, None).await;
    let token = caller(&h).await;
    let send = |model: &'static str, tags: Option<&'static str>| {
        let mut req = h.http.post(format!("{}/v1/chat/completions", h.base)).bearer_auth(&token);
        if let Some(t) = tags {
            req = req.header("Databricks-Ai-Gateway-Request-Tags", t);
        }
        req.json(&json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})).send()
    };
    // Tags off (a loopback host is not a Databricks host): not even the client's pass.
    assert_eq!(send("other/llama", Some(r#"{"project": "x"}"#)).await.unwrap().status(), 200);
    let sent = h.chat_requests().pop().unwrap();
    assert!(sent.header("databricks-ai-gateway-request-tags").is_none());

    // The route's Databricks target fails; its fallback on another provider is not told the caller.
    assert_eq!(send("spill", None).await.unwrap().status(), 200);
    let chats = h.chat_requests();
    let (tried, answered) = (&chats[chats.len() - 2], &chats[chats.len() - 1]);
    assert_eq!(tags_of(tried)["switchyard_key"], "ci-bot");
    assert!(answered.header("databricks-ai-gateway-request-tags").is_none());

    let before = h.chat_requests().len();
    let resp = send("dbx/llama", Some(r#"{"project": 7}"#)).await.unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["param"], "Databricks-Ai-Gateway-Request-Tags", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("JSON object of string values"), "{body}");
    assert_eq!(h.chat_requests().len(), before, "nothing was sent");
}
