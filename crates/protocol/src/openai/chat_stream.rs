//! Chat Completions streaming: upstream chunks → canonical events, and
//! canonical events → chunks for a client.

use bytes::Bytes;
use serde_json::{json, Value};

use super::chat_convert::{
    completion_id, finish_reason_to_stop, stop_to_finish_reason, usage_from, usage_json, ToolNames,
};
use crate::canonical::{BlockDelta, BlockStart, StopReason, StreamDecoder, StreamEncoder, StreamEvent, Usage};
use crate::sse::SseEvent;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    Text,
    Thinking,
    Tool(u64),
}

/// Decodes an OpenAI chat chunk stream. The final `message_delta` is held
/// until the usage chunk (or `[DONE]`) so it carries the real token counts.
pub struct ChatDecoder {
    names: ToolNames,
    started: bool,
    open: Option<(usize, Open)>,
    tools: Vec<(u64, usize)>,
    next: usize,
    finish: Option<StopReason>,
    usage: Usage,
    saw_tool: bool,
    finished: bool,
    complete: bool,
}

impl ChatDecoder {
    pub fn new(names: ToolNames) -> Self {
        Self {
            names,
            started: false,
            open: None,
            tools: Vec::new(),
            next: 0,
            finish: None,
            usage: Usage::default(),
            saw_tool: false,
            finished: false,
            complete: false,
        }
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((index, _)) = self.open.take() {
            out.push(StreamEvent::BlockStop { index });
        }
    }

    fn open(&mut self, kind: Open, block: BlockStart, out: &mut Vec<StreamEvent>) -> usize {
        if let Some((index, k)) = self.open {
            if k == kind {
                return index;
            }
        }
        self.close(out);
        let index = self.next;
        self.next += 1;
        self.open = Some((index, kind));
        out.push(StreamEvent::BlockStart { index, block });
        index
    }

    fn finalize(&mut self, out: &mut Vec<StreamEvent>) {
        if self.finished || !self.started {
            return;
        }
        self.finished = true;
        self.close(out);
        let mut stop_reason = self.finish.unwrap_or(StopReason::EndTurn);
        if self.saw_tool {
            stop_reason = StopReason::ToolUse;
        }
        out.push(StreamEvent::MessageDelta { stop_reason, stop_sequence: None, usage: self.usage });
        out.push(StreamEvent::MessageStop);
    }

    fn chunk(&mut self, v: &Value, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::MessageStart {
                id: v["id"].as_str().unwrap_or_default().to_string(),
                model: v["model"].as_str().unwrap_or_default().to_string(),
                usage: Usage::default(),
            });
        }
        if let Some(u) = v.get("usage").filter(|u| u.is_object()) {
            self.usage = usage_from(Some(u));
        }
        let Some(choice) = v.get("choices").and_then(Value::as_array).and_then(|c| c.first()) else { return };
        let delta = &choice["delta"];
        if let Some(t) = delta.get("reasoning_content").and_then(Value::as_str).filter(|t| !t.is_empty()) {
            let index = self.open(Open::Thinking, BlockStart::Thinking, out);
            out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Thinking(t.to_string()) });
        }
        if let Some(t) = delta.get("content").and_then(Value::as_str).filter(|t| !t.is_empty()) {
            let index = self.open(Open::Text, BlockStart::Text, out);
            out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Text(t.to_string()) });
        }
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            for (pos, call) in calls.iter().enumerate() {
                let k = call.get("index").and_then(Value::as_u64).unwrap_or(pos as u64);
                let known = self.tools.iter().find(|(t, _)| *t == k).map(|(_, i)| *i);
                let index = match known {
                    Some(i) => i,
                    None => {
                        self.saw_tool = true;
                        let id = call.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
                        let name = self
                            .names
                            .original(call.pointer("/function/name").and_then(Value::as_str).unwrap_or_default());
                        self.close(out);
                        let i = self.open(Open::Tool(k), BlockStart::ToolCall { id, name }, out);
                        self.tools.push((k, i));
                        i
                    }
                };
                if let Some(args) =
                    call.pointer("/function/arguments").and_then(Value::as_str).filter(|a| !a.is_empty())
                {
                    out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::ToolArguments(args.to_string()) });
                }
            }
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.close(out);
            self.finish = Some(finish_reason_to_stop(reason));
        }
    }
}

