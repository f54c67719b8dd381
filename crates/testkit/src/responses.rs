//! OpenAI Responses API: `POST …/v1/responses`, streaming (named events with
//! `sequence_number`) or not. Errors are OpenAI-shaped.
//!
//! Checked like the real API where a translating gateway can slip:
//! `max_output_tokens` ≥ 16, every `function_call_output` answering an earlier
//! `function_call` and every `function_call` answered (unless
//! `previous_response_id` holds the history server-side).

use std::collections::HashSet;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::agent_script::{self, Conversation, Reply};
use crate::faults::{self, fragments, named_event, ApiError, Dialect, Turn};
use crate::AppState;

const REASONING_SUMMARY: &str = "Thinking about the request.";
const CREATED_AT: u64 = 1_700_000_000;

fn invalid(message: impl Into<String>, param: Option<&'static str>, code: Option<&'static str>) -> Response {
    let mut e = ApiError::new(StatusCode::BAD_REQUEST, message);
    e.param = param;
    e.openai_code = code;
    e.render(Dialect::OpenAi)
}

/// `POST …/v1/responses`.
pub(crate) async fn create(s: &AppState, body: &Bytes) -> Response {
    let req = match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.is_object() => v,
        _ => return invalid("We could not parse the JSON body of your request.", None, None),
    };
    if let Err((message, param, code)) = validate(&req) {
        return invalid(message, param, code);
    }
    let model = req["model"].as_str().unwrap_or_default().to_string();
    let turn = match faults::begin(s, Dialect::OpenAi, &model).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let reply = agent_script::reply(&Conversation::from_responses(&req));
    let ids = Ids::new(turn.count);
    let reasoning = turn.thinking.then(|| reasoning_item(&req, &ids));
    let answer = answer_item(&reply, &ids);
    let mut output: Vec<Value> = reasoning.iter().cloned().collect();
    output.push(answer.clone());
    let usage = usage(&req, &reply, &turn);
    let completed = response_object(&req, &ids.response, "completed", json!(output), usage);

    if req["stream"] != Value::Bool(true) {
        return Json(completed).into_response();
    }

    let mut seq = 0u64;
    let mut events = Vec::new();
    let mut push = |mut data: Value| {
        data["sequence_number"] = json!(seq);
        seq += 1;
        let name = data["type"].as_str().unwrap_or_default().to_string();
        events.push(named_event(&name, &data));
    };
    let in_progress = response_object(&req, &ids.response, "in_progress", json!([]), Value::Null);
    push(json!({"type": "response.created", "response": in_progress}));
    push(json!({"type": "response.in_progress", "response": in_progress}));
    let mut output_index = 0;
    if let Some(item) = &reasoning {
        let id = &ids.reasoning;
        let mut added = item.clone();
        added["summary"] = json!([]);
        added["status"] = json!("in_progress");
        push(json!({"type": "response.output_item.added", "output_index": output_index, "item": added}));
        let part = json!({"type": "summary_text", "text": ""});
        push(json!({"type": "response.reasoning_summary_part.added", "item_id": id, "output_index": output_index,
            "summary_index": 0, "part": part}));
        for f in fragments(REASONING_SUMMARY) {
            push(json!({"type": "response.reasoning_summary_text.delta", "item_id": id, "output_index": output_index,
                "summary_index": 0, "delta": f}));
        }
        push(json!({"type": "response.reasoning_summary_text.done", "item_id": id, "output_index": output_index,
            "summary_index": 0, "text": REASONING_SUMMARY}));
        push(json!({"type": "response.reasoning_summary_part.done", "item_id": id, "output_index": output_index,
            "summary_index": 0, "part": {"type": "summary_text", "text": REASONING_SUMMARY}}));
        push(json!({"type": "response.output_item.done", "output_index": output_index, "item": item}));
        output_index += 1;
    }
    match &reply {
        Reply::Text(text) => {
            let id = &ids.message;
            let part = json!({"type": "output_text", "text": "", "annotations": [], "logprobs": []});
            push(json!({"type": "response.output_item.added", "output_index": output_index,
                "item": {"id": id, "type": "message", "role": "assistant", "status": "in_progress", "content": []}}));
            push(json!({"type": "response.content_part.added", "item_id": id, "output_index": output_index,
                "content_index": 0, "part": part}));
            for f in fragments(text) {
                push(json!({"type": "response.output_text.delta", "item_id": id, "output_index": output_index,
                    "content_index": 0, "delta": f, "logprobs": []}));
            }
            push(json!({"type": "response.output_text.done", "item_id": id, "output_index": output_index,
                "content_index": 0, "text": text, "logprobs": []}));
            push(json!({"type": "response.content_part.done", "item_id": id, "output_index": output_index,
                "content_index": 0, "part": answer["content"][0]}));
        }
        Reply::ToolCall { name, arguments } => {
            let id = &ids.function_call;
            let mut added = answer.clone();
            added["arguments"] = json!("");
            added["status"] = json!("in_progress");
            push(json!({"type": "response.output_item.added", "output_index": output_index, "item": added}));
            for f in fragments(arguments) {
                push(json!({"type": "response.function_call_arguments.delta", "item_id": id,
                    "output_index": output_index, "delta": f}));
            }
            push(json!({"type": "response.function_call_arguments.done", "item_id": id, "output_index": output_index,
                "name": name, "arguments": arguments}));
        }
    }
    push(json!({"type": "response.output_item.done", "output_index": output_index, "item": answer}));
    push(json!({"type": "response.completed", "response": completed}));
    // Healthy prefix for stream faults: created, in_progress, the first item added and one more event.
    let mut failed = response_object(&req, &ids.response, "failed", json!([]), Value::Null);
    failed["error"] = json!({"code": "server_error", "message": "The model failed to generate a response."});
    let error =
        named_event("response.failed", &json!({"type": "response.failed", "sequence_number": 4, "response": failed}));
    faults::sse_response(events, &turn, 4, error)
}

