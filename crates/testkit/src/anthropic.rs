//! Anthropic Messages API as Databricks serves it under `/anthropic`:
//! `POST …/v1/messages` (streaming or not), `POST …/v1/messages/count_tokens`,
//! and the Anthropic model list (`GET …/v1/models` with `anthropic-version`).
//!
//! Requests are validated the way the real API does for what a translating
//! gateway can get wrong: `max_tokens` required, no empty text blocks, every
//! `tool_result` answering a `tool_use` of the previous assistant turn and every
//! `tool_use` answered in the next user turn, tool ids matching
//! `^[a-zA-Z0-9_-]+$`, tool `input` an object, thinking budgets in range.

use std::collections::HashSet;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Value};

use crate::agent_script::{self, Conversation, Reply};
use crate::faults::{self, fragments, named_event, ApiError, Dialect, Turn};
use crate::AppState;

const THINKING_TEXT: &str = "Let me think about this.";
const THINKING_SIGNATURE: &str = "c2lnbmF0dXJlLWZha2U=";

fn invalid(message: impl Into<String>) -> Response {
    ApiError::new(StatusCode::BAD_REQUEST, message).render(Dialect::Anthropic)
}

fn parse(body: &Bytes) -> Result<Value, Box<Response>> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(Box::new(invalid(
            "There was an error parsing the body of your request. The body must be a JSON object.",
        ))),
    }
}

/// `POST …/v1/messages`.
pub(crate) async fn messages(s: &AppState, body: &Bytes) -> Response {
    let req = match parse(body) {
        Ok(r) => r,
        Err(e) => return *e,
    };
    if let Err(message) = validate(&req) {
        return invalid(message);
    }
    let model = req["model"].as_str().unwrap_or_default().to_string();
    let turn = match faults::begin(s, Dialect::Anthropic, &model).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let reply = agent_script::reply(&Conversation::from_messages(&req));
    let usage = Usage::new(&req, &reply, &turn);
    let id = format!("msg_fake{}", turn.count);
    let tool_id = format!("toolu_fake{}", turn.count);
    let stop_reason = if matches!(reply, Reply::ToolCall { .. }) { "tool_use" } else { "end_turn" };
    let thinking = turn.thinking && req["thinking"]["type"] != "disabled";

    if req["stream"] != Value::Bool(true) {
        let mut content = Vec::new();
        if thinking {
            content.push(json!({"type": "thinking", "thinking": THINKING_TEXT, "signature": THINKING_SIGNATURE}));
        }
        content.push(match &reply {
            Reply::Text(text) => json!({"type": "text", "text": text}),
            Reply::ToolCall { name, arguments } => {
                let input: Value = serde_json::from_str(arguments).unwrap_or_else(|_| json!({}));
                json!({"type": "tool_use", "id": tool_id, "name": name, "input": input})
            }
        });
        let message = json!({"id": id, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": stop_reason, "stop_sequence": null, "usage": usage.full(usage.output)});
        return with_request_id(Json(message).into_response(), turn.count);
    }

    let mut events = vec![
        named_event(
            "message_start",
            &json!({"type": "message_start", "message": {"id": id, "type": "message", "role": "assistant",
                "model": model, "content": [], "stop_reason": null, "stop_sequence": null, "usage": usage.full(1)}}),
        ),
        named_event("ping", &json!({"type": "ping"})),
    ];
    let mut index = 0;
    if thinking {
        events.push(block_start(index, json!({"type": "thinking", "thinking": "", "signature": ""})));
        for f in fragments(THINKING_TEXT) {
            events.push(block_delta(index, json!({"type": "thinking_delta", "thinking": f})));
        }
        events.push(block_delta(index, json!({"type": "signature_delta", "signature": THINKING_SIGNATURE})));
        events.push(block_stop(index));
        index += 1;
    }
    match &reply {
        Reply::Text(text) => {
            events.push(block_start(index, json!({"type": "text", "text": ""})));
            for f in fragments(text) {
                events.push(block_delta(index, json!({"type": "text_delta", "text": f})));
            }
        }
        Reply::ToolCall { name, arguments } => {
            events.push(block_start(index, json!({"type": "tool_use", "id": tool_id, "name": name, "input": {}})));
            events.push(block_delta(index, json!({"type": "input_json_delta", "partial_json": ""})));
            for f in fragments(arguments) {
                events.push(block_delta(index, json!({"type": "input_json_delta", "partial_json": f})));
            }
        }
    }
    events.push(block_stop(index));
    events.push(named_event(
        "message_delta",
        &json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null},
            "usage": usage.full(usage.output)}),
    ));
    events.push(named_event("message_stop", &json!({"type": "message_stop"})));
    // Healthy prefix for stream faults: message_start, ping, the first block start and its first delta.
    let error = named_event("error", &faults::anthropic_error_body("overloaded_error", "Overloaded"));
    with_request_id(faults::sse_response(events, &turn, 4, error), turn.count)
}

