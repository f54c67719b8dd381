//! Chat Completions answers (non-streamed): finish reasons, usage and the
//! `chat.completion` object, to and from the canonical model.

use serde_json::{json, Value};

use super::tool_names::ToolNames;
use crate::canonical::{joined_text, Block, ConvertError, Fields, Response, StopReason, Text, ToolCall, Usage};
use crate::openai::content_parts::text_of;

pub fn finish_reason_to_stop(s: &str) -> StopReason {
    match s {
        "length" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::Refusal,
        _ => StopReason::EndTurn,
    }
}

pub fn stop_to_finish_reason(s: StopReason) -> &'static str {
    match s {
        StopReason::EndTurn | StopReason::StopSequence | StopReason::PauseTurn => "stop",
        StopReason::MaxTokens | StopReason::ContextWindowExceeded => "length",
        StopReason::ToolUse => "tool_calls",
        StopReason::Refusal => "content_filter",
    }
}

/// OpenAI usage (prompt includes cached tokens) → canonical (input excludes them).
pub fn usage_from(v: Option<&Value>) -> Usage {
    let n = |p: &str| v.and_then(|u| u.pointer(p)).and_then(Value::as_u64).unwrap_or(0);
    let cached = n("/prompt_tokens_details/cached_tokens");
    let written = n("/prompt_tokens_details/cache_write_tokens");
    Usage {
        input_tokens: n("/prompt_tokens").saturating_sub(cached.saturating_add(written)),
        cache_read_tokens: cached,
        cache_write_tokens: written,
        output_tokens: n("/completion_tokens"),
        reasoning_tokens: n("/completion_tokens_details/reasoning_tokens"),
    }
}

pub fn usage_json(u: &Usage) -> Value {
    json!({
        "prompt_tokens": u.total_input(),
        "completion_tokens": u.output_tokens,
        "total_tokens": u.total(),
        "prompt_tokens_details": {"cached_tokens": u.cache_read_tokens, "cache_write_tokens": u.cache_write_tokens},
        "completion_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
    })
}

pub fn response_to_canonical(body: &Value, names: &ToolNames) -> Result<Response, ConvertError> {
    let f = Fields::of(body, "")?;
    let choice = f
        .array("choices")?
        .and_then(|c| c.first())
        .ok_or_else(|| ConvertError::new("choices", "response has no choices"))?;
    let msg = choice.get("message").cloned().unwrap_or(Value::Null);
    let mut content = Vec::new();
    let text = text_of(msg.get("content"), "choices[0].message.content")?;
    if !text.is_empty() {
        content.push(Block::Text(Text::plain(text)));
    }
    if let Some(Value::Array(calls)) = msg.get("tool_calls") {
        for c in calls {
            content.push(Block::ToolCall(ToolCall {
                id: c["id"].as_str().unwrap_or_default().to_string(),
                name: names.original(c.pointer("/function/name").and_then(Value::as_str).unwrap_or_default()),
                arguments: c.pointer("/function/arguments").and_then(Value::as_str).unwrap_or("{}").to_string(),
            }));
        }
    }
    let stop_reason = finish_reason_to_stop(choice.get("finish_reason").and_then(Value::as_str).unwrap_or("stop"));
    Response::from_upstream(&f, content, stop_reason, None, usage_from(f.get("usage")))
}

/// A chat completion id for a translated response.
pub fn completion_id(id: &str) -> String {
    crate::canonical::dialect_id(id, "chatcmpl-")
}

pub fn response_from_canonical(resp: &Response, model: &str, created: i64) -> Value {
    let text = joined_text(&resp.content, "");
    let calls: Vec<Value> = resp
        .content
        .iter()
        .filter_map(|b| match b {
            Block::ToolCall(c) => {
                Some(json!({"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}))
            }
            _ => None,
        })
        .collect();
    let mut message = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { json!(text) }, "refusal": null});
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    json!({
        "id": completion_id(&resp.id),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": stop_to_finish_reason(resp.client_stop_reason())}],
        "usage": usage_json(&resp.usage),
    })
}
