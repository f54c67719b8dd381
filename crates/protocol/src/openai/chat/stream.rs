//! Chat Completions streaming: upstream chunks → canonical events, and
//! canonical events → chunks for a client.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::response::{completion_id, finish_reason_to_stop, stop_to_finish_reason, usage_from, usage_json};
use super::ToolNames;
use crate::canonical::{
    raw_str as text, BlockDelta, BlockStart, StopReason, StreamDecoder, StreamEncoder, StreamEvent, Usage,
};
use crate::openai::error::stream_error_event;
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
        let stop_reason = self.finish.unwrap_or(StopReason::EndTurn).or_tool_use(self.saw_tool);
        out.push(StreamEvent::MessageDelta { stop_reason, stop_sequence: None, usage: self.usage });
        out.push(StreamEvent::MessageStop);
    }

    fn chunk(&mut self, c: &ChunkIn<'_>, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::MessageStart {
                id: text(c.id).unwrap_or_default().into_owned(),
                model: text(c.model).unwrap_or_default().into_owned(),
                usage: Usage::default(),
            });
        }
        if let Some(u) = c.usage.filter(|u| u.get().starts_with('{')) {
            if let Ok(v) = serde_json::from_str::<Value>(u.get()) {
                self.usage = usage_from(Some(&v));
            }
        }
        let Some(choice) = c.choices.as_ref().and_then(|c| c.first()) else { return };
        let delta = choice.delta.as_ref();
        if let Some(t) = delta.and_then(|d| text(d.reasoning_content)).filter(|t| !t.is_empty()) {
            let index = self.open(Open::Thinking, BlockStart::Thinking, out);
            out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Thinking(t.into_owned()) });
        }
        if let Some(t) = delta.and_then(|d| text(d.content)).filter(|t| !t.is_empty()) {
            let index = self.open(Open::Text, BlockStart::Text, out);
            out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Text(t.into_owned()) });
        }
        if let Some(calls) = delta.and_then(|d| d.tool_calls.as_ref()) {
            for (pos, call) in calls.iter().enumerate() {
                let k = call.index.unwrap_or(pos as u64);
                let function = call.function.as_ref();
                let known = self.tools.iter().find(|(t, _)| *t == k).map(|(_, i)| *i);
                let index = match known {
                    Some(i) => i,
                    None => {
                        self.saw_tool = true;
                        let id = text(call.id).unwrap_or_default().into_owned();
                        let name = self.names.original(&text(function.and_then(|f| f.name)).unwrap_or_default());
                        self.close(out);
                        let i = self.open(Open::Tool(k), BlockStart::ToolCall { id, name }, out);
                        self.tools.push((k, i));
                        i
                    }
                };
                if let Some(args) = text(function.and_then(|f| f.arguments)).filter(|a| !a.is_empty()) {
                    out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::ToolArguments(args.into_owned()) });
                }
            }
        }
        if let Some(reason) = text(choice.finish_reason) {
            self.close(out);
            self.finish = Some(finish_reason_to_stop(&reason));
        }
    }
}

/// A chat chunk, read shallowly: string members are borrowed raw values, so a
/// member of an unexpected type is ignored rather than failing the chunk, and
/// nothing is copied until an event needs it.
#[derive(Deserialize)]
struct ChunkIn<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    model: Option<&'a RawValue>,
    #[serde(borrow, default)]
    choices: Option<Vec<ChoiceIn<'a>>>,
    #[serde(borrow, default)]
    usage: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ChoiceIn<'a> {
    #[serde(borrow, default)]
    delta: Option<DeltaIn<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct DeltaIn<'a> {
    #[serde(borrow, default)]
    content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    reasoning_content: Option<&'a RawValue>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolCallIn<'a>>>,
}

#[derive(Deserialize)]
struct ToolCallIn<'a> {
    #[serde(default)]
    index: Option<u64>,
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    function: Option<FunctionIn<'a>>,
}

#[derive(Deserialize)]
struct FunctionIn<'a> {
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    arguments: Option<&'a RawValue>,
}

impl StreamDecoder for ChatDecoder {
    fn event(&mut self, _name: Option<&str>, data: &str) -> Vec<StreamEvent> {
        let mut out = Vec::new();
        if data.trim_start().starts_with("[DONE]") {
            self.complete = true;
            self.finalize(&mut out);
            return out;
        }
        let chunk: ChunkIn<'_> = match serde_json::from_str(data) {
            Ok(c) => c,
            Err(_) => {
                out.push(StreamEvent::Error {
                    kind: "api_error".into(),
                    message: format!("unreadable upstream chunk: {data}"),
                });
                return out;
            }
        };
        if let Some(err) = chunk.error {
            self.complete = true;
            let err: Value = serde_json::from_str(err.get()).unwrap_or(Value::Null);
            out.push(StreamEvent::Error {
                kind: err["type"].as_str().unwrap_or("api_error").to_string(),
                message: err["message"].as_str().map(str::to_string).unwrap_or_else(|| err.to_string()),
            });
            return out;
        }
        self.chunk(&chunk, &mut out);
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
                let stop = stop_reason.or_tool_use(self.saw_tool);
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
                vec![stream_error_event(message, kind, "upstream_stream_error")]
            }
            // A comment keeps idle connections alive without a client-visible event.
            StreamEvent::Ping => vec![Bytes::from_static(b": ping\n\n")],
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&str]) -> Vec<StreamEvent> {
        let mut d = ChatDecoder::new(ToolNames::default());
        chunks.iter().flat_map(|c| d.event(None, c)).collect()
    }

    #[test]
    fn odd_member_types_are_ignored_and_escapes_decoded() {
        let events = decode(&[
            r#"{"id":"c1","model":"m","choices":[{"index":0,"delta":{"content":[{"type":"text","text":"x"}]}}],"usage":null,"error":null}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"content":"a \"quoted\" line\n"},"finish_reason":null}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"f","arguments":{"not":"a string"}}}]}}]}"#,
            r#"{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
            "[DONE]",
        ]);
        assert!(matches!(&events[0], StreamEvent::MessageStart { id, .. } if id == "c1"));
        assert!(events
            .contains(&StreamEvent::BlockDelta { index: 0, delta: BlockDelta::Text("a \"quoted\" line\n".into()) }));
        assert!(events.iter().any(
            |e| matches!(e, StreamEvent::BlockStart { block: BlockStart::ToolCall { id, .. }, .. } if id == "call_1")
        ));
        assert!(!events
            .iter()
            .any(|e| matches!(e, StreamEvent::BlockDelta { delta: BlockDelta::ToolArguments(_), .. })));
        let last_delta = events.iter().rev().find_map(|e| match e {
            StreamEvent::MessageDelta { stop_reason, usage, .. } => Some((*stop_reason, usage.output_tokens)),
            _ => None,
        });
        assert_eq!(last_delta, Some((StopReason::ToolUse, 2)));
        assert_eq!(events.last(), Some(&StreamEvent::MessageStop));
    }

    #[test]
    fn an_error_chunk_ends_the_stream_with_its_message() {
        let events = decode(&[r#"{"error":{"message":"quota exceeded","type":"rate_limit_error"}}"#]);
        assert_eq!(
            events,
            vec![StreamEvent::Error { kind: "rate_limit_error".into(), message: "quota exceeded".into() }]
        );
    }
}