/// `POST …/v1/messages/count_tokens`: `{"input_tokens": N}` with N the word
/// estimate of `system`, `messages` and `tools`.
pub(crate) async fn count_tokens(body: &Bytes) -> Response {
    let req = match parse(body) {
        Ok(r) => r,
        Err(e) => return *e,
    };
    if !req["model"].is_string() {
        return invalid("model: Field required");
    }
    if !req["messages"].is_array() {
        return invalid("messages: Field required");
    }
    let counted = json!({"system": req["system"], "messages": req["messages"], "tools": req["tools"]});
    Json(json!({"input_tokens": agent_script::estimate_tokens(&counted)})).into_response()
}

const MODELS: [(&str, &str, &str); 3] = [
    ("claude-opus-fake", "Claude Opus (fake)", "2025-09-01T00:00:00Z"),
    ("claude-sonnet-fake", "Claude Sonnet (fake)", "2025-06-01T00:00:00Z"),
    ("claude-haiku-fake", "Claude Haiku (fake)", "2025-03-01T00:00:00Z"),
];

/// `GET …/v1/models` in Anthropic's paged format (`limit`, `after_id`, `before_id`).
pub(crate) fn list_models(query: Option<&str>) -> Response {
    let param = |name: &str| {
        query?.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    };
    let limit = match param("limit").map(|l| l.parse::<usize>()) {
        None => 20,
        Some(Ok(l)) if (1..=1000).contains(&l) => l,
        Some(_) => return invalid("limit: Input should be greater than or equal to 1 and less than or equal to 1000"),
    };
    let position = |id: &str| MODELS.iter().position(|m| m.0 == id);
    // The page is MODELS[start..end]; has_more says whether more lie beyond it in the paging direction.
    let (start, end, has_more) = match (param("after_id"), param("before_id")) {
        (Some(after), _) => match position(&after) {
            Some(i) => (i + 1, (i + 1 + limit).min(MODELS.len()), i + 1 + limit < MODELS.len()),
            None => return not_found_model(&after),
        },
        (None, Some(before)) => match position(&before) {
            Some(i) => (i.saturating_sub(limit), i, i > limit),
            None => return not_found_model(&before),
        },
        (None, None) => (0, limit.min(MODELS.len()), limit < MODELS.len()),
    };
    let page: Vec<Value> = MODELS[start..end].iter().map(|m| model_info(*m)).collect();
    Json(json!({"data": page, "has_more": has_more,
        "first_id": page.first().map(|m| m["id"].clone()), "last_id": page.last().map(|m| m["id"].clone())}))
    .into_response()
}

/// `GET …/v1/models/{id}` with `anthropic-version`.
pub(crate) fn get_model(id: &str) -> Response {
    match MODELS.iter().find(|m| m.0 == id) {
        Some(m) => Json(model_info(*m)).into_response(),
        None => not_found_model(id),
    }
}

fn model_info((id, display_name, created_at): (&str, &str, &str)) -> Value {
    json!({"type": "model", "id": id, "display_name": display_name, "created_at": created_at})
}

fn not_found_model(id: &str) -> Response {
    ApiError::new(StatusCode::NOT_FOUND, format!("model: {id}")).render(Dialect::Anthropic)
}

fn with_request_id(mut r: Response, count: u32) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("req_fake{count}")) {
        r.headers_mut().insert("request-id", v);
    }
    r
}

fn block_start(index: usize, block: Value) -> String {
    named_event("content_block_start", &json!({"type": "content_block_start", "index": index, "content_block": block}))
}

fn block_delta(index: usize, delta: Value) -> String {
    named_event("content_block_delta", &json!({"type": "content_block_delta", "index": index, "delta": delta}))
}

fn block_stop(index: usize) -> String {
    named_event("content_block_stop", &json!({"type": "content_block_stop", "index": index}))
}

struct Usage {
    input: u64,
    output: u64,
    cache_read: u64,
    cache_creation: u64,
}