struct Ids {
    response: String,
    message: String,
    function_call: String,
    call: String,
    reasoning: String,
}

impl Ids {
    fn new(n: u32) -> Self {
        Ids {
            response: format!("resp_fake{n}"),
            message: format!("msg_fake{n}"),
            function_call: format!("fc_fake{n}"),
            call: format!("call_fake{n}"),
            reasoning: format!("rs_fake{n}"),
        }
    }
}

fn answer_item(reply: &Reply, ids: &Ids) -> Value {
    match reply {
        Reply::Text(text) => json!({"id": ids.message, "type": "message", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]}),
        Reply::ToolCall { name, arguments } => json!({"id": ids.function_call, "type": "function_call",
            "call_id": ids.call, "name": name, "arguments": arguments, "status": "completed"}),
    }
}

fn reasoning_item(req: &Value, ids: &Ids) -> Value {
    let mut item = json!({"id": ids.reasoning, "type": "reasoning",
        "summary": [{"type": "summary_text", "text": REASONING_SUMMARY}]});
    let wants_encrypted =
        req["include"].as_array().is_some_and(|i| i.iter().any(|v| v == "reasoning.encrypted_content"));
    if wants_encrypted {
        item["encrypted_content"] = json!("ZW5jcnlwdGVkLWZha2U=");
    }
    item
}

