//! `POST /v1/chat/completions` end to end over real HTTP: client → Switchyard → fake upstream.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{json, start, start_with, DATABRICKS_MLFLOW};
use serde_json::json;
use switchyard_testkit::FakeOptions;

#[tokio::test]
async fn non_stream_passthrough_rewrites_only_the_model_and_sends_the_extra_header() {
    let h = start(DATABRICKS_MLFLOW).await;
    let body = json!({
        "model": "databricks-mlflow/llama-3-70b",
        "messages": [{"role": "user", "content": "Hello!"}],
        "temperature": 0.2,
        "some_future_field": {"nested": [1, 2, 3]}
    });
    let resp = h
        .http
        .post(format!("{}/v1/chat/completions", h.base))
        .header("authorization", "Bearer client-own-secret")
        .header("x-api-key", "client-own-key")
        .header("x-request-id", "req-42")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers().get("x-switchyard-provider").unwrap(), "databricks-mlflow");
    let (status, reply) = json(resp).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["object"], "chat.completion");
    assert_eq!(reply["choices"][0]["message"]["content"], "Hello from llama-3-70b! You said: Hello!");

    let seen = h.chat_requests();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.path, "/mlflow/v1/chat/completions");
    let mut expected = body.clone();
    expected["model"] = json!("llama-3-70b");
    assert_eq!(r.body, expected, "only `model` may change");
    assert_eq!(
        r.header("authorization"),
        Some("Bearer dapi-test-token"),
        "extra header replaces the client's credentials"
    );
    assert_eq!(r.header("x-api-key"), None, "client credentials are never forwarded");
    assert_eq!(r.header("x-request-id"), Some("req-42"), "allow-listed headers pass");
}

