//! Golden tests for every translated cell of the dispatch table: request out,
//! response back and stream back, fed by real Claude Code and Codex captures
//! (`fixtures/captures/`) and hand-written edge cases (`fixtures/requests/`).
//! Snapshots live in `snapshots/`; a change in translation shows up as a diff.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use switchyard_protocol::anthropic::request::AnthropicTarget;
use switchyard_protocol::dialect::{Dialect, UpstreamDialect};
use switchyard_protocol::translate::{translate_request, Translation};

const CREATED: i64 = 1_700_000_000;

fn fixture(path: &str) -> String {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn json_fixture(path: &str) -> Value {
    serde_json::from_str(&fixture(path)).unwrap()
}

/// The POST bodies of a capture file, in order.
fn capture(name: &str) -> Vec<Value> {
    fixture(&format!("captures/{name}"))
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["method"] == "POST")
        .map(|r| r["body"].clone())
        .collect()
}

fn translate(client: Dialect, upstream: UpstreamDialect, body: &Value) -> (Value, Translation) {
    translate_request(client, upstream, body, "upstream-model", &AnthropicTarget::default(), CREATED)
        .unwrap_or_else(|e| panic!("translation failed: {e} ({:?})", e.param))
}

/// Snapshots the three legs of one cell.
fn cell(name: &str, client: Dialect, upstream: UpstreamDialect, body: &Value) {
    let (out, t) = translate(client, upstream, body);
    insta::assert_json_snapshot!(format!("{name}__request"), out);
    let (response_fixture, stream_fixture) = match upstream {
        UpstreamDialect::AnthropicMessages => ("upstream/anthropic-message.json", "upstream/anthropic-stream.sse"),
        UpstreamDialect::OpenAiChat => ("upstream/chat-completion.json", "upstream/chat-stream.sse"),
    };
    let response = t.response(&json_fixture(response_fixture)).unwrap();
    insta::assert_json_snapshot!(format!("{name}__response"), response);
    let stream = t.transcode_all(fixture(stream_fixture).as_bytes());
    insta::assert_snapshot!(format!("{name}__stream"), String::from_utf8(stream.to_vec()).unwrap());
}

use Dialect as C;
use UpstreamDialect as U;

#[test]
fn openai_chat_to_anthropic() {
    cell("chat_to_anthropic__edge", C::OpenAiChat, U::AnthropicMessages, &json_fixture("requests/chat-edge.json"));
}

#[test]
fn anthropic_messages_to_openai_chat() {
    cell("messages_to_chat__edge", C::AnthropicMessages, U::OpenAiChat, &json_fixture("requests/messages-edge.json"));
}

#[test]
fn claude_code_capture_to_openai_chat() {
    let bodies = capture("claude-code-2.1.332-tool-loop.jsonl");
    cell("messages_to_chat__claude_code_first", C::AnthropicMessages, U::OpenAiChat, &bodies[0]);
    let (out, _) = translate(C::AnthropicMessages, U::OpenAiChat, &bodies[1]);
    insta::assert_json_snapshot!("messages_to_chat__claude_code_follow_up__request", out);
    let simple = capture("claude-code-2.1.332-simple.jsonl");
    let (out, _) = translate(C::AnthropicMessages, U::OpenAiChat, &simple[0]);
    insta::assert_json_snapshot!("messages_to_chat__claude_code_simple__request", out);
}

#[test]
fn openai_responses_to_anthropic() {
    cell(
        "responses_to_anthropic__edge",
        C::OpenAiResponses,
        U::AnthropicMessages,
        &json_fixture("requests/responses-edge.json"),
    );
    let bodies = capture("codex-cli-0.169.0-tool-loop.jsonl");
    cell("responses_to_anthropic__codex_first", C::OpenAiResponses, U::AnthropicMessages, &bodies[0]);
    let (out, _) = translate(C::OpenAiResponses, U::AnthropicMessages, &bodies[1]);
    insta::assert_json_snapshot!("responses_to_anthropic__codex_follow_up__request", out);
}