impl StreamDecoder for ChatDecoder {
    fn event(&mut self, _name: Option<&str>, data: &str) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        if data.trim_start().starts_with("[DONE]") {
            self.complete = true;
            self.finalize(&mut out);
            return out;
        }
        let v: Value = match serde_json::from_str(data) {
            Ok(v) => v,
            Err(_) => {
                out.push(StreamEvent::Error {
                    kind: "api_error".into(),
                    message: format!("unreadable upstream chunk: {data}"),
                });
                return out;
            }
        };
        if let Some(err) = v.get("error") {
            self.complete = true;
            out.push(StreamEvent::Error {
                kind: err["type"].as_str().unwrap_or("api_error").to_string(),
                message: err["message"].as_str().map(str::to_string).unwrap_or_else(|| err.to_string()),
            });
            return out;
        }
        self.chunk(&v, &mut out);
        out
    }

    fn end(&mut self) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        // Some servers omit `[DONE]`; a stream that reached its finish_reason is whole.
        if !self.complete && self.finish.is_some() {
            self.complete = true;
            self.finalize(&mut out);
        }
        out
    }

    fn is_complete(&self) -> bool {
        self.complete
    }
}

/// Encodes canonical events as chat chunks for a client.
pub struct ChatEncoder {
    id: String,
    model: String,
    created: i64,
    include_usage: bool,
    tool_ordinals: Vec<(usize, usize)>,
    saw_tool: bool,
}

impl ChatEncoder {
    pub fn new(model: impl Into<String>, created: i64, include_usage: bool) -> Self {
        Self {
            id: String::new(),
            model: model.into(),
            created,
            include_usage,
            tool_ordinals: Vec::new(),
            saw_tool: false,
        }
    }

    /// A content delta, the most frequent chunk, written straight into its buffer
    /// (the same bytes as [`ChatEncoder::chunk`]; the golden snapshots hold them).
    fn text_chunk(&self, text: &str) -> Bytes {
        let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
        let mut c = String::with_capacity(text.len() + self.id.len() + self.model.len() + 160);
        c.push_str("{\"id\":");
        c.push_str(&quote(&self.id));
        c.push_str(",\"object\":\"chat.completion.chunk\",\"created\":");
        c.push_str(&self.created.to_string());
        c.push_str(",\"model\":");
        c.push_str(&quote(&self.model));
        c.push_str(",\"choices\":[{\"index\":0,\"delta\":{\"content\":");
        c.push_str(&quote(text));
        c.push_str("},\"logprobs\":null,\"finish_reason\":null}]");
        if self.include_usage {
            c.push_str(",\"usage\":null");
        }
        c.push('}');
        SseEvent::data(c).encode()
    }

    fn chunk(&self, delta: Value, finish: Option<&str>) -> Bytes {
        let mut c = json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]});
        if self.include_usage {
            c["usage"] = Value::Null;
        }
        SseEvent::data(c.to_string()).encode()
    }
}

impl StreamEncoder for ChatEncoder {
    fn encode(&mut self, e: &StreamEvent) -> Vec<Bytes> {
        match e {
            StreamEvent::MessageStart { id, .. } => {
                self.id = completion_id(id);
                vec![self.chunk(json!({"role": "assistant", "content": ""}), None)]
            }
            StreamEvent::BlockStart { index, block: BlockStart::ToolCall { id, name } } => {
                let k = self.tool_ordinals.len();
                self.tool_ordinals.push((*index, k));
                self.saw_tool = true;
                vec![self.chunk(
                    json!({"tool_calls": [{"index": k, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}),
                    None,
                )]
            }
            StreamEvent::BlockDelta { delta: BlockDelta::Text(t), .. } => vec![self.text_chunk(t)],
            StreamEvent::BlockDelta { delta: BlockDelta::Thinking(t), .. } => {
                vec![self.chunk(json!({"reasoning_content": t}), None)]
            }
            StreamEvent::BlockDelta { delta: BlockDelta::ToolArguments(a), .. } if a.is_empty() => Vec::new(),
            StreamEvent::BlockDelta { index, delta: BlockDelta::ToolArguments(a) } => {
                let k = self.tool_ordinals.iter().find(|(i, _)| i == index).map(|(_, k)| *k).unwrap_or(0);
                vec![self.chunk(json!({"tool_calls": [{"index": k, "function": {"arguments": a}}]}), None)]
            }
            StreamEvent::MessageDelta { stop_reason, usage, .. } => {
                let stop = if self.saw_tool { StopReason::ToolUse } else { *stop_reason };
                let mut out = vec![self.chunk(json!({}), Some(stop_to_finish_reason(stop)))];
                if self.include_usage {
                    let c = json!({"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                        "choices": [], "usage": usage_json(usage)});
                    out.push(SseEvent::data(c.to_string()).encode());
                }
                out
            }
            StreamEvent::MessageStop => vec![Bytes::from_static(b"data: [DONE]\n\n")],
            StreamEvent::Error { kind, message } => {
                let kind = if kind.ends_with("_error") && kind != "invalid_request_error" {
                    "server_error"
                } else {
                    kind.as_str()
                };
                let body = json!({"error": {"message": message, "type": kind, "param": null, "code": "upstream_stream_error"}});
                vec![SseEvent::data(body.to_string()).encode()]
            }
            // A comment keeps idle connections alive without a client-visible event.
            StreamEvent::Ping => vec![Bytes::from_static(b": ping\n\n")],
            _ => Vec::new(),
        }
    }
}