#[tokio::test]
async fn the_openai_prefixed_alias_serves_the_same_route() {
    let h = start(DATABRICKS_MLFLOW).await;
    let (status, _) = json(
        h.post(
            "/openai/v1/chat/completions",
            &json!({"model": "databricks-mlflow/m", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn stream_is_relayed_with_usage_and_done() {
    let h = start(DATABRICKS_MLFLOW).await;
    let resp = h
        .post(
            "/v1/chat/completions",
            &json!({"model": "databricks-mlflow/llama", "stream": true, "stream_options": {"include_usage": true},
                    "messages": [{"role": "user", "content": "one two"}]}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let text = resp.text().await.unwrap();
    let datas: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("data: ")).collect();
    assert_eq!(datas.last(), Some(&"[DONE]"));
    let chunks: Vec<serde_json::Value> =
        datas[..datas.len() - 1].iter().map(|d| serde_json::from_str(d).unwrap()).collect();
    let content: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(content, "Hello from llama! You said: one two");
    let usage_chunk = chunks.last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(
        usage_chunk["usage"]["total_tokens"],
        json!(
            usage_chunk["usage"]["prompt_tokens"].as_u64().unwrap()
                + usage_chunk["usage"]["completion_tokens"].as_u64().unwrap()
        )
    );
    assert_eq!(h.chat_requests()[0].body["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn tool_calls_pass_through_in_both_directions() {
    let h = start(DATABRICKS_MLFLOW).await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}]);
    let (status, reply) = json(h.post("/v1/chat/completions", &json!({"model": "databricks-mlflow/m", "tools": tools, "messages": [{"role": "user", "content": "weather?"}]})).await).await;
    assert_eq!(status, 200);
    assert_eq!(reply["choices"][0]["finish_reason"], "tool_calls");
    let call = &reply["choices"][0]["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "get_weather");
    let follow_up = json!({"model": "databricks-mlflow/m", "tools": tools, "messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": null, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21C"}
    ]});
    let (_, reply) = json(h.post("/v1/chat/completions", &follow_up).await).await;
    assert_eq!(reply["choices"][0]["message"]["content"], "The tool said: sunny, 21C");
    assert_eq!(h.chat_requests()[1].body["messages"][1]["tool_calls"][0]["id"], call["id"]);
}

#[tokio::test]
async fn keyed_provider_sends_bearer_key_of_a_key_serving_the_model() {
    let h = start(
        r#"{"keyed": {
            "keys": [{"name": "a", "value": "env.OPENAI_KEY_A", "models": ["model-a"], "weight": 1},
                     {"name": "b", "value": "sk-literal-b", "models": ["model-b"], "weight": 1}],
            "network_config": {"base_url": "{gw}/v1"},
            "custom_provider_config": {"base_provider_type": "openai"}
        }}"#,
    )
    .await;
    for (model, key) in [("model-a", "Bearer sk-a"), ("model-b", "Bearer sk-literal-b")] {
        let (status, _) = json(
            h.post(
                "/v1/chat/completions",
                &json!({"model": format!("keyed/{model}"), "messages": [{"role": "user", "content": "x"}]}),
            )
            .await,
        )
        .await;
        assert_eq!(status, 200);
        let last = h.chat_requests().pop().unwrap();
        assert_eq!(last.path, "/v1/chat/completions", "a base URL ending in /v1 gets no second /v1");
        assert_eq!(last.header("authorization"), Some(key));
    }
    let (status, err) = json(
        h.post(
            "/v1/chat/completions",
            &json!({"model": "keyed/model-c", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(err["error"]["code"], "no_key_for_model");
}

#[tokio::test]
async fn keyless_provider_without_headers_sends_no_auth() {
    let h = start(r#"{"open": {"network_config": {"base_url": "{gw}"}, "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}}}"#).await;
    let (status, _) = json(
        h.post("/v1/chat/completions", &json!({"model": "open/m", "messages": [{"role": "user", "content": "x"}]}))
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(h.chat_requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn allowed_requests_gate_chat_and_stream_separately() {
    let h = start(
        r#"{"nostream": {"network_config": {"base_url": "{gw}"},
            "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true,
              "allowed_requests": {"chat_completion": true, "chat_completion_stream": false}}}}"#,
    )
    .await;
    let msgs = json!([{"role": "user", "content": "x"}]);
    let (status, _) =
        json(h.post("/v1/chat/completions", &json!({"model": "nostream/m", "messages": msgs})).await).await;
    assert_eq!(status, 200);
    let (status, err) =
        json(h.post("/v1/chat/completions", &json!({"model": "nostream/m", "messages": msgs, "stream": true})).await)
            .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "request_type_not_allowed");
    assert_eq!(err["error"]["param"], "stream");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("nostream")
            && message.contains("chat_completion_stream")
            && message.contains("allowed: chat_completion"),
        "{message}"
    );
    assert_eq!(h.chat_requests().len(), 1, "a refused request never reaches the upstream");
}

#[tokio::test]
async fn retries_a_503_then_succeeds() {
    let h = start(DATABRICKS_MLFLOW).await;
    let (status, reply) = json(
        h.post(
            "/v1/chat/completions",
            &json!({"model": "databricks-mlflow/fault-503-once", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(h.chat_requests().len(), 2);
}

#[tokio::test]
async fn retries_a_429_honouring_retry_after_then_succeeds() {
    let h = start(DATABRICKS_MLFLOW).await;
    let (status, _) = json(
        h.post(
            "/v1/chat/completions",
            &json!({"model": "databricks-mlflow/fault-429-once", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(h.chat_requests().len(), 2);
}

#[tokio::test]
async fn a_stream_is_retried_before_its_first_byte() {
    let h = start(DATABRICKS_MLFLOW).await;
    let resp = h.post("/v1/chat/completions", &json!({"model": "databricks-mlflow/fault-503-once-s", "stream": true, "messages": [{"role": "user", "content": "x"}]})).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().ends_with("data: [DONE]\n\n"));
    assert_eq!(h.chat_requests().len(), 2);
}

#[tokio::test]
async fn exhausted_retries_return_the_upstream_status_and_databricks_message() {
    let h = start(DATABRICKS_MLFLOW).await;
    let (status, err) = json(
        h.post(
            "/v1/chat/completions",
            &json!({"model": "databricks-mlflow/fault-503-always", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 503);
    assert_eq!(h.chat_requests().len(), 3, "one try plus max_retries=2");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("databricks-mlflow") && message.contains("The service is temporarily unavailable."),
        "{message}"
    );
    assert_eq!(err["error"]["code"], "TEMPORARILY_UNAVAILABLE");
    assert_eq!(err["error"]["type"], "server_error");
}

#[tokio::test]
async fn client_errors_are_not_retried_and_keep_status_and_message() {
    let h = start(DATABRICKS_MLFLOW).await;
    let (status, err) = json(
        h.post(
            "/v1/chat/completions",
            &json!({"model": "databricks-mlflow/error-400", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(h.chat_requests().len(), 1);
    assert!(err["error"]["message"].as_str().unwrap().contains("Invalid request: model error-400 rejects this input"));
    assert_eq!(err["error"]["code"], "BAD_REQUEST");
    let (status, err) = json(
        h.post(
            "/v1/chat/completions",
            &json!({"model": "databricks-mlflow/error-openai-404", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "model_not_found");
    assert_eq!(err["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn upstream_auth_failure_is_reported_with_its_status() {
    let opts = FakeOptions { expect_bearer: Some("the-right-token".into()), ..FakeOptions::default() };
    let h = start_with(DATABRICKS_MLFLOW, opts, None).await;
    let (status, err) = json(
        h.post(
            "/v1/chat/completions",
            &json!({"model": "databricks-mlflow/m", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 401);
    assert!(err["error"]["message"].as_str().unwrap().contains("Invalid access token."));
}

#[tokio::test]
async fn unknown_provider_is_a_404_listing_the_configured_ones() {
    let h = start(DATABRICKS_MLFLOW).await;
    let (status, err) = json(
        h.post("/v1/chat/completions", &json!({"model": "nope/m", "messages": [{"role": "user", "content": "x"}]}))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "provider_not_found");
    assert_eq!(err["error"]["param"], "model");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("\"nope\"") && message.contains("databricks-mlflow"), "{message}");
    let (status, err) = json(
        h.post("/v1/chat/completions", &json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "model_not_routed");
}

#[tokio::test]
async fn malformed_requests_are_400s_naming_the_problem() {
    let h = start(DATABRICKS_MLFLOW).await;
    let (status, err) =
        json(h.post_raw("/v1/chat/completions", "{\"model\": \"databricks-mlflow/m\",\n \"messages\": [}").await).await;
    assert_eq!(status, 400);
    let message = err["error"]["message"].as_str().unwrap();
    assert!(message.contains("not valid JSON") && message.contains("line 2"), "{message}");
    assert_eq!(err["error"]["type"], "invalid_request_error");

    let cases = [
        (r#"{"messages": [{"role": "user", "content": "x"}]}"#, "model", "is required"),
        (r#"{"model": 7, "messages": [{"role": "user", "content": "x"}]}"#, "model", "must be a string"),
        (r#"{"model": "databricks-mlflow/m", "messages": []}"#, "messages", "at least one"),
        (r#"{"model": "databricks-mlflow/m"}"#, "messages", "is required"),
        (
            r#"{"model": "databricks-mlflow/m", "messages": [{"role": "user", "content": "x"}], "stream": "yes"}"#,
            "stream",
            "must be a boolean",
        ),
        (
            r#"{"model": "databricks-mlflow/m", "messages": [{"role": "user", "content": "x"}], "stream_options": {"include_usage": true}}"#,
            "stream_options",
            "only allowed when `stream` is true",
        ),
    ];
    for (body, param, needle) in cases {
        let (status, err) = json(h.post_raw("/v1/chat/completions", body).await).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(err["error"]["param"], param, "{body}");
        assert!(err["error"]["message"].as_str().unwrap().contains(needle), "{body}: {err}");
    }
    let (status, _) = json(h.post_raw("/v1/chat/completions", "[1]").await).await;
    assert_eq!(status, 400);
    assert!(h.chat_requests().is_empty());
}

#[tokio::test]
async fn oversized_bodies_are_refused_with_413() {
    let h = start_with(DATABRICKS_MLFLOW, FakeOptions::default(), Some(1)).await;
    let big = "x".repeat(1024 * 1024 + 10);
    let (status, err) = json(
        h.post(
            "/v1/chat/completions",
            &json!({"model": "databricks-mlflow/m", "messages": [{"role": "user", "content": big}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(err["error"]["code"], "request_too_large");
    assert!(h.chat_requests().is_empty());
}

async fn stream_text(h: &common::Harness, model: &str) -> String {
    let resp = h
        .post(
            "/v1/chat/completions",
            &json!({"model": model, "stream": true, "messages": [{"role": "user", "content": "a b c"}]}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // The body may end abnormally; collect what arrives.
    let mut out = Vec::new();
    let mut resp = resp;
    while let Ok(Some(chunk)) = resp.chunk().await {
        out.extend_from_slice(&chunk);
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn an_upstream_stream_reset_ends_the_client_stream_with_an_error_event() {
    let h = start(DATABRICKS_MLFLOW).await;
    let text = stream_text(&h, "databricks-mlflow/fault-reset").await;
    assert!(!text.contains("[DONE]"), "{text}");
    let last = text.trim_end().lines().last().unwrap();
    let err: serde_json::Value = serde_json::from_str(last.strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(err["error"]["code"], "upstream_stream_error");
    assert!(err["error"]["message"].as_str().unwrap().contains("databricks-mlflow"));
}

#[tokio::test]
async fn a_stream_that_ends_without_done_is_reported_as_truncated() {
    let h = start(DATABRICKS_MLFLOW).await;
    let text = stream_text(&h, "databricks-mlflow/fault-truncate").await;
    assert!(text.contains("\"code\":\"upstream_stream_truncated\""), "{text}");
    assert!(!text.contains("[DONE]"));
}

#[tokio::test]
async fn an_unreachable_upstream_is_retried_then_reported_as_502() {
    let h = start(
        r#"{"down": {"network_config": {"base_url": "http://127.0.0.1:9", "max_retries": 2, "retry_backoff_initial": 5, "retry_backoff_max": 10},
            "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}}}"#,
    )
    .await;
    let (status, err) = json(
        h.post("/v1/chat/completions", &json!({"model": "down/m", "messages": [{"role": "user", "content": "x"}]}))
            .await,
    )
    .await;
    assert_eq!(status, 502);
    assert_eq!(err["error"]["code"], "upstream_unreachable");
    assert!(err["error"]["message"].as_str().unwrap().contains("\"down\" is unreachable"));
}

#[tokio::test]
async fn a_silent_upstream_hits_the_request_timeout() {
    let h = start(
        r#"{"slow": {"network_config": {"base_url": "{gw}", "default_request_timeout_in_seconds": 1, "max_retries": 0},
            "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}}}"#,
    )
    .await;
    let (status, err) = json(
        h.post("/v1/chat/completions", &json!({"model": "slow/hang", "messages": [{"role": "user", "content": "x"}]}))
            .await,
    )
    .await;
    assert_eq!(status, 504);
    assert_eq!(err["error"]["code"], "upstream_timeout");
}

#[tokio::test]
async fn a_config_reload_applies_to_the_next_request_without_restart() {
    let h = start(DATABRICKS_MLFLOW).await;
    let msgs = json!([{"role": "user", "content": "x"}]);
    h.post("/v1/chat/completions", &json!({"model": "databricks-mlflow/m", "messages": msgs})).await;
    let mut config = h.gateway.snapshot().config.clone();
    let p = config.providers.get_mut("databricks-mlflow").unwrap();
    p.network_config.extra_headers.insert("Authorization".into(), "Bearer rotated".into());
    h.gateway.reload(config).unwrap();
    h.post("/v1/chat/completions", &json!({"model": "databricks-mlflow/m", "messages": msgs})).await;
    let seen = h.chat_requests();
    assert_eq!(seen[0].header("authorization"), Some("Bearer dapi-test-token"));
    assert_eq!(seen[1].header("authorization"), Some("Bearer rotated"));
}

#[tokio::test]
async fn a_stream_in_flight_finishes_on_the_config_it_started_with() {
    let h = start(DATABRICKS_MLFLOW).await;
    let resp = h.post("/v1/chat/completions", &json!({"model": "databricks-mlflow/slow", "stream": true, "messages": [{"role": "user", "content": "a b c d"}]})).await;
    // Remove the provider while the stream is still flowing.
    h.gateway.reload(Default::default()).unwrap();
    let text = resp.text().await.unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let (status, _) = json(
        h.post(
            "/v1/chat/completions",
            &json!({"model": "databricks-mlflow/m", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404, "new requests see the new config");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_openai_json() {
    let h = start(DATABRICKS_MLFLOW).await;
    let (status, err) = json(h.get("/v1/nothing-here").await).await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "unknown_route");
    let (status, err) = json(h.get("/v1/chat/completions").await).await;
    assert_eq!(status, 405);
    assert_eq!(err["error"]["code"], "method_not_allowed");
    // The alias is matched at the edge like the route itself, and refusals carry the request id too.
    let resp = h.get("/openai/v1/embeddings").await;
    assert!(resp.headers().contains_key("x-request-id"));
    let (status, err) = json(resp).await;
    assert_eq!(status, 405);
    assert!(err["error"]["message"].as_str().unwrap().contains("GET is not allowed on /openai/v1/embeddings"), "{err}");
    let (status, _) = json(h.get("/openai/v1/chat/completions/").await).await;
    assert_eq!(status, 404, "a trailing slash is another path");
}

#[tokio::test]
async fn health_reports_ok() {
    let h = start(DATABRICKS_MLFLOW).await;
    let (status, body) = json(h.get("/health").await).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["providers"], 1);
}
