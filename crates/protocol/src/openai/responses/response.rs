//! Responses answers: a canonical answer as a Response object (output items,
//! status, usage).

use serde_json::{json, Value};

use super::{ResponsesContext, REDACTED_PREFIX, SIGNATURE_PREFIX};
use crate::canonical::{Block, Response, StopReason, Usage};

pub fn response_id(id: &str) -> String {
    crate::canonical::dialect_id(id, "resp_")
}

pub fn usage_json(u: &Usage) -> Value {
    json!({
        "input_tokens": u.total_input(),
        "input_tokens_details": {"cached_tokens": u.cache_read_tokens, "cache_write_tokens": u.cache_write_tokens},
        "output_tokens": u.output_tokens,
        "output_tokens_details": {"reasoning_tokens": u.reasoning_tokens},
        "total_tokens": u.total(),
    })
}

pub(super) fn item_for(block: &Block, id: &str, ctx: &ResponsesContext) -> Option<Value> {
    Some(match block {
        Block::Text(t) => json!({"id": id, "type": "message", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": t.text, "annotations": [], "logprobs": []}]}),
        Block::ToolCall(c) => {
            let mut item = json!({"id": id, "type": "function_call", "status": "completed", "call_id": c.id,
                "name": c.name, "arguments": if c.arguments.is_empty() { "{}" } else { &c.arguments }});
            if let Some(ns) = ctx.namespace_of(&c.name) {
                item["namespace"] = json!(ns);
            }
            item
        }
        Block::Thinking { text, signature } => {
            let mut item = json!({"id": id, "type": "reasoning", "summary": [{"type": "summary_text", "text": text}]});
            if let Some(sig) = signature {
                item["encrypted_content"] = json!(format!("{SIGNATURE_PREFIX}{sig}"));
            }
            item
        }
        Block::RedactedThinking { data } => {
            json!({"id": id, "type": "reasoning", "summary": [], "encrypted_content": format!("{REDACTED_PREFIX}{data}")})
        }
        _ => return None,
    })
}

pub(super) fn item_id(kind: &Block, rid: &str, i: usize) -> String {
    let prefix = match kind {
        Block::ToolCall(_) => "fc",
        Block::Thinking { .. } | Block::RedactedThinking { .. } => "rs",
        _ => "msg",
    };
    format!("{prefix}_{}_{i}", rid.trim_start_matches("resp_"))
}

/// A full Response object. `status` follows the stop reason.
pub fn response_from_canonical(resp: &Response, model: &str, created_at: i64, ctx: &ResponsesContext) -> Value {
    let rid = response_id(&resp.id);
    let output: Vec<Value> =
        resp.content.iter().enumerate().filter_map(|(i, b)| item_for(b, &item_id(b, &rid, i), ctx)).collect();
    let (status, incomplete) = match resp.stop_reason {
        StopReason::MaxTokens | StopReason::ContextWindowExceeded => {
            ("incomplete", json!({"reason": "max_output_tokens"}))
        }
        StopReason::Refusal => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    };
    json!({
        "id": rid,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "error": null,
        "incomplete_details": incomplete,
        "instructions": null,
        "model": model,
        "output": output,
        "output_text": resp.text(),
        "parallel_tool_calls": true,
        "tool_choice": "auto",
        "tools": [],
        "temperature": 1.0,
        "top_p": 1.0,
        "metadata": {},
        "store": false,
        "usage": usage_json(&resp.usage),
    })
}
