//! The request log end to end: a row for every request on every path, with
//! the tokens the upstream reported (estimated, and marked so, where it
//! reported none), the caller and the cost; `GET /api/logs` filters and pages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{api, log_rows as rows, start_governed};
use serde_json::{json, Value};
use switchyard_testkit::FakeUpstream;

const FILE: &str = r#"{"providers": {"db": {"network_config": {"base_url": "{gw}/mlflow"},
    "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true,
      "allowed_requests": {"chat_completion": true, "chat_completion_stream": true, "embedding": true}}},
  "dba": {"network_config": {"base_url": "{gw}/anthropic"},
    "custom_provider_config": {"base_provider_type": "anthropic", "is_key_less": true}}},
  "governance": {"prices": {"db/*": {"input": 1.0, "output": 2.0}}}}"#;

#[tokio::test]
async fn every_request_gets_a_row_with_what_the_upstream_reported() {
    let h = start_governed(FakeUpstream::start().await.unwrap(), FILE, None).await;
    let (_, key) = api(&h, reqwest::Method::POST, "/api/keys", Some(json!({"name": "logged", "team": null}))).await;
    let token = key["key"].as_str().unwrap().to_string();
    let post = |path: &'static str, body: Value| {
        h.http
            .post(format!("{}{path}", h.base))
            .bearer_auth(&token)
            .header("x-switchyard-user", "ana")
            .json(&body)
            .send()
    };
    let chat: Value = post(
        "/v1/chat/completions",
        json!({"model": "db/llama", "messages": [{"role": "user", "content": "one two three"}]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let stream = post(
        "/v1/chat/completions",
        json!({"model": "db/llama", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(stream.contains("[DONE]"));
    let msg: Value = post(
        "/anthropic/v1/messages",
        json!({"model": "dba/claude", "max_tokens": 20, "messages": [{"role": "user", "content": "hello there"}]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let missing =
        post("/v1/chat/completions", json!({"model": "nope/m", "messages": [{"role": "user", "content": "x"}]}))
            .await
            .unwrap();
    assert_eq!(missing.status(), 404);

    let all = rows(&h, "", 4).await;
    assert_eq!(all.len(), 4);
    let [failed, message, streamed, plain] = [&all[0], &all[1], &all[2], &all[3]];

    assert_eq!(plain["inbound"], "openai.chat");
    assert_eq!(
        (plain["provider"].as_str(), plain["model"].as_str(), plain["served_model"].as_str()),
        (Some("db"), Some("db/llama"), Some("llama"))
    );
    assert_eq!(plain["input_tokens"], chat["usage"]["prompt_tokens"], "{plain}");
    assert_eq!(plain["output_tokens"], chat["usage"]["completion_tokens"]);
    assert_eq!(plain["usage_estimated"], false);
    assert_eq!(
        (plain["status"].as_u64(), plain["end"].as_str(), plain["attempts"].as_u64()),
        (Some(200), Some("completed"), Some(1))
    );
    let cost = plain["cost_usd"].as_f64().unwrap();
    let expected = (chat["usage"]["prompt_tokens"].as_f64().unwrap() * 1.0
        + chat["usage"]["completion_tokens"].as_f64().unwrap() * 2.0)
        / 1e6;
    assert!((cost - expected).abs() < 1e-12, "{cost} vs {expected}");
    assert_eq!(plain["key_id"], key["id"]);
    assert_eq!(plain["key_name"], "logged");
    assert_eq!(plain["user"], "ana");
    assert!(plain["ttft_ms"].is_u64() && plain["duration_ms"].is_u64());

    assert_eq!(streamed["stream"], true);
    assert!(streamed["output_tokens"].as_u64().unwrap() > 0);
    assert_eq!(streamed["usage_estimated"], false, "the usage Switchyard asked the stream for");

    assert_eq!(message["inbound"], "anthropic.messages");
    assert_eq!(message["input_tokens"], msg["usage"]["input_tokens"]);
    assert_eq!(message["output_tokens"], msg["usage"]["output_tokens"]);
    assert!(message["cost_usd"].is_null(), "no price covers dba/*: unknown, not $0");

    assert_eq!((failed["status"].as_u64(), failed["end"].as_str()), (Some(404), Some("failed")));
    assert_eq!(failed["error_code"], "provider_not_found");
    assert_eq!((failed["attempts"].as_u64(), failed["input_tokens"].as_u64()), (Some(0), Some(0)));

    // Filters, and one row by its id.
    assert_eq!(rows(&h, "?status=4xx", 1).await.len(), 1);
    assert_eq!(rows(&h, "?provider=dba", 1).await.len(), 1);
    assert_eq!(rows(&h, "?stream=true", 1).await.len(), 1);
    assert_eq!(rows(&h, &format!("?key={}", key["id"].as_str().unwrap()), 4).await.len(), 4);
    let (status, one) =
        api(&h, reqwest::Method::GET, &format!("/api/logs/{}", plain["request_id"].as_str().unwrap()), None).await;
    assert_eq!((status, &one["request_id"]), (200, &plain["request_id"]));
    let (status, bad) = api(&h, reqwest::Method::GET, "/api/logs?status=9xx", None).await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad["error"]["message"].as_str().unwrap().contains("status"));
}

#[tokio::test]
async fn pages_follow_the_cursor_and_shutdown_writes_what_is_queued() {
    let h = start_governed(FakeUpstream::start().await.unwrap(), FILE, None).await;
    for i in 0..5 {
        let r = h
            .post(
                "/v1/chat/completions",
                &json!({"model": "db/m", "messages": [{"role": "user", "content": format!("n{i}")}]}),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    // Shutdown drains the queue at once, without waiting for the next flush.
    h.log_writer.as_ref().unwrap().shutdown().await;
    let (_, page) = api(&h, reqwest::Method::GET, "/api/logs?limit=2", None).await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    let mut ids: Vec<String> =
        page["data"].as_array().unwrap().iter().map(|r| r["request_id"].as_str().unwrap().to_string()).collect();
    let mut cursor = page["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let (_, next) = api(&h, reqwest::Method::GET, &format!("/api/logs?limit=2&cursor={c}"), None).await;
        ids.extend(next["data"].as_array().unwrap().iter().map(|r| r["request_id"].as_str().unwrap().to_string()));
        cursor = next["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(ids.len(), 5);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "each row once");
}