fn usage(req: &Value, reply: &Reply, turn: &Turn) -> Value {
    let counted = json!({"instructions": req["instructions"], "input": req["input"]});
    let (cached, cache_write) = if turn.cached { (100, 20) } else { (0, 0) };
    // OpenAI's input_tokens include the cached ones.
    let input = agent_script::estimate_tokens(&counted) + cached + cache_write;
    let reasoning = if turn.thinking { 5 } else { 0 };
    let output = reply.text().map_or(8, |t| t.split_whitespace().count() as u64).max(1) + reasoning;
    json!({"input_tokens": input, "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": cache_write},
        "output_tokens": output, "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input + output})
}

fn response_object(req: &Value, id: &str, status: &str, output: Value, usage: Value) -> Value {
    let or = |v: &Value, default: Value| if v.is_null() { default } else { v.clone() };
    json!({
        "id": id,
        "object": "response",
        "created_at": CREATED_AT,
        "status": status,
        "completed_at": if status == "completed" { json!(CREATED_AT + 1) } else { Value::Null },
        "error": null,
        "incomplete_details": null,
        "instructions": req["instructions"],
        "max_output_tokens": req["max_output_tokens"],
        "model": req["model"],
        "output": output,
        "parallel_tool_calls": or(&req["parallel_tool_calls"], json!(true)),
        "previous_response_id": req["previous_response_id"],
        "reasoning": {"effort": req["reasoning"]["effort"], "summary": req["reasoning"]["summary"]},
        "store": or(&req["store"], json!(true)),
        "temperature": or(&req["temperature"], json!(1.0)),
        "text": or(&req["text"], json!({"format": {"type": "text"}})),
        "tool_choice": or(&req["tool_choice"], json!("auto")),
        "tools": or(&req["tools"], json!([])),
        "top_p": or(&req["top_p"], json!(1.0)),
        "truncation": "disabled",
        "usage": usage,
        "user": null,
        "metadata": or(&req["metadata"], json!({})),
    })
}

type Invalid = (String, Option<&'static str>, Option<&'static str>);

/// The request checks; `Err` is (message, param, code) of a 400.
pub fn validate(req: &Value) -> Result<(), Invalid> {
    if !req["model"].is_string() {
        return Err(("Missing required parameter: 'model'.".into(), Some("model"), Some("missing_required_parameter")));
    }
    if let Some(n) = req["max_output_tokens"].as_i64() {
        if n < 16 {
            return Err((
                format!("Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got {n} instead."),
                Some("max_output_tokens"),
                Some("integer_below_min_value"),
            ));
        }
    }
    let Some(items) = req["input"].as_array() else {
        return Ok(());
    };
    if !req["previous_response_id"].is_null() {
        return Ok(());
    }
    let mut calls = HashSet::new();
    let mut answered = HashSet::new();
    for item in items {
        let call_id = item["call_id"].as_str().unwrap_or_default();
        match item["type"].as_str() {
            Some("function_call" | "custom_tool_call") => {
                calls.insert(call_id);
            }
            Some("function_call_output" | "custom_tool_call_output") => {
                if !calls.contains(call_id) {
                    return Err((
                        format!("No tool call found for function call output with call_id {call_id}."),
                        Some("input"),
                        None,
                    ));
                }
                answered.insert(call_id);
            }
            _ => {}
        }
    }
    if let Some(unanswered) = calls.iter().find(|c| !answered.contains(*c)) {
        return Err((format!("No tool output found for function call {unanswered}."), Some("input"), None));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;
    use serde_json::json;

    #[test]
    fn codex_follow_up_is_accepted() {
        let req = json!({"model": "m", "store": false, "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Run"}]},
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "exec_command", "arguments": "{}"},
            {"type": "function_call_output", "id": "fco_1", "call_id": "call_1", "output": "ok"}]});
        assert_eq!(validate(&req), Ok(()));
    }

    #[test]
    fn orphan_and_unanswered_calls() {
        let orphan =
            json!({"model": "m", "input": [{"type": "function_call_output", "call_id": "call_9", "output": "x"}]});
        assert_eq!(
            validate(&orphan).unwrap_err().0,
            "No tool call found for function call output with call_id call_9."
        );
        let unanswered = json!({"model": "m", "input": [
            {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
            {"role": "user", "content": "and?"}]});
        assert_eq!(validate(&unanswered).unwrap_err().0, "No tool output found for function call call_1.");
        let stored = json!({"model": "m", "previous_response_id": "resp_1",
            "input": [{"type": "function_call_output", "call_id": "call_9", "output": "x"}]});
        assert_eq!(validate(&stored), Ok(()));
    }

    #[test]
    fn max_output_tokens_minimum() {
        let req = json!({"model": "m", "input": "hi", "max_output_tokens": 5});
        assert_eq!(validate(&req).unwrap_err().1, Some("max_output_tokens"));
    }
}
