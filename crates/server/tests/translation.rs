//! Every cell of the dispatch table over real HTTP: client dialect → Switchyard
//! → fake upstream speaking the provider's base format (which validates what a
//! translation can get wrong: max_tokens, tool pairing, empty blocks, ids).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{json, start, Harness};
use serde_json::{json, Value};

/// Both kinds of provider in front of the same fake AI Gateway, as the seed sets them up.
const PROVIDERS: &str = r#"{
  "dbx-openai": {
    "network_config": {"base_url": "{gw}/mlflow", "extra_headers": {"Authorization": "Bearer env.DBX_TOKEN"}},
    "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true,
      "allowed_requests": {"chat_completion": true, "chat_completion_stream": true, "embedding": true}},
    "request_shaping": {"drop_fields": ["store", "tools[].function.strict"]}
  },
  "dbx-anthropic": {
    "network_config": {"base_url": "{gw}/anthropic", "extra_headers": {"Authorization": "Bearer env.DBX_TOKEN"}},
    "custom_provider_config": {"base_provider_type": "anthropic", "is_key_less": true,
      "allowed_requests": {"chat_completion": true, "chat_completion_stream": true, "responses": true,
        "responses_stream": true, "text_completion": true, "text_completion_stream": true, "count_tokens": true}},
    "request_shaping": {"drop_fields": ["tools[].eager_input_streaming"], "anthropic_beta": ["interleaved-thinking-2025-05-14"]}
  },
  "full-openai": {
    "network_config": {"base_url": "{gw}"},
    "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}
  }
}"#;

fn upstream(h: &Harness, suffix: &str) -> Vec<switchyard_testkit::RecordedRequest> {
    h.fake.requests().into_iter().filter(|r| r.path.split('?').next().unwrap_or_default().ends_with(suffix)).collect()
}

/// Parses an SSE body into (event name, JSON data) pairs; `[DONE]` becomes ("", "[DONE]").
fn sse(text: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let mut name = String::new();
        let mut data = String::new();
        for line in block.lines() {
            if let Some(n) = line.strip_prefix("event: ") {
                name = n.to_string();
            } else if let Some(d) = line.strip_prefix("data: ") {
                data.push_str(d);
            }
        }
        if data == "[DONE]" {
            out.push((name, json!("[DONE]")));
        } else if !data.is_empty() {
            out.push((name, serde_json::from_str(&data).unwrap_or_else(|e| panic!("bad JSON {data}: {e}"))));
        }
    }
    out
}

async fn stream(h: &Harness, path: &str, body: &Value) -> Vec<(String, Value)> {
    let resp = h.post(path, body).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    sse(&resp.text().await.unwrap())
}

const WEATHER_TOOL: &str = r#"{"type": "function", "function": {"name": "get_weather", "strict": true,
  "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}"#;

// ------------------------------------------------------------ openai.chat

