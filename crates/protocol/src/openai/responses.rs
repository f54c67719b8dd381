//! OpenAI Responses API (`POST /v1/responses`): request → canonical, canonical
//! → Response object, and canonical events → Responses stream events.
//!
//! Switchyard is stateless here: the client resends the whole input (Codex does,
//! with `store:false`); `previous_response_id` is refused with a clear error.

use bytes::Bytes;
use serde_json::{json, Value};

use crate::canonical::{
    Accumulator, Block, BlockDelta, BlockStart, ConvertError, Fields, MediaSource, Message, Reasoning, Request,
    Response, ResponseFormat, Role, StopReason, StreamEncoder, StreamEvent, Text, ToolCall, ToolChoice, ToolDef,
    ToolResult, Usage,
};
use crate::openai::content_parts;
use crate::sse::SseEvent;

/// Marks reasoning items whose `encrypted_content` carries an Anthropic
/// thinking signature this gateway produced, so it can be replayed.
const SIGNATURE_PREFIX: &str = "switchyard.thinking.v1:";
const REDACTED_PREFIX: &str = "switchyard.redacted.v1:";

/// What the request told us that the answer must reflect.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponsesContext {
    /// Flattened tool name → the namespace tool it came from.
    pub namespaces: Vec<(String, String)>,
}

impl ResponsesContext {
    fn namespace_of(&self, name: &str) -> Option<&str> {
        self.namespaces.iter().find(|(n, _)| n == name).map(|(_, ns)| ns.as_str())
    }
}

pub fn request_to_canonical(body: &Value) -> Result<(Request, ResponsesContext), ConvertError> {
    let f = Fields::of(body, "")?;
    for key in ["previous_response_id", "conversation"] {
        if f.get(key).is_some() {
            return Err(ConvertError::new(
                key,
                format!("`{key}` needs server-side conversation state, which this provider cannot keep; resend the full input with store:false"),
            ));
        }
    }
    let mut ctx = ResponsesContext::default();
    let mut req = Request {
        model: f.req_str("model")?.to_string(),
        stream: f.bool("stream")?.unwrap_or(false),
        max_tokens: f.u32("max_output_tokens")?,
        temperature: f.f64("temperature")?,
        top_p: f.f64("top_p")?,
        parallel_tool_calls: f.bool("parallel_tool_calls")?,
        user: f.str("safety_identifier")?.or(f.str("user")?).map(str::to_string),
        ..Request::default()
    };
    if let Some(i) = f.str("instructions")? {
        if !i.is_empty() {
            req.system.push(Text::plain(i));
        }
    }
    if let Some(r) = f.object("reasoning")? {
        if let Some(effort) = r.get("effort").and_then(Value::as_str) {
            req.reasoning =
                Some(Reasoning { effort: Some(effort.into()), budget_tokens: None, disabled: effort == "none" });
        }
    }
    if let Some(format) = f.object("text")?.and_then(|t| t.get("format")) {
        req.response_format = match format.get("type").and_then(Value::as_str) {
            Some("json_object") => Some(ResponseFormat::JsonObject),
            Some("json_schema") => Some(ResponseFormat::JsonSchema {
                name: format.get("name").and_then(Value::as_str).unwrap_or("response").to_string(),
                schema: format.get("schema").cloned().unwrap_or(json!({})),
                strict: format.get("strict").and_then(Value::as_bool),
            }),
            _ => None,
        };
    }
    input_items(&f, &mut req)?;
    if let Some(tools) = f.array("tools")? {
        for (i, t) in tools.iter().enumerate() {
            let path = format!("tools[{i}]");
            let tf = Fields::of(t, &path)?;
            match tf.str("type")?.unwrap_or("function") {
                "function" => req.tools.push(function_tool(&tf)?),
                "namespace" => {
                    let ns = tf.req_str("name")?.to_string();
                    for (j, inner) in tf.array("tools")?.map(Vec::as_slice).unwrap_or_default().iter().enumerate() {
                        let ipath = format!("{path}.tools[{j}]");
                        let itf = Fields::of(inner, &ipath)?;
                        if itf.str("type")?.unwrap_or("function") == "function" {
                            let tool = function_tool(&itf)?;
                            ctx.namespaces.push((tool.name.clone(), ns.clone()));
                            req.tools.push(tool);
                        }
                    }
                }
                // Hosted tools (web_search, file_search, …) run at OpenAI; other
                // providers have no equivalent, so they are not offered to the model.
                _ => {}
            }
        }
    }
    req.tool_choice = match f.get("tool_choice") {
        None => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "required" => ToolChoice::Required,
            "none" => ToolChoice::None,
            _ => ToolChoice::Auto,
        }),
        Some(Value::Object(o)) => {
            Some(match (o.get("type").and_then(Value::as_str), o.get("name").and_then(Value::as_str)) {
                (Some("function"), Some(name)) => ToolChoice::Tool(name.to_string()),
                (Some("allowed_tools"), _) if o.get("mode").and_then(Value::as_str) == Some("required") => {
                    ToolChoice::Required
                }
                _ => ToolChoice::Auto,
            })
        }
        Some(other) => return Err(ConvertError::type_error("tool_choice", "a string or an object", other)),
    };
    Ok((req, ctx))
}

fn function_tool(tf: &Fields<'_>) -> Result<ToolDef, ConvertError> {
    Ok(ToolDef {
        name: tf.req_str("name")?.to_string(),
        description: tf.str("description")?.map(str::to_string),
        parameters: tf.get("parameters").cloned().unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        cache_control: None,
    })
}

