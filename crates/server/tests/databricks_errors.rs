//! Databricks' rate limit as each client dialect's own: its
//! `REQUEST_LIMIT_EXCEEDED` body or a bare 429 becomes an OpenAI or Anthropic
//! rate-limit error with a readable message, the upstream's `retry-after`
//! kept, and `x-switchyard-limit: upstream; source=upstream` telling it apart
//! from Switchyard's own limits; a fallback takes over on it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{json, start, DATABRICKS_MLFLOW};
use serde_json::json;

fn header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

#[tokio::test]
async fn a_databricks_limit_is_each_dialects_rate_limit_error_with_its_retry_after() {
    let h = start(DATABRICKS_MLFLOW).await;
    let chat = json!({"model": "databricks-mlflow/databricks-limit-a", "messages": [{"role": "user", "content": "x"}]});
    let r = h.post("/v1/chat/completions", &chat).await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "retry-after").as_deref(), Some("120"), "the upstream's wait, passed on");
    assert_eq!(header(&r, "x-switchyard-limit").as_deref(), Some("upstream; source=upstream"));
    let (_, body) = json(r).await;
    assert_eq!(body["error"]["code"], "REQUEST_LIMIT_EXCEEDED", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("databricks-mlflow") && message.contains("Exceeded workspace QPS limit"), "{message}");
    assert_eq!(h.chat_requests().len(), 1, "a wait past a minute is not retried here: the client is told");

    let messages = json!({"model": "databricks-mlflow/databricks-limit-b", "max_tokens": 16,
                          "messages": [{"role": "user", "content": "x"}]});
    let r = h.post("/anthropic/v1/messages", &messages).await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "retry-after").as_deref(), Some("120"));
    let (_, body) = json(r).await;
    assert_eq!(
        (body["type"].as_str(), body["error"]["type"].as_str()),
        (Some("error"), Some("rate_limit_error")),
        "{body}"
    );
}

#[tokio::test]
async fn a_bare_429_says_what_it_means() {
    let h = start(DATABRICKS_MLFLOW).await;
    let chat =
        json!({"model": "databricks-mlflow/databricks-limit-bare", "messages": [{"role": "user", "content": "x"}]});
    let r = h.post("/v1/chat/completions", &chat).await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "retry-after"), None, "no wait was given, none is invented");
    assert_eq!(header(&r, "x-switchyard-limit").as_deref(), Some("upstream; source=upstream"));
    let (_, body) = json(r).await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("Too Many Requests (the upstream sent no body)"), "{message}");
    assert_eq!(h.chat_requests().len(), 3, "retried as configured (max_retries 2) before giving up");
}

#[tokio::test]
async fn a_fallback_takes_over_from_a_databricks_limit() {
    let h = start(DATABRICKS_MLFLOW).await;
    let chat = json!({"model": "databricks-mlflow/databricks-limit-c", "fallbacks": ["databricks-mlflow/fake-llama"],
                      "messages": [{"role": "user", "content": "x"}]});
    let r = h.post("/v1/chat/completions", &chat).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-switchyard-served-by").as_deref(), Some("databricks-mlflow/fake-llama"));
    assert_eq!(header(&r, "retry-after"), None, "the answer that reached the client set no wait");
}
