//! Legacy text completions (`POST /v1/completions`): request → canonical (one
//! user turn), canonical → `text_completion` object and stream chunks.

use bytes::Bytes;
use serde_json::{json, Value};

use super::chat::response::{stop_to_finish_reason, usage_json};
use crate::canonical::{
    string_or_array, Block, BlockDelta, ConvertError, Fields, Message, Request, Response, Role, StopReason,
    StreamEncoder, StreamEvent, Text,
};
use crate::openai::error::stream_error_event;
use crate::sse::SseEvent;

/// OpenAI's default `max_tokens` for completions.
pub const DEFAULT_MAX_TOKENS: u32 = 16;

pub fn request_to_canonical(body: &Value) -> Result<Request, ConvertError> {
    let f = Fields::of(body, "")?;
    let prompt = match f.get("prompt") {
        None => return Err(ConvertError::new("prompt", "`prompt` is required")),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.len() == 1 && items[0].is_string() => {
            items[0].as_str().unwrap_or_default().to_string()
        }
        Some(Value::Array(_)) => {
            return Err(ConvertError::new(
                "prompt",
                "only a single string prompt can be translated (batches and token arrays cannot)",
            ))
        }
        Some(other) => return Err(ConvertError::type_error("prompt", "a string", other)),
    };
    for (key, ok) in [
        ("echo", f.bool("echo")?.is_none_or(|e| !e)),
        ("suffix", f.str("suffix")?.is_none()),
        ("logprobs", f.get("logprobs").is_none()),
        ("best_of", f.u32("best_of")?.is_none_or(|b| b <= 1)),
        ("n", f.u32("n")?.is_none_or(|n| n <= 1)),
        ("logit_bias", f.object("logit_bias")?.is_none_or(|m| m.is_empty())),
    ] {
        if !ok {
            return Err(ConvertError::new(
                key,
                format!("`{key}` cannot be expressed through a chat or messages upstream; remove it"),
            ));
        }
    }
    Ok(Request {
        model: f.req_str("model")?.to_string(),
        messages: vec![Message { role: Role::User, content: vec![Block::Text(Text::plain(prompt))] }],
        max_tokens: Some(f.u32("max_tokens")?.unwrap_or(DEFAULT_MAX_TOKENS)),
        temperature: f.f64("temperature")?,
        top_p: f.f64("top_p")?,
        stop: string_or_array(f.get("stop"), "stop")?,
        stream: f.bool("stream")?.unwrap_or(false),
        include_usage: f
            .object("stream_options")?
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        user: f.str("user")?.map(str::to_string),
        ..Request::default()
    })
}

pub fn completion_id(id: &str) -> String {
    crate::canonical::dialect_id(id, "cmpl-")
}

fn finish(stop: StopReason) -> &'static str {
    match stop_to_finish_reason(stop) {
        "tool_calls" => "stop",
        other => other,
    }
}

pub fn response_from_canonical(resp: &Response, model: &str, created: i64) -> Value {
    json!({
        "id": completion_id(&resp.id),
        "object": "text_completion",
        "created": created,
        "model": model,
        "choices": [{"text": resp.text(), "index": 0, "logprobs": null, "finish_reason": finish(resp.stop_reason)}],
        "usage": usage_json(&resp.usage),
    })
}

pub struct CompletionsEncoder {
    id: String,
    model: String,
    created: i64,
    include_usage: bool,
}

impl CompletionsEncoder {
    pub fn new(model: impl Into<String>, created: i64, include_usage: bool) -> Self {
        Self { id: String::new(), model: model.into(), created, include_usage }
    }

    fn chunk(&self, text: &str, finish_reason: Option<&str>) -> Bytes {
        let c = json!({"id": self.id, "object": "text_completion", "created": self.created, "model": self.model,
            "choices": [{"text": text, "index": 0, "logprobs": null, "finish_reason": finish_reason}]});
        SseEvent::data(c.to_string()).encode()
    }
}

impl StreamEncoder for CompletionsEncoder {
    fn encode(&mut self, e: &StreamEvent) -> Vec<Bytes> {
        match e {
            StreamEvent::MessageStart { id, .. } => {
                self.id = completion_id(id);
                Vec::new()
            }
            StreamEvent::BlockDelta { delta: BlockDelta::Text(t), .. } => vec![self.chunk(t, None)],
            StreamEvent::MessageDelta { stop_reason, usage, .. } => {
                let mut out = vec![self.chunk("", Some(finish(*stop_reason)))];
                if self.include_usage {
                    let c = json!({"id": self.id, "object": "text_completion", "created": self.created, "model": self.model,
                        "choices": [], "usage": usage_json(usage)});
                    out.push(SseEvent::data(c.to_string()).encode());
                }
                out
            }
            StreamEvent::MessageStop => vec![Bytes::from_static(b"data: [DONE]\n\n")],
            StreamEvent::Error { message, .. } => {
                vec![stream_error_event(message, "server_error", "upstream_stream_error")]
            }
            StreamEvent::Ping => vec![Bytes::from_static(b": ping\n\n")],
            _ => Vec::new(),
        }
    }
}