fn push(messages: &mut Vec<Message>, role: Role, content: Vec<Block>) {
    if content.is_empty() {
        return;
    }
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(content),
        _ => messages.push(Message { role, content }),
    }
}

fn input_items(f: &Fields<'_>, req: &mut Request) -> Result<(), ConvertError> {
    let items = match f.get("input") {
        None => return Err(ConvertError::new("input", "`input` is required")),
        Some(Value::String(s)) => {
            push(&mut req.messages, Role::User, vec![Block::Text(Text::plain(s.clone()))]);
            return Ok(());
        }
        Some(Value::Array(items)) => items,
        Some(other) => return Err(ConvertError::type_error("input", "a string or an array of items", other)),
    };
    let mut seen_conversation = false;
    for (i, item) in items.iter().enumerate() {
        let path = format!("input[{i}]");
        let it = Fields::of(item, &path)?;
        match it.str("type")?.unwrap_or("message") {
            "message" => {
                let role = it.req_str("role")?;
                let content = message_content(it.get("content"), &it.path("content"))?;
                match role {
                    "system" | "developer" => {
                        let text = crate::canonical::joined_text(&content, "\n");
                        if text.is_empty() {
                            continue;
                        }
                        if seen_conversation {
                            push(&mut req.messages, Role::System, vec![Block::Text(Text::plain(text))]);
                        } else {
                            req.system.push(Text::plain(text));
                        }
                    }
                    "user" => {
                        seen_conversation = true;
                        push(&mut req.messages, Role::User, content);
                    }
                    "assistant" => {
                        seen_conversation = true;
                        push(&mut req.messages, Role::Assistant, content);
                    }
                    other => {
                        return Err(ConvertError::new(it.path("role"), format!("unknown role `{other}` at {path}")))
                    }
                }
            }
            "function_call" => {
                seen_conversation = true;
                let call = Block::ToolCall(ToolCall {
                    id: it.req_str("call_id")?.to_string(),
                    name: it.req_str("name")?.to_string(),
                    arguments: it.str("arguments")?.unwrap_or("{}").to_string(),
                });
                push(&mut req.messages, Role::Assistant, vec![call]);
            }
            "function_call_output" => {
                seen_conversation = true;
                let content = match it.get("output") {
                    Some(Value::String(s)) => vec![Block::Text(Text::plain(s.clone()))],
                    Some(v @ Value::Array(_)) => message_content(Some(v), &it.path("output"))?,
                    None => Vec::new(),
                    Some(other) => {
                        return Err(ConvertError::type_error(&it.path("output"), "a string or an array", other))
                    }
                };
                let result = Block::ToolResult(ToolResult {
                    call_id: it.req_str("call_id")?.to_string(),
                    content,
                    is_error: false,
                    cache_control: None,
                });
                push(&mut req.messages, Role::User, vec![result]);
            }
            "reasoning" => {
                let encrypted = it.str("encrypted_content")?.unwrap_or_default();
                let summary: String = it
                    .array("summary")?
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|s| s.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n");
                // Reasoning from another provider cannot be replayed; ours carries its signature.
                if let Some(sig) = encrypted.strip_prefix(SIGNATURE_PREFIX) {
                    push(
                        &mut req.messages,
                        Role::Assistant,
                        vec![Block::Thinking { text: summary, signature: Some(sig.to_string()) }],
                    );
                } else if let Some(data) = encrypted.strip_prefix(REDACTED_PREFIX) {
                    push(&mut req.messages, Role::Assistant, vec![Block::RedactedThinking { data: data.to_string() }]);
                }
            }
            "item_reference" => {
                return Err(ConvertError::new(
                    it.path("type"),
                    format!("{path} references a stored item; this provider keeps no state — resend the item itself"),
                ))
            }
            other => {
                return Err(ConvertError::new(
                    it.path("type"),
                    format!("input item type `{other}` at {path} cannot be translated to this provider"),
                ))
            }
        }
    }
    Ok(())
}

fn message_content(v: Option<&Value>, path: &str) -> Result<Vec<Block>, ConvertError> {
    content_parts::blocks(v, path, |kind, _, pf| match kind {
        "input_text" | "output_text" | "text" => content_parts::text(pf),
        "refusal" => Ok(Some(Block::Text(Text::plain(pf.str("refusal")?.unwrap_or_default())))),
        "input_image" => {
            let url = pf.str("image_url")?.ok_or_else(|| {
                ConvertError::new(
                    pf.path("image_url"),
                    "only inline or URL images (`image_url`) can be translated; `file_id` refers to OpenAI storage",
                )
            })?;
            Ok(Some(Block::Image { source: MediaSource::from_url(url), cache_control: None }))
        }
        "input_file" => {
            let source = if let Some(data) = pf.str("file_data")? {
                content_parts::inline_file(data)
            } else if let Some(url) = pf.str("file_url")? {
                MediaSource::Url(url.to_string())
            } else {
                return Err(ConvertError::new(
                    pf.path("file_data"),
                    "only inline (`file_data`) or URL (`file_url`) files can be translated",
                ));
            };
            Ok(Some(Block::Document { source, title: pf.str("filename")?.map(str::to_string), cache_control: None }))
        }
        other => Err(content_parts::unknown(pf, other)),
    })
}

// -------------------------------------------------------------- response out

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

fn item_for(block: &Block, id: &str, ctx: &ResponsesContext) -> Option<Value> {
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

fn item_id(kind: &Block, rid: &str, i: usize) -> String {
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

// ----------------------------------------------------------------- streaming

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
