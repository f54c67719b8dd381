//! Responses streaming: canonical events as Responses stream events.

use bytes::Bytes;
use serde_json::{json, Value};

use super::response::{item_for, item_id, response_from_canonical, response_id};
use super::ResponsesContext;
use crate::canonical::{Accumulator, Block, BlockDelta, BlockStart, StreamEncoder, StreamEvent};
use crate::sse::SseEvent;

/// A `response.failed` event for a stream that broke before the gateway knew
/// its response (a passthrough relay); the encoder's own carries the whole
/// response skeleton and a sequence number instead.
pub fn failed_event(message: &str) -> Bytes {
    let body = json!({"type": "response.failed", "response": {"id": "", "object": "response", "status": "failed",
        "error": {"code": "server_error", "message": message}, "output": []}});
    SseEvent::named("response.failed", body.to_string()).encode()
}

/// Encodes canonical events as Responses stream events (`event:` + `data:`,
/// each with a `sequence_number`), ending in `response.completed`.
pub struct ResponsesEncoder {
    model: String,
    created_at: i64,
    ctx: ResponsesContext,
    rid: String,
    seq: u64,
    acc: Accumulator,
}

impl ResponsesEncoder {
    pub fn new(model: impl Into<String>, created_at: i64, ctx: ResponsesContext) -> Self {
        Self { model: model.into(), created_at, ctx, rid: String::new(), seq: 0, acc: Accumulator::default() }
    }

    fn ev(&mut self, kind: &str, mut body: Value) -> Bytes {
        if let Value::Object(o) = &mut body {
            o.insert("type".into(), json!(kind));
            o.insert("sequence_number".into(), json!(self.seq));
        }
        self.seq += 1;
        SseEvent::named(kind, body.to_string()).encode()
    }

    fn skeleton(&self, status: &str) -> Value {
        json!({"id": self.rid, "object": "response", "created_at": self.created_at, "status": status, "error": null,
            "incomplete_details": null, "instructions": null, "model": self.model, "output": [], "parallel_tool_calls": true,
            "tool_choice": "auto", "tools": [], "temperature": 1.0, "top_p": 1.0, "metadata": {}, "usage": null})
    }

    fn id_of(&self, index: usize) -> String {
        self.acc.content.get(index).map(|b| item_id(b, &self.rid, index)).unwrap_or_default()
    }
}

impl StreamEncoder for ResponsesEncoder {
    fn encode(&mut self, e: &StreamEvent) -> Vec<Bytes> {
        self.acc.push(e);
        let mut out = Vec::new();
        match e {
            StreamEvent::MessageStart { id, .. } => {
                self.rid = response_id(id);
                let created = self.skeleton("in_progress");
                out.push(self.ev("response.created", json!({"response": created})));
                let progress = self.skeleton("in_progress");
                out.push(self.ev("response.in_progress", json!({"response": progress})));
            }
            StreamEvent::BlockStart { index, block } => {
                let item_id = self.id_of(*index);
                let item = match block {
                    BlockStart::Text => {
                        json!({"id": item_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []})
                    }
                    BlockStart::ToolCall { id, name } => {
                        let mut item = json!({"id": item_id, "type": "function_call", "status": "in_progress", "call_id": id, "name": name, "arguments": ""});
                        if let Some(ns) = self.ctx.namespace_of(name) {
                            item["namespace"] = json!(ns);
                        }
                        item
                    }
                    BlockStart::Thinking | BlockStart::RedactedThinking { .. } => {
                        json!({"id": item_id, "type": "reasoning", "summary": []})
                    }
                };
                out.push(self.ev("response.output_item.added", json!({"output_index": index, "item": item})));
                match block {
                    BlockStart::Text => {
                        let part = json!({"type": "output_text", "text": "", "annotations": []});
                        out.push(self.ev(
                            "response.content_part.added",
                            json!({"item_id": item_id, "output_index": index, "content_index": 0, "part": part}),
                        ));
                    }
                    BlockStart::Thinking => {
                        let part = json!({"type": "summary_text", "text": ""});
                        out.push(self.ev(
                            "response.reasoning_summary_part.added",
                            json!({"item_id": item_id, "output_index": index, "summary_index": 0, "part": part}),
                        ));
                    }
                    _ => {}
                }
            }
            StreamEvent::BlockDelta { index, delta } => {
                let item_id = self.id_of(*index);
                match delta {
                    BlockDelta::Text(t) => out.push(self.ev("response.output_text.delta", json!({"item_id": item_id, "output_index": index, "content_index": 0, "delta": t, "logprobs": []}))),
                    BlockDelta::ToolArguments(a) => out.push(self.ev("response.function_call_arguments.delta", json!({"item_id": item_id, "output_index": index, "delta": a}))),
                    BlockDelta::Thinking(t) => out.push(self.ev("response.reasoning_summary_text.delta", json!({"item_id": item_id, "output_index": index, "summary_index": 0, "delta": t}))),
                    BlockDelta::Signature(_) => {}
                }
            }
            StreamEvent::BlockStop { index } => {
                let item_id = self.id_of(*index);
                let Some(block) = self.acc.content.get(*index).cloned() else { return out };
                match &block {
                    Block::Text(t) => {
                        out.push(self.ev("response.output_text.done", json!({"item_id": item_id, "output_index": index, "content_index": 0, "text": t.text, "logprobs": []})));
                        let part = json!({"type": "output_text", "text": t.text, "annotations": []});
                        out.push(self.ev(
                            "response.content_part.done",
                            json!({"item_id": item_id, "output_index": index, "content_index": 0, "part": part}),
                        ));
                    }
                    Block::ToolCall(c) => {
                        let args = if c.arguments.is_empty() { "{}".to_string() } else { c.arguments.clone() };
                        out.push(self.ev(
                            "response.function_call_arguments.done",
                            json!({"item_id": item_id, "output_index": index, "name": c.name, "arguments": args}),
                        ));
                    }
                    Block::Thinking { text, .. } => {
                        out.push(self.ev(
                            "response.reasoning_summary_text.done",
                            json!({"item_id": item_id, "output_index": index, "summary_index": 0, "text": text}),
                        ));
                        let part = json!({"type": "summary_text", "text": text});
                        out.push(self.ev(
                            "response.reasoning_summary_part.done",
                            json!({"item_id": item_id, "output_index": index, "summary_index": 0, "part": part}),
                        ));
                    }
                    _ => {}
                }
                if let Some(item) = item_for(&block, &item_id, &self.ctx) {
                    out.push(self.ev("response.output_item.done", json!({"output_index": index, "item": item})));
                }
            }
            StreamEvent::MessageStop => {
                let mut resp = self.acc.response();
                resp.id = self.rid.clone();
                let full = response_from_canonical(&resp, &self.model, self.created_at, &self.ctx);
                let kind = if full["status"] == "incomplete" { "response.incomplete" } else { "response.completed" };
                out.push(self.ev(kind, json!({"response": full})));
            }
            StreamEvent::Error { message, .. } => {
                let mut failed = self.skeleton("failed");
                failed["error"] = json!({"code": "server_error", "message": message});
                out.push(self.ev("response.failed", json!({"response": failed})));
            }
            StreamEvent::MessageDelta { .. } | StreamEvent::Ping => {}
        }
        out
    }
}