impl Usage {
    fn new(req: &Value, reply: &Reply, turn: &Turn) -> Self {
        let counted = json!({"system": req["system"], "messages": req["messages"]});
        let output =
            reply.text().map_or(8, |t| t.split_whitespace().count() as u64).max(1) + if turn.thinking { 5 } else { 0 };
        let (cache_read, cache_creation) = if turn.cached { (100, 20) } else { (0, 0) };
        Usage { input: agent_script::estimate_tokens(&counted), output, cache_read, cache_creation }
    }

    /// Anthropic usage (`input_tokens` excludes the cache), with `output_tokens` given.
    fn full(&self, output: u64) -> Value {
        json!({"input_tokens": self.input, "cache_creation_input_tokens": self.cache_creation,
            "cache_read_input_tokens": self.cache_read, "output_tokens": output})
    }
}

/// The request checks, in the real API's wording; `Err` is the 400 message.
pub fn validate(req: &Value) -> Result<(), String> {
    if !req["model"].is_string() {
        return Err("model: Field required".into());
    }
    let max_tokens = match &req["max_tokens"] {
        Value::Null => return Err("max_tokens: Field required".into()),
        v => v.as_u64().ok_or("max_tokens: Input should be a valid integer")?,
    };
    let Some(messages) = req["messages"].as_array() else {
        return Err("messages: Field required".into());
    };
    if req["thinking"]["type"] == "enabled" {
        let budget = req["thinking"]["budget_tokens"].as_u64().unwrap_or(0);
        if budget < 1024 {
            return Err("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024".into());
        }
        if budget >= max_tokens {
            return Err("`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size".into());
        }
    }
    for (i, m) in messages.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or_default();
        if !matches!(role, "user" | "assistant" | "system") {
            return Err(format!("messages.{i}.role: Input should be 'user', 'assistant' or 'system'"));
        }
        let final_assistant = i + 1 == messages.len() && role == "assistant";
        match &m["content"] {
            Value::String(s) if s.is_empty() && !final_assistant => {
                return Err(format!(
                    "messages.{i}: all messages must have non-empty content except for the optional final assistant message"
                ))
            }
            Value::String(_) => {}
            Value::Array(blocks) if blocks.is_empty() && !final_assistant => {
                return Err(format!(
                    "messages.{i}: all messages must have non-empty content except for the optional final assistant message"
                ))
            }
            Value::Array(blocks) => {
                for (k, b) in blocks.iter().enumerate() {
                    check_block(i, k, role, b)?;
                }
            }
            _ => return Err(format!("messages.{i}.content: Field required")),
        }
    }
    check_tool_pairing(messages)
}

fn check_block(i: usize, k: usize, role: &str, b: &Value) -> Result<(), String> {
    let id_ok = |id: &str| !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match b["type"].as_str().unwrap_or_default() {
        "text" => {
            let text = b["text"].as_str().ok_or(format!("messages.{i}.content.{k}.text: Field required"))?;
            if text.is_empty() {
                return Err("messages: text content blocks must be non-empty".into());
            }
            if text.trim().is_empty() {
                return Err("messages: text content blocks must contain non-whitespace text".into());
            }
        }
        "tool_use" => {
            if role != "assistant" {
                return Err(format!("messages.{i}.content.{k}: `tool_use` blocks can only be in `assistant` messages"));
            }
            if !id_ok(b["id"].as_str().unwrap_or_default()) {
                return Err(format!(
                    "messages.{i}.content.{k}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'"
                ));
            }
            if !b["input"].is_object() {
                return Err(format!("messages.{i}.content.{k}.tool_use.input: Input should be a valid dictionary"));
            }
        }
        "tool_result" => {
            if role != "user" {
                return Err(format!("messages.{i}.content.{k}: `tool_result` blocks can only be in `user` messages"));
            }
            if !id_ok(b["tool_use_id"].as_str().unwrap_or_default()) {
                return Err(format!(
                    "messages.{i}.content.{k}.tool_result.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'"
                ));
            }
            if let Value::Array(parts) = &b["content"] {
                if parts.iter().any(|p| p["type"] == "text" && p["text"].as_str().is_some_and(str::is_empty)) {
                    return Err("messages: text content blocks must be non-empty".into());
                }
            }
        }
        "thinking" if b["signature"].as_str().is_none_or(str::is_empty) => {
            return Err(format!("messages.{i}.content.{k}.thinking.signature: Field required"));
        }
        "" => return Err(format!("messages.{i}.content.{k}.type: Field required")),
        _ => {}
    }
    Ok(())
}