#[test]
fn openai_responses_emulated_via_chat() {
    cell("responses_via_chat__edge", C::OpenAiResponses, U::OpenAiChat, &json_fixture("requests/responses-edge.json"));
    let bodies = capture("codex-cli-0.169.0-tool-loop.jsonl");
    let (out, _) = translate(C::OpenAiResponses, U::OpenAiChat, &bodies[1]);
    insta::assert_json_snapshot!("responses_via_chat__codex_follow_up__request", out);
}

#[test]
fn openai_completions_to_anthropic_and_via_chat() {
    let body = json_fixture("requests/completions-edge.json");
    cell("completions_to_anthropic__edge", C::OpenAiCompletions, U::AnthropicMessages, &body);
    cell("completions_via_chat__edge", C::OpenAiCompletions, U::OpenAiChat, &body);
}

#[test]
fn openai_chat_round_trip_through_anthropic_keeps_ids_and_order() {
    // Not a snapshot: the invariants a snapshot might hide.
    let (out, _) = translate(C::OpenAiChat, U::AnthropicMessages, &json_fixture("requests/chat-edge.json"));
    let msgs = out["messages"].as_array().unwrap();
    let roles: Vec<&str> = msgs.iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["user", "assistant", "user"], "alternating turns");
    let ids: Vec<&str> = msgs[1]["content"].as_array().unwrap().iter().filter_map(|b| b["id"].as_str()).collect();
    let results: Vec<&str> =
        msgs[2]["content"].as_array().unwrap().iter().filter_map(|b| b["tool_use_id"].as_str()).collect();
    assert_eq!(ids, results, "each tool_use answered, in order, ids sanitised identically");
    assert_eq!(ids, ["call_1", "call_2_x"]);
    let texts: Vec<&str> = msgs[2]["content"].as_array().unwrap().iter().filter_map(|b| b["text"].as_str()).collect();
    assert!(texts[0].starts_with("Operator note"), "mid-conversation system kept as a note: {texts:?}");
    assert_eq!(texts[1], "And tomorrow?");
    assert_eq!(
        out["system"],
        serde_json::json!([{"type": "text", "text": "You are terse."}, {"type": "text", "text": "Prefer metric units."}]),
        "every leading system/developer message, in order"
    );
}

#[test]
fn anthropic_to_chat_keeps_system_order_and_tool_results_first() {
    let (out, _) = translate(C::AnthropicMessages, U::OpenAiChat, &json_fixture("requests/messages-edge.json"));
    let roles: Vec<&str> = out["messages"].as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "system", "assistant", "tool", "tool", "user"]);
    let long = out["tools"][1]["function"]["name"].as_str().unwrap();
    assert!(long.len() <= 64, "long tool names are shortened: {long}");
    assert_eq!(out["messages"][3]["tool_calls"][1]["function"]["name"], long, "consistently");
}

#[test]
fn shortened_tool_names_map_back_in_responses() {
    let (_, t) = translate(C::AnthropicMessages, U::OpenAiChat, &json_fixture("requests/messages-edge.json"));
    let long = "mcp__github__create_pull_request_with_a_really_long_descriptive_name";
    let (out, _) = translate(C::AnthropicMessages, U::OpenAiChat, &json_fixture("requests/messages-edge.json"));
    let short = out["tools"][1]["function"]["name"].as_str().unwrap();
    let upstream = serde_json::json!({"id": "c", "model": "m", "choices": [{"index": 0, "finish_reason": "tool_calls",
        "message": {"role": "assistant", "content": null, "tool_calls": [{"id": "call_z", "type": "function", "function": {"name": short, "arguments": "{}"}}]}}]});
    let back = t.response(&upstream).unwrap();
    assert_eq!(back["content"][0]["name"], long);
    assert_eq!(back["stop_reason"], "tool_use");
}
