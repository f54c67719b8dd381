//! Anthropic Messages answers (`POST /v1/messages`, non-streamed): stop
//! reasons, usage and the Message object, to and from the canonical model.

use serde_json::{json, Value};

use super::request::sanitize_tool_id;
use crate::canonical::{Block, ConvertError, Fields, Response, StopReason, Text, ToolCall, Usage};

pub fn stop_reason_from(s: &str) -> StopReason {
    match s {
        "max_tokens" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        "tool_use" => StopReason::ToolUse,
        "refusal" => StopReason::Refusal,
        "pause_turn" => StopReason::PauseTurn,
        "model_context_window_exceeded" => StopReason::ContextWindowExceeded,
        _ => StopReason::EndTurn,
    }
}

pub fn stop_reason_str(s: StopReason) -> &'static str {
    match s {
        StopReason::EndTurn => "end_turn",
        StopReason::MaxTokens => "max_tokens",
        StopReason::StopSequence => "stop_sequence",
        StopReason::ToolUse => "tool_use",
        StopReason::Refusal => "refusal",
        StopReason::PauseTurn => "pause_turn",
        StopReason::ContextWindowExceeded => "model_context_window_exceeded",
    }
}

pub fn usage_from(v: Option<&Value>) -> Usage {
    let n = |k: &str| v.and_then(|u| u.get(k)).and_then(Value::as_u64).unwrap_or(0);
    Usage {
        input_tokens: n("input_tokens"),
        cache_read_tokens: n("cache_read_input_tokens"),
        cache_write_tokens: n("cache_creation_input_tokens"),
        output_tokens: n("output_tokens"),
        reasoning_tokens: v
            .and_then(|u| u.pointer("/output_tokens_details/thinking_tokens"))
            .and_then(Value::as_u64)
            .unwrap_or(0),
    }
}

pub fn usage_json(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "cache_creation_input_tokens": u.cache_write_tokens,
        "cache_read_input_tokens": u.cache_read_tokens,
    })
}

pub fn response_to_canonical(body: &Value) -> Result<Response, ConvertError> {
    let f = Fields::of(body, "")?;
    let mut content = Vec::new();
    for (i, item) in f.array("content")?.map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
        let path = format!("content[{i}]");
        let bf = Fields::of(item, &path)?;
        match bf.str("type")?.unwrap_or_default() {
            "text" => content.push(Block::Text(Text::plain(bf.str("text")?.unwrap_or_default()))),
            "tool_use" => content.push(Block::ToolCall(ToolCall {
                id: bf.req_str("id")?.to_string(),
                name: bf.req_str("name")?.to_string(),
                arguments: bf.get("input").map(Value::to_string).unwrap_or_else(|| "{}".into()),
            })),
            "thinking" => content.push(Block::Thinking {
                text: bf.str("thinking")?.unwrap_or_default().to_string(),
                signature: bf.str("signature")?.map(str::to_string),
            }),
            "redacted_thinking" => content.push(Block::RedactedThinking { data: bf.req_str("data")?.to_string() }),
            // Server-tool blocks have no client-side equivalent.
            _ => {}
        }
    }
    let stop_reason = stop_reason_from(f.str("stop_reason")?.unwrap_or("end_turn"));
    let stop_sequence = f.str("stop_sequence")?.map(str::to_string);
    Response::from_upstream(&f, content, stop_reason, stop_sequence, usage_from(f.get("usage")))
}

/// An Anthropic message id: the upstream's id if it already is one.
pub fn message_id(id: &str) -> String {
    crate::canonical::dialect_id(id, "msg_")
}

pub fn response_from_canonical(resp: &Response, model: &str) -> Value {
    let content: Vec<Value> = resp
        .content
        .iter()
        .filter_map(|b| match b {
            Block::Text(t) => Some(json!({"type": "text", "text": t.text})),
            Block::ToolCall(c) => {
                let input =
                    serde_json::from_str::<Value>(&c.arguments).ok().filter(Value::is_object).unwrap_or(json!({}));
                Some(json!({"type": "tool_use", "id": sanitize_tool_id(&c.id), "name": c.name, "input": input}))
            }
            Block::Thinking { text, signature: Some(sig) } => {
                Some(json!({"type": "thinking", "thinking": text, "signature": sig}))
            }
            Block::RedactedThinking { data } => Some(json!({"type": "redacted_thinking", "data": data})),
            _ => None,
        })
        .collect();
    json!({
        "id": message_id(&resp.id),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason_str(resp.client_stop_reason()),
        "stop_sequence": resp.stop_sequence,
        "usage": usage_json(&resp.usage),
    })
}