/// Consecutive messages of one role form one turn (the API merges them);
/// `system` messages sit between turns. Every `tool_result` must answer a
/// `tool_use` of the assistant turn right before its user turn, and every
/// `tool_use` must be answered in the user turn right after.
fn check_tool_pairing(messages: &[Value]) -> Result<(), String> {
    // (role, indexes of its messages)
    let mut turns: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m["role"].as_str().unwrap_or_default();
        if role == "system" {
            continue;
        }
        match turns.last_mut() {
            Some((r, idx)) if *r == role => idx.push(i),
            _ => turns.push((role, vec![i])),
        }
    }
    let blocks = |idx: &[usize]| -> Vec<(usize, usize, Value)> {
        idx.iter()
            .flat_map(|&i| {
                messages[i]["content"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                    .map(move |(k, b)| (i, k, b))
            })
            .collect()
    };
    for (t, (role, idx)) in turns.iter().enumerate() {
        if *role == "user" {
            let offered: HashSet<String> = match t.checked_sub(1).map(|p| &turns[p]) {
                Some(("assistant", prev)) => blocks(prev)
                    .iter()
                    .filter(|(_, _, b)| b["type"] == "tool_use")
                    .filter_map(|(_, _, b)| b["id"].as_str().map(str::to_string))
                    .collect(),
                _ => HashSet::new(),
            };
            for (i, k, b) in blocks(idx) {
                let id = b["tool_use_id"].as_str().unwrap_or_default();
                if b["type"] == "tool_result" && !offered.contains(id) {
                    return Err(format!("messages.{i}.content.{k}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."));
                }
            }
        } else if let Some((_, next)) = turns.get(t + 1) {
            let answered: HashSet<String> = blocks(next)
                .iter()
                .filter(|(_, _, b)| b["type"] == "tool_result")
                .filter_map(|(_, _, b)| b["tool_use_id"].as_str().map(str::to_string))
                .collect();
            let missing: Vec<String> = blocks(idx)
                .iter()
                .filter(|(_, _, b)| b["type"] == "tool_use")
                .filter_map(|(_, _, b)| b["id"].as_str().map(str::to_string))
                .filter(|id| !answered.contains(id))
                .collect();
            if !missing.is_empty() {
                let i = idx.last().copied().unwrap_or_default();
                return Err(format!("messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.", missing.join(", ")));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;
    use serde_json::json;

    fn base(messages: serde_json::Value) -> serde_json::Value {
        json!({"model": "m", "max_tokens": 100, "messages": messages})
    }

    #[test]
    fn claude_code_shapes_are_accepted() {
        let req = base(json!([
            {"role": "user", "content": [{"type": "text", "text": "Run it"}]},
            {"role": "system", "content": "# Environment"},
            {"role": "assistant", "content": [{"type": "text", "text": "Running."},
                {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "x", "is_error": false}]}]));
        assert_eq!(validate(&req), Ok(()));
    }

    #[test]
    fn missing_max_tokens() {
        let req = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        assert_eq!(validate(&req), Err("max_tokens: Field required".into()));
    }

    #[test]
    fn empty_text_block() {
        let req = base(json!([{"role": "user", "content": [{"type": "text", "text": ""}]}]));
        assert_eq!(validate(&req), Err("messages: text content blocks must be non-empty".into()));
    }

    #[test]
    fn orphan_tool_result() {
        let req = base(json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "x"},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "y"}]}]));
        let err = validate(&req).unwrap_err();
        assert!(
            err.starts_with("messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_2."),
            "{err}"
        );
    }

    #[test]
    fn unanswered_tool_use() {
        let req = base(json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}]},
            {"role": "user", "content": "never mind"}]));
        let err = validate(&req).unwrap_err();
        assert!(
            err.starts_with(
                "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1."
            ),
            "{err}"
        );
        // As the final message it is fine (the client is about to answer it).
        let last = base(json!([
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}]}]));
        assert_eq!(validate(&last), Ok(()));
    }

    #[test]
    fn tool_use_shape() {
        let bad_id = base(json!([{"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "call.1", "name": "Bash", "input": {}}]}]));
        assert!(validate(&bad_id).unwrap_err().contains("String should match pattern"));
        let string_input = base(json!([{"role": "user", "content": "hi"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "c1", "name": "Bash", "input": "{}"}]}]));
        assert!(validate(&string_input).unwrap_err().contains("Input should be a valid dictionary"));
    }

    #[test]
    fn thinking_budget() {
        let mut req = base(json!([{"role": "user", "content": "hi"}]));
        req["thinking"] = json!({"type": "enabled", "budget_tokens": 2000});
        assert!(validate(&req).unwrap_err().contains("must be greater than `thinking.budget_tokens`"));
        req["max_tokens"] = json!(4000);
        assert_eq!(validate(&req), Ok(()));
    }
}
