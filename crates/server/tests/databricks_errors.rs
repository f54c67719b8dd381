//! Databricks' rate limit as each client dialect's own: its
//! `REQUEST_LIMIT_EXCEEDED` body or a bare 429 becomes an OpenAI or Anthropic
//! rate-limit error with a readable message, the upstream's `retry-after`
//! kept, and `x-switchyard-limit: upstream; source=upstream` telling it apart
//! from Switchyard's own limits; a fallback takes over on it. The other
//! Databricks error codes keep their status and say what they mean.

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

/// Each Databricks error code, through the Unified (OpenAI) provider, to an
/// OpenAI client and an Anthropic client: Databricks' status, the dialect's
/// own error type, the code kept (OpenAI `code`), and a message that says what
/// failed (the upstream's words) and where to look (the code's meaning).
#[tokio::test]
async fn every_databricks_error_code_is_each_dialects_error_with_its_status_and_meaning() {
    let h = start(DATABRICKS_MLFLOW).await;
    let cases = [
        ("PERMISSION_DENIED", 403, "permission_error", "permission_error", "CAN QUERY"),
        ("RESOURCE_DOES_NOT_EXIST", 404, "invalid_request_error", "not_found_error", "GET /v1/models lists"),
        (
            "INVALID_PARAMETER_VALUE",
            400,
            "invalid_request_error",
            "invalid_request_error",
            "temperature must be between",
        ),
        ("BAD_REQUEST", 400, "invalid_request_error", "invalid_request_error", "messages must not be empty"),
        ("TEMPORARILY_UNAVAILABLE", 503, "server_error", "api_error", "retry shortly"),
    ];
    for (code, status, openai_type, anthropic_type, says) in cases {
        let model = format!("databricks-mlflow/databricks-error-{code}");
        let chat = json!({"model": model, "messages": [{"role": "user", "content": "x"}]});
        let r = h.post("/v1/chat/completions", &chat).await;
        assert_eq!(r.status(), status, "{code}");
        assert_eq!(header(&r, "x-switchyard-limit"), None, "{code} is not a limit");
        let (_, body) = json(r).await;
        assert_eq!(body["error"]["code"], code, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("databricks-mlflow") && message.contains(says), "{code}: {message}");
        assert!(message.contains(&format!("({code}: ")), "the code's meaning: {message}");
        assert_eq!(body["error"]["type"], openai_type, "{body}");

        let messages = json!({"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": "x"}]});
        let r = h.post("/anthropic/v1/messages", &messages).await;
        assert_eq!(r.status(), status, "{code} (Anthropic client)");
        let (_, body) = json(r).await;
        assert_eq!(
            (body["type"].as_str(), body["error"]["type"].as_str()),
            (Some("error"), Some(anthropic_type)),
            "{body}"
        );
        assert!(body["error"]["message"].as_str().unwrap().contains(says), "{body}");
    }
    // 4xx are the request's own fault: sent once; TEMPORARILY_UNAVAILABLE is retried (max_retries 2).
    let sent =
        |code: &str| h.chat_requests().iter().filter(|r| r.body["model"] == format!("databricks-error-{code}")).count();
    assert_eq!((sent("PERMISSION_DENIED"), sent("BAD_REQUEST")), (2, 2), "once per client");
    assert_eq!(sent("TEMPORARILY_UNAVAILABLE"), 6, "three tries per client");
}
