//! Anthropic Messages streaming: upstream events → canonical, and canonical →
//! client events. Anthropic SSE needs `event:` lines (the SDKs ignore events
//! without them).

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::error::stream_error_event;
use super::request::sanitize_tool_id;
use super::response::{message_id, stop_reason_from, stop_reason_str, usage_from, usage_json};
use crate::canonical::{merge_usage, raw_str, BlockDelta, BlockStart, StreamDecoder, StreamEncoder, StreamEvent};
use crate::sse::SseEvent;

/// Decodes an Anthropic event stream. Block indexes are re-numbered so that
/// blocks without a canonical equivalent (server tools) leave no gaps.
#[derive(Default)]
pub struct AnthropicDecoder {
    /// Upstream index → canonical index, for the blocks kept.
    map: Vec<(u64, usize)>,
    next: usize,
    complete: bool,
    saw_tool_use: bool,
    /// Input counts arrive in `message_start`; `message_delta` may carry only output.
    start_usage: crate::canonical::Usage,
}

impl AnthropicDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    fn index(&self, upstream: u64) -> Option<usize> {
        self.map.iter().find(|(u, _)| *u == upstream).map(|(_, c)| *c)
    }
}

/// `content_block_delta`, read shallowly (members stay raw until needed).
#[derive(Deserialize)]
struct DeltaEventIn<'a> {
    #[serde(default)]
    index: u64,
    #[serde(borrow)]
    delta: DeltaIn<'a>,
}

#[derive(Deserialize)]
struct DeltaIn<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<&'a RawValue>,
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
    #[serde(borrow, default)]
    partial_json: Option<&'a RawValue>,
    #[serde(borrow, default)]
    thinking: Option<&'a RawValue>,
    #[serde(borrow, default)]
    signature: Option<&'a RawValue>,
}

impl AnthropicDecoder {
    fn delta(&mut self, e: DeltaEventIn<'_>) -> Vec<StreamEvent> {
        let Some(index) = self.index(e.index) else { return vec![] };
        let d = e.delta;
        let (value, wrap): (_, fn(String) -> BlockDelta) = match raw_str(d.kind).as_deref() {
            Some("text_delta") => (d.text, BlockDelta::Text),
            Some("input_json_delta") => (d.partial_json, BlockDelta::ToolArguments),
            Some("thinking_delta") => (d.thinking, BlockDelta::Thinking),
            Some("signature_delta") => (d.signature, BlockDelta::Signature),
            _ => return vec![],
        };
        match raw_str(value) {
            Some(s) if !s.is_empty() => vec![StreamEvent::BlockDelta { index, delta: wrap(s.into_owned()) }],
            _ => vec![],
        }
    }
}

impl StreamDecoder for AnthropicDecoder {
    fn event(&mut self, _name: Option<&str>, data: &str) -> Vec<StreamEvent> {
        // Deltas are nearly every event: read them shallowly, without a JSON tree.
        if data.starts_with("{\"type\":\"content_block_delta\"") {
            if let Ok(e) = serde_json::from_str::<DeltaEventIn<'_>>(data) {
                return self.delta(e);
            }
        }
        let Ok(v) = serde_json::from_str::<Value>(data) else {
            return vec![StreamEvent::Error {
                kind: "api_error".into(),
                message: format!("unreadable upstream event: {data}"),
            }];
        };
        let idx = v.get("index").and_then(Value::as_u64).unwrap_or(0);
        match v.get("type").and_then(Value::as_str).unwrap_or_default() {
            "message_start" => {
                let m = &v["message"];
                self.start_usage = usage_from(m.get("usage"));
                vec![StreamEvent::MessageStart {
                    id: m["id"].as_str().unwrap_or_default().to_string(),
                    model: m["model"].as_str().unwrap_or_default().to_string(),
                    usage: self.start_usage,
                }]
            }
            "content_block_start" => {
                let b = &v["content_block"];
                let block = match b["type"].as_str().unwrap_or_default() {
                    "text" => BlockStart::Text,
                    "tool_use" => {
                        self.saw_tool_use = true;
                        BlockStart::ToolCall {
                            id: b["id"].as_str().unwrap_or_default().to_string(),
                            name: b["name"].as_str().unwrap_or_default().to_string(),
                        }
                    }
                    "thinking" => BlockStart::Thinking,
                    "redacted_thinking" => {
                        BlockStart::RedactedThinking { data: b["data"].as_str().unwrap_or_default().to_string() }
                    }
                    _ => return vec![],
                };
                let index = self.next;
                self.next += 1;
                self.map.push((idx, index));
                let mut out = vec![StreamEvent::BlockStart { index, block }];
                // A text block may start with text already in it.
                if let Some(t) = b.get("text").and_then(Value::as_str).filter(|t| !t.is_empty()) {
                    out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Text(t.to_string()) });
                }
                out
            }
            "content_block_delta" => match serde_json::from_str::<DeltaEventIn<'_>>(data) {
                Ok(e) => self.delta(e),
                Err(_) => vec![],
            },
            "content_block_stop" => {
                self.index(idx).map(|index| vec![StreamEvent::BlockStop { index }]).unwrap_or_default()
            }
            "message_delta" => {
                let stop_reason = stop_reason_from(v["delta"]["stop_reason"].as_str().unwrap_or("end_turn"));
                vec![StreamEvent::MessageDelta {
                    stop_reason: stop_reason.or_tool_use(self.saw_tool_use),
                    stop_sequence: v["delta"]["stop_sequence"].as_str().map(str::to_string),
                    usage: merge_usage(self.start_usage, usage_from(v.get("usage"))),
                }]
            }
            "message_stop" => {
                self.complete = true;
                vec![StreamEvent::MessageStop]
            }
            "ping" => vec![StreamEvent::Ping],
            "error" => {
                self.complete = true;
                vec![StreamEvent::Error {
                    kind: v["error"]["type"].as_str().unwrap_or("api_error").to_string(),
                    message: v["error"]["message"].as_str().unwrap_or("upstream error").to_string(),
                }]
            }
            _ => vec![],
        }
    }

    fn end(&mut self) -> Vec<StreamEvent> {
        Vec::new()
    }

    fn is_complete(&self) -> bool {
        self.complete
    }
}