#[tokio::test]
async fn chat_to_anthropic_base_translates_request_and_response() {
    let h = start(PROVIDERS).await;
    let (status, reply) = json(
        h.post(
            "/v1/chat/completions",
            &json!({"model": "dbx-anthropic/claude-x", "temperature": 1.7, "stop": "END", "user": "u-1",
                    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["object"], "chat.completion");
    assert_eq!(reply["choices"][0]["message"]["content"], "Hello from claude-x! You said: Hello!");
    assert_eq!(reply["choices"][0]["finish_reason"], "stop");
    let usage = &reply["usage"];
    assert_eq!(
        usage["total_tokens"],
        json!(usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap())
    );

    let [sent] = upstream(&h, "/anthropic/v1/messages").try_into().unwrap();
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("authorization"), Some("Bearer dapi-test-token"));
    assert_eq!(sent.body["model"], "claude-x");
    assert_eq!(sent.body["system"], "Be brief.", "leading system messages become the top-level system");
    assert_eq!(sent.body["max_tokens"], 4096, "max_tokens supplied when the client gave none");
    assert_eq!(sent.body["temperature"], 1.0, "temperature clamped to Anthropic's 0-1");
    assert_eq!(sent.body["stop_sequences"], json!(["END"]));
    assert_eq!(sent.body["metadata"]["user_id"], "u-1");
    assert_eq!(sent.body["messages"], json!([{"role": "user", "content": [{"type": "text", "text": "Hello!"}]}]));
}

#[tokio::test]
async fn chat_stream_from_anthropic_base_ends_with_usage_and_done() {
    let h = start(PROVIDERS).await;
    let events = stream(
        &h,
        "/v1/chat/completions",
        &json!({"model": "dbx-anthropic/m", "stream": true, "stream_options": {"include_usage": true},
                "messages": [{"role": "user", "content": "one two"}]}),
    )
    .await;
    assert_eq!(events.last().unwrap().1, json!("[DONE]"));
    let chunks: Vec<&Value> = events.iter().map(|(_, v)| v).filter(|v| v.is_object()).collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, "Hello from m! You said: one two");
    assert!(chunks.iter().any(|c| c["choices"][0]["finish_reason"] == "stop"));
    let usage_chunk = chunks.last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert!(usage_chunk["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    assert!(chunks.iter().all(|c| c["object"] == "chat.completion.chunk"));
}

#[tokio::test]
async fn chat_tool_loop_through_anthropic_base() {
    let h = start(PROVIDERS).await;
    let tools: Value = serde_json::from_str(&format!("[{WEATHER_TOOL}]")).unwrap();
    let (_, first) = json(
        h.post(
            "/v1/chat/completions",
            &json!({"model": "dbx-anthropic/m", "tools": tools, "parallel_tool_calls": false,
        "messages": [{"role": "user", "content": "Weather in Paris?"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(first["choices"][0]["finish_reason"], "tool_calls");
    let call = first["choices"][0]["message"]["tool_calls"][0].clone();
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(call["function"]["arguments"].as_str().unwrap()).unwrap(),
        json!({"location": "Paris"})
    );
    let sent = &upstream(&h, "/v1/messages")[0];
    assert_eq!(sent.body["tools"][0]["name"], "get_weather");
    assert_eq!(sent.body["tools"][0]["input_schema"]["properties"]["location"]["type"], "string");
    assert_eq!(sent.body["tool_choice"], json!({"type": "auto", "disable_parallel_tool_use": true}));

    let (status, second) = json(
        h.post(
            "/v1/chat/completions",
            &json!({"model": "dbx-anthropic/m", "tools": tools, "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": null, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": call["id"], "content": "sunny"},
                {"role": "user", "content": "Thanks"}
            ]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "the fake validates tool_use/tool_result pairing: {second}");
    let sent = &upstream(&h, "/v1/messages")[1];
    let turn = &sent.body["messages"][2];
    assert_eq!(turn["role"], "user");
    assert_eq!(turn["content"][0]["type"], "tool_result", "tool results open the user turn");
    assert_eq!(turn["content"][0]["tool_use_id"], call["id"]);
    assert_eq!(turn["content"][1], json!({"type": "text", "text": "Thanks"}));
}

#[tokio::test]
async fn chat_features_anthropic_cannot_express_are_refused() {
    let h = start(PROVIDERS).await;
    for (extra, param) in [
        (json!({"n": 2}), "n"),
        (json!({"logprobs": true}), "logprobs"),
        (json!({"response_format": {"type": "json_object"}}), "response_format"),
    ] {
        let mut body = json!({"model": "dbx-anthropic/m", "messages": [{"role": "user", "content": "x"}]});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (status, err) = json(h.post("/v1/chat/completions", &body).await).await;
        assert_eq!(status, 400, "{param}");
        assert_eq!(err["error"]["param"], param);
    }
    assert!(upstream(&h, "/v1/messages").is_empty());
}

#[tokio::test]
async fn drop_fields_strip_what_databricks_rejects() {
    let h = start(PROVIDERS).await;
    let tools: Value = serde_json::from_str(&format!("[{WEATHER_TOOL}]")).unwrap();
    let (status, _) = json(
        h.post(
            "/v1/chat/completions",
            &json!({"model": "dbx-openai/m", "store": false, "tools": tools,
        "messages": [{"role": "user", "content": "x"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let sent = &upstream(&h, "/mlflow/v1/chat/completions")[0];
    assert!(sent.body.get("store").is_none());
    assert!(sent.body["tools"][0]["function"].get("strict").is_none());
    assert_eq!(sent.body["tools"][0]["function"]["name"], "get_weather");
}

// ------------------------------------------------------ anthropic.messages

#[tokio::test]
async fn messages_to_openai_base_translates_and_streams_with_event_lines() {
    let h = start(PROVIDERS).await;
    let body = json!({"model": "dbx-openai/llama", "max_tokens": 100, "system": [{"type": "text", "text": "x-anthropic-billing-header: cc_version=1"}, {"type": "text", "text": "Be kind."}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi there"}]}]});
    let resp = h
        .http
        .post(format!("{}/anthropic/v1/messages?beta=true", h.base))
        .header("x-api-key", "client-key")
        .header("anthropic-beta", "interleaved-thinking-2025-05-14")
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, msg) = json(resp).await;
    assert_eq!(status, 200, "{msg}");
    assert_eq!(msg["type"], "message");
    assert_eq!(msg["role"], "assistant");
    assert_eq!(msg["content"][0], json!({"type": "text", "text": "Hello from llama! You said: Hi there"}));
    assert_eq!(msg["stop_reason"], "end_turn");
    assert!(msg["usage"]["output_tokens"].as_u64().unwrap() > 0);
    let sent = &upstream(&h, "/mlflow/v1/chat/completions")[0];
    assert_eq!(sent.body["max_tokens"], 100);
    assert_eq!(
        sent.body["messages"][0],
        json!({"role": "system", "content": "Be kind."}),
        "Claude Code's billing header is not sent to other upstreams"
    );
    assert!(sent.header("anthropic-beta").is_none(), "betas never go to openai-base upstreams");
    assert!(sent.header("x-api-key").is_none());

    let mut body = body.clone();
    body["stream"] = json!(true);
    let events = stream(&h, "/anthropic/v1/messages", &body).await;
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    assert!(events.iter().all(|(n, v)| !n.is_empty() && v["type"] == json!(n)), "every event has its event: line");
    let text: String = events.iter().filter_map(|(_, v)| v["delta"]["text"].as_str()).collect();
    assert_eq!(text, "Hello from llama! You said: Hi there");
    let delta = events.iter().find(|(n, _)| n == "message_delta").unwrap();
    assert_eq!(delta.1["delta"]["stop_reason"], "end_turn");
    assert!(delta.1["usage"]["output_tokens"].as_u64().unwrap() > 0, "usage from the include_usage chunk");
    assert_eq!(upstream(&h, "/mlflow/v1/chat/completions")[1].body["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn messages_tool_use_round_trip_over_openai_base() {
    let h = start(PROVIDERS).await;
    let tools = json!([{"name": "Bash", "description": "Run a command", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}},
                       {"name": "DeferredToolPlaceholder", "description": "never call this tool", "input_schema": {"type": "object"}, "defer_loading": true}]);
    let events = stream(
        &h,
        "/anthropic/v1/messages",
        &json!({"model": "dbx-openai/m", "max_tokens": 200, "stream": true, "tools": tools,
        "messages": [{"role": "user", "content": "list files"}]}),
    )
    .await;
    let start =
        events.iter().find(|(n, v)| n == "content_block_start" && v["content_block"]["type"] == "tool_use").unwrap();
    assert_eq!(start.1["content_block"]["name"], "Bash");
    let id = start.1["content_block"]["id"].as_str().unwrap().to_string();
    let args: String = events.iter().filter_map(|(_, v)| v["delta"]["partial_json"].as_str()).collect();
    let input: Value = serde_json::from_str(&args).unwrap();
    assert!(input["command"].as_str().unwrap().contains("switchyard-agent-ok"));
    assert_eq!(events.iter().find(|(n, _)| n == "message_delta").unwrap().1["delta"]["stop_reason"], "tool_use");
    let sent = &upstream(&h, "/chat/completions")[0];
    assert_eq!(sent.body["tools"].as_array().unwrap().len(), 1, "deferred placeholders are not offered");

    let (status, msg) = json(h.post("/anthropic/v1/messages", &json!({"model": "dbx-openai/m", "max_tokens": 200, "tools": tools, "messages": [
        {"role": "user", "content": "list files"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": id, "name": "Bash", "input": input}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": "switchyard-agent-ok"}]}
    ]})).await).await;
    assert_eq!(status, 200);
    assert_eq!(msg["content"][0]["text"], "Agent task complete: switchyard-agent-ok");
    let sent = &upstream(&h, "/chat/completions")[1];
    assert_eq!(sent.body["messages"][1]["tool_calls"][0]["id"], json!(id));
    assert_eq!(sent.body["messages"][2], json!({"role": "tool", "tool_call_id": id, "content": "switchyard-agent-ok"}));
}

#[tokio::test]
async fn messages_passthrough_on_anthropic_base_filters_betas() {
    let h = start(PROVIDERS).await;
    let body = json!({"model": "dbx-anthropic/claude", "max_tokens": 50, "messages": [{"role": "user", "content": "hey"}],
        "tools": [{"name": "t", "input_schema": {"type": "object"}, "eager_input_streaming": true}]});
    let resp = h
        .http
        .post(format!("{}/anthropic/v1/messages?beta=true", h.base))
        .header("authorization", "Bearer client-token")
        .header("anthropic-beta", "interleaved-thinking-2025-05-14, context-management-2025-06-27")
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, msg) = json(resp).await;
    assert_eq!(status, 200, "{msg}");
    assert_eq!(msg["type"], "message");
    let sent = &upstream(&h, "/anthropic/v1/messages")[0];
    assert_eq!(sent.header("anthropic-beta"), Some("interleaved-thinking-2025-05-14"), "per-provider beta allow-list");
    assert_eq!(sent.header("authorization"), Some("Bearer dapi-test-token"), "the client's token is replaced");
    assert_eq!(sent.body["model"], "claude");
    assert!(sent.body["tools"][0].get("eager_input_streaming").is_none());
    assert_eq!(sent.body["messages"], body["messages"]);
}

#[tokio::test]
async fn anthropic_errors_use_anthropic_json() {
    let h = start(PROVIDERS).await;
    let (status, err) = json(
        h.post(
            "/anthropic/v1/messages",
            &json!({"model": "nope/m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(err["type"], "error");
    assert_eq!(err["error"]["type"], "not_found_error");
    assert!(err["error"]["message"].as_str().unwrap().contains("\"nope\""));
    let (status, err) = json(
        h.post(
            "/anthropic/v1/messages",
            &json!({"model": "dbx-openai/m", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["type"], "invalid_request_error");
    assert!(err["error"]["message"].as_str().unwrap().contains("max_tokens"));
}

#[tokio::test]
async fn count_tokens_passes_through_or_is_estimated() {
    let h = start(PROVIDERS).await;
    let body = |m: &str| json!({"model": m, "messages": [{"role": "user", "content": "count these words please"}]});
    let (status, v) = json(h.post("/anthropic/v1/messages/count_tokens", &body("dbx-anthropic/c")).await).await;
    assert_eq!(status, 200);
    assert!(v["input_tokens"].as_u64().unwrap() > 0);
    assert_eq!(upstream(&h, "/anthropic/v1/messages/count_tokens").len(), 1);
    let (status, v) = json(h.post("/anthropic/v1/messages/count_tokens", &body("dbx-openai/c")).await).await;
    assert_eq!(status, 200);
    assert!(v["input_tokens"].as_u64().unwrap() >= 6, "local estimate: {v}");
    assert_eq!(h.fake.requests().len(), 1, "the estimate needs no upstream call");
}

#[tokio::test]
async fn anthropic_models_and_probe() {
    let h = start(PROVIDERS).await;
    let (status, list) = json(h.get("/anthropic/v1/models").await).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = list["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"full-openai/fake-llama"), "{ids:?}");
    assert!(list["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["type"] == "model" && m["created_at"].as_str().unwrap().ends_with('Z')));
    assert_eq!(list["has_more"], false);
    let probe = h.http.head(format!("{}/anthropic/api/hello", h.base)).send().await.unwrap();
    assert_eq!(probe.status(), 200);
}

// ---------------------------------------------------------- openai.responses

#[tokio::test]
async fn responses_on_openai_base_pass_through_when_allowed() {
    let h = start(PROVIDERS).await;
    let (status, r) = json(h.post("/v1/responses", &json!({"model": "full-openai/gpt", "input": "hi"})).await).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["object"], "response");
    assert_eq!(upstream(&h, "/v1/responses").len(), 1);
}

#[tokio::test]
async fn responses_are_emulated_via_chat_when_the_provider_only_allows_chat() {
    let h = start(PROVIDERS).await;
    let (status, r) = json(
        h.post(
            "/v1/responses",
            &json!({"model": "dbx-openai/llama", "instructions": "Be brief.", "input": "hi", "store": false}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["object"], "response");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["output"][0]["type"], "message");
    assert_eq!(r["output"][0]["content"][0]["text"], "Hello from llama! You said: hi");
    assert_eq!(
        r["usage"]["total_tokens"],
        json!(r["usage"]["input_tokens"].as_u64().unwrap() + r["usage"]["output_tokens"].as_u64().unwrap())
    );
    assert!(r["usage"]["input_tokens_details"]["cached_tokens"].is_u64());
    assert!(r["usage"]["output_tokens_details"]["reasoning_tokens"].is_u64());
    assert!(upstream(&h, "/v1/responses").is_empty());
    let sent = &upstream(&h, "/mlflow/v1/chat/completions")[0];
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}])
    );
    assert!(sent.body.get("store").is_none());
}

fn event_types(events: &[(String, Value)]) -> Vec<String> {
    events.iter().map(|(_, v)| v["type"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn responses_stream_over_anthropic_base_with_a_function_call() {
    let h = start(PROVIDERS).await;
    let body = json!({"model": "dbx-anthropic/claude", "stream": true, "input": [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "You are Codex."}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "run it"}]}],
        "tools": [{"type": "function", "name": "exec_command", "strict": false, "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}},
                  {"type": "web_search", "external_web_access": false}],
        "tool_choice": "auto", "parallel_tool_calls": true, "store": false, "include": ["reasoning.encrypted_content"]});
    let events = stream(&h, "/v1/responses", &body).await;
    let types = event_types(&events);
    assert_eq!(&types[..2], ["response.created", "response.in_progress"]);
    assert_eq!(types.last().unwrap(), "response.completed");
    for (i, (name, v)) in events.iter().enumerate() {
        assert_eq!(v["sequence_number"], json!(i), "sequence numbers count from 0");
        assert_eq!(v["type"], json!(name));
    }
    let done: Vec<&Value> =
        events.iter().filter(|(n, _)| n == "response.output_item.done").map(|(_, v)| &v["item"]).collect();
    let call = done.iter().find(|i| i["type"] == "function_call").unwrap();
    assert_eq!(call["name"], "exec_command");
    assert!(call["call_id"].as_str().unwrap().starts_with("toolu_"));
    assert!(serde_json::from_str::<Value>(call["arguments"].as_str().unwrap()).unwrap()["cmd"]
        .as_str()
        .unwrap()
        .contains("switchyard-agent-ok"));
    let completed = &events.last().unwrap().1["response"];
    assert_eq!(completed["status"], "completed");
    assert!(completed["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert!(completed["usage"]["input_tokens_details"]["cached_tokens"].is_u64());
    let sent = &upstream(&h, "/anthropic/v1/messages")[0];
    assert_eq!(sent.body["system"], "You are Codex.");
    assert_eq!(sent.body["tools"].as_array().unwrap().len(), 1, "hosted tools are not offered to other providers");

    // Follow-up turn as Codex sends it: full history, invented item ids, function_call_output.
    let follow = json!({"model": "dbx-anthropic/claude", "stream": true, "store": false, "input": [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "You are Codex."}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "run it"}]},
        {"type": "function_call", "id": "fc_invented", "status": "completed", "name": "exec_command", "arguments": call["arguments"], "call_id": call["call_id"]},
        {"type": "function_call_output", "id": "fco_invented", "call_id": call["call_id"], "output": "Output:\nswitchyard-agent-ok\n"}],
        "tools": body["tools"]});
    let events = stream(&h, "/v1/responses", &follow).await;
    let done: Vec<&Value> =
        events.iter().filter(|(n, _)| n == "response.output_item.done").map(|(_, v)| &v["item"]).collect();
    assert_eq!(done[0]["type"], "message");
    assert_eq!(done[0]["content"][0]["text"], "Agent task complete: switchyard-agent-ok");
}

#[tokio::test]
async fn responses_reasoning_round_trips_its_signature() {
    let h = start(PROVIDERS).await;
    let (status, r) = json(
        h.post(
            "/v1/responses",
            &json!({"model": "dbx-anthropic/think-1", "input": "why?", "reasoning": {"effort": "low"}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let reasoning =
        r["output"].as_array().unwrap().iter().find(|i| i["type"] == "reasoning").cloned().expect("reasoning item");
    assert!(reasoning["encrypted_content"].as_str().unwrap().starts_with("switchyard.thinking.v1:"));
    let sent = &upstream(&h, "/anthropic/v1/messages")[0];
    assert_eq!(sent.body["thinking"], json!({"type": "enabled", "budget_tokens": 1024}));
    let message = r["output"].as_array().unwrap().iter().find(|i| i["type"] == "message").cloned().unwrap();
    let (status, _) = json(
        h.post(
            "/v1/responses",
            &json!({"model": "dbx-anthropic/think-2", "reasoning": {"effort": "low"},
        "input": [{"role": "user", "content": "why?"}, reasoning, message, {"role": "user", "content": "and?"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    let sent = &upstream(&h, "/anthropic/v1/messages")[1];
    let replayed = &sent.body["messages"][1]["content"][0];
    assert_eq!(replayed["type"], "thinking");
    assert!(!replayed["signature"].as_str().unwrap().is_empty(), "the signature comes back unmodified");
}

#[tokio::test]
async fn responses_stateful_features_are_refused_clearly() {
    let h = start(PROVIDERS).await;
    let (status, err) = json(
        h.post("/v1/responses", &json!({"model": "dbx-anthropic/m", "input": "x", "previous_response_id": "resp_1"}))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["param"], "previous_response_id");
}

// -------------------------------------------------------- openai.completions

#[tokio::test]
async fn completions_via_anthropic_and_emulated_on_openai() {
    let h = start(PROVIDERS).await;
    for model in ["dbx-anthropic/m", "dbx-openai/m"] {
        let (status, r) =
            json(h.post("/v1/completions", &json!({"model": model, "prompt": "Say hi", "max_tokens": 20})).await).await;
        assert_eq!(status, 200, "{model}: {r}");
        assert_eq!(r["object"], "text_completion");
        assert_eq!(r["choices"][0]["text"], "Hello from m! You said: Say hi");
        let events = stream(&h, "/v1/completions", &json!({"model": model, "prompt": "Say hi", "stream": true})).await;
        assert_eq!(events.last().unwrap().1, json!("[DONE]"));
        let text: String = events.iter().filter_map(|(_, v)| v["choices"][0]["text"].as_str()).collect();
        assert_eq!(text, "Hello from m! You said: Say hi");
        assert!(events.iter().all(|(_, v)| v == "[DONE]" || v["object"] == "text_completion"));
    }
    assert_eq!(upstream(&h, "/anthropic/v1/messages")[0].body["max_tokens"], 20);
    assert_eq!(upstream(&h, "/anthropic/v1/messages")[1].body["max_tokens"], 16, "OpenAI's completions default");
    let (status, _) =
        json(h.post("/v1/completions", &json!({"model": "full-openai/m", "prompt": "Say hi"})).await).await;
    assert_eq!(status, 200);
    assert_eq!(upstream(&h, "/v1/completions").len(), 1, "passthrough where allowed");
    let (status, err) =
        json(h.post("/v1/completions", &json!({"model": "dbx-anthropic/m", "prompt": "x", "echo": true})).await).await;
    assert_eq!((status, err["error"]["param"].as_str()), (400, Some("echo")));
}

// -------------------------------------------------------- openai.embeddings

#[tokio::test]
async fn embeddings_pass_through_and_are_refused_on_anthropic() {
    let h = start(PROVIDERS).await;
    let (status, r) = json(h.post("/v1/embeddings", &json!({"model": "dbx-openai/bge", "input": "hello"})).await).await;
    assert_eq!(status, 200, "{r}");
    assert!(r["data"][0]["embedding"].is_array());
    assert_eq!(upstream(&h, "/mlflow/v1/embeddings")[0].body["model"], "bge");
    let (status, err) =
        json(h.post("/v1/embeddings", &json!({"model": "dbx-anthropic/x", "input": "hello"})).await).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "unsupported_request");
}

#[tokio::test]
async fn a_default_provider_serves_unprefixed_models() {
    let h = start_default().await;
    let (status, msg) = json(
        h.post(
            "/anthropic/v1/messages",
            &json!({"model": "claude-haiku-4-5", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{msg}");
    assert_eq!(upstream(&h, "/anthropic/v1/messages")[0].body["model"], "claude-haiku-4-5");
}

async fn start_default() -> Harness {
    // `start` wraps the providers object; the default goes next to it.
    let fake = switchyard_testkit::FakeUpstream::start().await.unwrap();
    let text = format!(
        r#"{{"default_provider": "a", "providers": {{"a": {{"network_config": {{"base_url": "{}/anthropic"}}, "custom_provider_config": {{"base_provider_type": "anthropic", "is_key_less": true}}}}}}}}"#,
        fake.url("")
    );
    common::start_from_config_text(fake, &text).await
}

#[tokio::test]
async fn a_broken_translated_stream_ends_with_an_error_in_the_client_dialect() {
    let h = start(PROVIDERS).await;
    let events = stream(&h, "/anthropic/v1/messages", &json!({"model": "dbx-openai/fault-reset", "max_tokens": 10, "stream": true, "messages": [{"role": "user", "content": "a b c"}]})).await;
    assert_eq!(events.last().unwrap().0, "error");
    assert!(!events.iter().any(|(n, _)| n == "message_stop"));
    let events =
        stream(&h, "/v1/responses", &json!({"model": "dbx-anthropic/fault-reset", "stream": true, "input": "a b c"}))
            .await;
    assert_eq!(events.last().unwrap().1["type"], "response.failed");
}