/// Encodes canonical events as Anthropic SSE for a client.
pub struct AnthropicEncoder {
    model: String,
    open_tool: bool,
}

impl AnthropicEncoder {
    /// `model` is echoed in `message_start` (the id the client asked for).
    pub fn new(model: impl Into<String>) -> Self {
        Self { model: model.into(), open_tool: false }
    }
}

fn event(name: &str, data: Value) -> Bytes {
    SseEvent::named(name, data.to_string()).encode()
}

impl StreamEncoder for AnthropicEncoder {
    fn encode(&mut self, e: &StreamEvent) -> Vec<Bytes> {
        let one = match e {
            StreamEvent::MessageStart { id, usage, .. } => event(
                "message_start",
                json!({"type": "message_start", "message": {
                    "id": message_id(id), "type": "message", "role": "assistant", "model": self.model,
                    "content": [], "stop_reason": null, "stop_sequence": null,
                    "usage": {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens.max(1),
                              "cache_creation_input_tokens": usage.cache_write_tokens,
                              "cache_read_input_tokens": usage.cache_read_tokens}}}),
            ),
            StreamEvent::BlockStart { index, block } => {
                let content_block = match block {
                    BlockStart::Text => json!({"type": "text", "text": ""}),
                    BlockStart::ToolCall { id, name } => {
                        self.open_tool = true;
                        json!({"type": "tool_use", "id": sanitize_tool_id(id), "name": name, "input": {}})
                    }
                    BlockStart::Thinking => json!({"type": "thinking", "thinking": "", "signature": ""}),
                    BlockStart::RedactedThinking { data } => json!({"type": "redacted_thinking", "data": data}),
                };
                event(
                    "content_block_start",
                    json!({"type": "content_block_start", "index": index, "content_block": content_block}),
                )
            }
            StreamEvent::BlockDelta { index, delta } => {
                // The most frequent event, written straight into its buffer rather than
                // through a JSON tree (same bytes; the golden snapshots hold them).
                let (kind, field, text) = match delta {
                    BlockDelta::Text(t) => ("text_delta", "text", t),
                    BlockDelta::ToolArguments(p) => ("input_json_delta", "partial_json", p),
                    BlockDelta::Thinking(t) => ("thinking_delta", "thinking", t),
                    BlockDelta::Signature(s) => ("signature_delta", "signature", s),
                };
                let mut data = String::with_capacity(text.len() + 96);
                data.push_str("{\"type\":\"content_block_delta\",\"index\":");
                data.push_str(&index.to_string());
                data.push_str(",\"delta\":{\"type\":\"");
                data.push_str(kind);
                data.push_str("\",\"");
                data.push_str(field);
                data.push_str("\":");
                data.push_str(&serde_json::to_string(text).unwrap_or_default());
                data.push_str("}}");
                SseEvent::named("content_block_delta", data).encode()
            }
            StreamEvent::BlockStop { index } => {
                event("content_block_stop", json!({"type": "content_block_stop", "index": index}))
            }
            StreamEvent::MessageDelta { stop_reason, stop_sequence, usage } => {
                let stop = stop_reason.or_tool_use(self.open_tool);
                event(
                    "message_delta",
                    json!({"type": "message_delta", "delta": {"stop_reason": stop_reason_str(stop), "stop_sequence": stop_sequence},
                           "usage": usage_json(usage)}),
                )
            }
            StreamEvent::MessageStop => event("message_stop", json!({"type": "message_stop"})),
            StreamEvent::Ping => event("ping", json!({"type": "ping"})),
            StreamEvent::Error { kind, message } => stream_error_event(anthropic_error_type(kind), message),
        };
        vec![one]
    }
}

/// Canonical error kinds are OpenAI- or Anthropic-flavoured; Anthropic clients want theirs.
fn anthropic_error_type(kind: &str) -> &str {
    match kind {
        "server_error" | "upstream_error" => "api_error",
        "rate_limit_exceeded" => "rate_limit_error",
        k if k.ends_with("_error") => k,
        _ => "api_error",
    }
}
