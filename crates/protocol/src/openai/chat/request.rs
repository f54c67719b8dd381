//! Chat Completions requests (`POST /v1/chat/completions`): a client's request
//! to the canonical model, and the canonical model to an upstream request.

use serde_json::{json, Map, Value};

use super::tool_names::{fnv1a, ToolNames};
use crate::canonical::{
    joined_text, string_or_array, Block, ConvertError, Fields, MediaSource, Message, Reasoning, Request,
    ResponseFormat, Role, Text, ToolCall, ToolChoice, ToolDef, ToolResult,
};
use crate::openai::content_parts::{self, text_of};

// ------------------------------------------------------------- request in

/// Parameters only OpenAI can express; a translation to Anthropic refuses
/// them rather than dropping them silently.
const OPENAI_ONLY: &[&str] = &["logprobs", "top_logprobs", "logit_bias", "audio", "prediction"];

pub fn request_to_canonical(body: &Value) -> Result<Request, ConvertError> {
    let f = Fields::of(body, "")?;
    let mut req = Request {
        model: f.req_str("model")?.to_string(),
        stream: f.bool("stream")?.unwrap_or(false),
        max_tokens: f.u32("max_completion_tokens")?.or(f.u32("max_tokens")?),
        temperature: f.f64("temperature")?,
        top_p: f.f64("top_p")?,
        stop: string_or_array(f.get("stop"), "stop")?,
        parallel_tool_calls: f.bool("parallel_tool_calls")?,
        n: f.u32("n")?,
        user: f.str("safety_identifier")?.or(f.str("user")?).map(str::to_string),
        ..Request::default()
    };
    req.include_usage =
        f.object("stream_options")?.and_then(|o| o.get("include_usage")).and_then(Value::as_bool).unwrap_or(false);
    for key in OPENAI_ONLY {
        let set = match f.get(key) {
            None | Some(Value::Bool(false)) => false,
            Some(Value::Object(o)) => !o.is_empty(),
            Some(_) => true,
        };
        if set {
            return Err(unsupported(key));
        }
    }
    for key in ["frequency_penalty", "presence_penalty"] {
        if f.f64(key)?.is_some_and(|v| v != 0.0) {
            return Err(unsupported(key));
        }
    }
    if let Some(effort) = f.str("reasoning_effort")? {
        req.reasoning =
            Some(Reasoning { effort: Some(effort.to_string()), budget_tokens: None, disabled: effort == "none" });
    }
    req.response_format = response_format(f.object("response_format")?)?;
    let messages = f.array("messages")?.ok_or_else(|| ConvertError::new("messages", "`messages` is required"))?;
    let mut seen_conversation = false;
    for (i, m) in messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        let mf = Fields::of(m, &path)?;
        match mf.req_str("role")? {
            "system" | "developer" => {
                let text = text_of(mf.get("content"), &mf.path("content"))?;
                if text.is_empty() {
                    continue;
                }
                if seen_conversation {
                    req.messages.push(Message { role: Role::System, content: vec![Block::Text(Text::plain(text))] });
                } else {
                    req.system.push(Text::plain(text));
                }
            }
            "user" => {
                seen_conversation = true;
                let content = user_parts(mf.get("content"), &mf.path("content"))?;
                push(&mut req.messages, Role::User, content);
            }
            "assistant" => {
                seen_conversation = true;
                let mut content = Vec::new();
                let text = text_of(mf.get("content"), &mf.path("content"))?;
                if !text.is_empty() {
                    content.push(Block::Text(Text::plain(text)));
                }
                if let Some(calls) = mf.array("tool_calls")? {
                    for (j, c) in calls.iter().enumerate() {
                        let cpath = format!("{path}.tool_calls[{j}]");
                        let cf = Fields::of(c, &cpath)?;
                        let func = cf.get("function").ok_or_else(|| {
                            ConvertError::new(cf.path("function"), format!("`{}` is required", cf.path("function")))
                        })?;
                        let ff = Fields::of(func, &cpath)?;
                        content.push(Block::ToolCall(ToolCall {
                            id: cf.req_str("id")?.to_string(),
                            name: ff.req_str("name")?.to_string(),
                            arguments: ff.str("arguments")?.unwrap_or("{}").to_string(),
                        }));
                    }
                }
                push(&mut req.messages, Role::Assistant, content);
            }
            "tool" => {
                seen_conversation = true;
                let text = text_of(mf.get("content"), &mf.path("content"))?;
                let result = Block::ToolResult(ToolResult {
                    call_id: mf.req_str("tool_call_id")?.to_string(),
                    content: vec![Block::Text(Text::plain(text))],
                    is_error: false,
                    cache_control: None,
                });
                push(&mut req.messages, Role::User, vec![result]);
            }
            other => {
                return Err(ConvertError::new(
                    mf.path("role"),
                    format!("role `{other}` at {path} cannot be translated (use `tool` messages for tool results)"),
                ))
            }
        }
    }
    if let Some(tools) = f.array("tools")? {
        for (i, t) in tools.iter().enumerate() {
            let path = format!("tools[{i}]");
            let tf = Fields::of(t, &path)?;
            if tf.str("type")?.unwrap_or("function") != "function" {
                return Err(ConvertError::new(
                    tf.path("type"),
                    format!(
                        "tool type `{}` cannot be translated; only function tools can",
                        tf.str("type")?.unwrap_or_default()
                    ),
                ));
            }
            let func = tf.get("function").ok_or_else(|| {
                ConvertError::new(tf.path("function"), format!("`{}` is required", tf.path("function")))
            })?;
            let ff = Fields::of(func, &path)?;
            req.tools.push(ToolDef {
                name: ff.req_str("name")?.to_string(),
                description: ff.str("description")?.map(str::to_string),
                parameters: ff
                    .get("parameters")
                    .cloned()
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                cache_control: None,
            });
        }
    }
    req.tool_choice = match f.get("tool_choice") {
        None => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "auto" => ToolChoice::Auto,
            "required" => ToolChoice::Required,
            "none" => ToolChoice::None,
            other => return Err(ConvertError::new("tool_choice", format!("unknown tool_choice `{other}`"))),
        }),
        Some(v @ Value::Object(_)) => {
            let tf = Fields::of(v, "tool_choice")?;
            match tf.str("type")?.unwrap_or("function") {
                "function" => Some(ToolChoice::Tool(
                    v.pointer("/function/name")
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            ConvertError::new("tool_choice.function.name", "`tool_choice.function.name` is required")
                        })?
                        .to_string(),
                )),
                "allowed_tools" => match v.pointer("/allowed_tools/mode").and_then(Value::as_str) {
                    Some("required") => Some(ToolChoice::Required),
                    _ => Some(ToolChoice::Auto),
                },
                other => {
                    return Err(ConvertError::new(
                        "tool_choice.type",
                        format!("tool_choice type `{other}` cannot be translated"),
                    ))
                }
            }
        }
        Some(other) => return Err(ConvertError::type_error("tool_choice", "a string or an object", other)),
    };
    Ok(req)
}

fn unsupported(key: &str) -> ConvertError {
    ConvertError::new(
        key,
        format!("`{key}` has no equivalent on this provider's base format (anthropic) and would be lost; remove it"),
    )
}

fn response_format(rf: Option<&Map<String, Value>>) -> Result<Option<ResponseFormat>, ConvertError> {
    let Some(rf) = rf else { return Ok(None) };
    Ok(match rf.get("type").and_then(Value::as_str) {
        Some("json_object") => Some(ResponseFormat::JsonObject),
        Some("json_schema") => {
            let js = rf.get("json_schema").cloned().unwrap_or(Value::Null);
            Some(ResponseFormat::JsonSchema {
                name: js.get("name").and_then(Value::as_str).unwrap_or("response").to_string(),
                schema: js.get("schema").cloned().unwrap_or(json!({})),
                strict: js.get("strict").and_then(Value::as_bool),
            })
        }
        _ => None,
    })
}

/// Merges into the previous turn when it has the same role (tool messages in a row
/// become one user turn of tool results).
fn push(messages: &mut Vec<Message>, role: Role, content: Vec<Block>) {
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(content),
        _ => messages.push(Message { role, content }),
    }
}

fn user_parts(v: Option<&Value>, path: &str) -> Result<Vec<Block>, ConvertError> {
    content_parts::blocks(v, path, |kind, p, pf| match kind {
        "text" => content_parts::text(pf),
        "image_url" => {
            let url = p
                .pointer("/image_url/url")
                .or_else(|| p.get("image_url").filter(|v| v.is_string()))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    let at = pf.path("image_url.url");
                    ConvertError::new(at.clone(), format!("`{at}` is required"))
                })?;
            Ok(Some(Block::Image { source: MediaSource::from_url(url), cache_control: None }))
        }
        "file" => {
            let data = p.pointer("/file/file_data").and_then(Value::as_str).ok_or_else(|| {
                ConvertError::new(
                    pf.path("file.file_data"),
                    "only inline files (`file.file_data`) can be translated; `file_id` refers to OpenAI storage",
                )
            })?;
            Ok(Some(Block::Document {
                source: content_parts::inline_file(data),
                title: p.pointer("/file/filename").and_then(Value::as_str).map(str::to_string),
                cache_control: None,
            }))
        }
        other => Err(content_parts::unknown(pf, other)),
    })
}

// ------------------------------------------------------------ request out

/// Chat request for an OpenAI-compatible upstream. Thinking is dropped (its
/// signatures are provider-bound); tool results precede the user's text.
pub fn request_from_canonical(req: &Request, names: &mut ToolNames) -> Result<Value, ConvertError> {
    let mut messages: Vec<Value> = Vec::new();
    for t in &req.system {
        if !t.text.is_empty() {
            messages.push(json!({"role": "system", "content": t.text}));
        }
    }
    for m in &req.messages {
        match m.role {
            Role::System => {
                let text = joined_text(&m.content, "");
                if !text.is_empty() {
                    messages.push(json!({"role": "system", "content": text}));
                }
            }
            Role::User => {
                for b in &m.content {
                    if let Block::ToolResult(r) = b {
                        let mut text = r
                            .content
                            .iter()
                            .map(|b| match b {
                                Block::Text(t) => t.text.clone(),
                                _ => "[non-text tool output omitted]".to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join("\n");
                        if r.is_error {
                            text = format!("Error: {text}");
                        }
                        messages.push(json!({"role": "tool", "tool_call_id": r.call_id, "content": text}));
                    }
                }
                let parts: Vec<Value> = m
                    .content
                    .iter()
                    .filter_map(|b| match b {
                        Block::Text(t) if !t.text.is_empty() => Some(json!({"type": "text", "text": t.text})),
                        Block::Image { source, .. } => {
                            Some(json!({"type": "image_url", "image_url": {"url": source.to_url()}}))
                        }
                        Block::Document { source: MediaSource::PlainText(t), .. } => {
                            Some(json!({"type": "text", "text": t}))
                        }
                        Block::Document { source, title, .. } => {
                            let mut file = json!({"file_data": source.to_url()});
                            if let Some(t) = title {
                                file["filename"] = json!(t);
                            }
                            Some(json!({"type": "file", "file": file}))
                        }
                        _ => None,
                    })
                    .collect();
                if parts.is_empty() {
                    continue;
                }
                let all_text = parts.iter().all(|p| p["type"] == "text");
                let content = if all_text {
                    json!(parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join("\n"))
                } else {
                    Value::Array(parts)
                };
                messages.push(json!({"role": "user", "content": content}));
            }
            Role::Assistant => {
                let text = joined_text(&m.content, "");
                let calls: Vec<Value> = m
                    .content
                    .iter()
                    .filter_map(|b| match b {
                        Block::ToolCall(c) => Some(json!({"id": c.id, "type": "function",
                            "function": {"name": names.to_openai(&c.name), "arguments": if c.arguments.is_empty() { "{}" } else { &c.arguments }}})),
                        _ => None,
                    })
                    .collect();
                if text.is_empty() && calls.is_empty() {
                    continue;
                }
                let mut msg =
                    json!({"role": "assistant", "content": if text.is_empty() { Value::Null } else { json!(text) }});
                if !calls.is_empty() {
                    msg["tool_calls"] = Value::Array(calls);
                }
                messages.push(msg);
            }
        }
    }
    let mut out = Map::new();
    out.insert("model".into(), json!(req.model));
    out.insert("messages".into(), Value::Array(messages));
    if let Some(m) = req.max_tokens {
        // `max_tokens` rather than `max_completion_tokens`: every OpenAI-compatible server takes it.
        out.insert("max_tokens".into(), json!(m));
    }
    if let Some(t) = req.temperature {
        out.insert("temperature".into(), json!(t));
    }
    if let Some(p) = req.top_p {
        out.insert("top_p".into(), json!(p));
    }
    if !req.stop.is_empty() {
        if req.stop.len() > 4 {
            return Err(ConvertError::new(
                "stop_sequences",
                "at most 4 stop sequences can be sent to an openai-base provider",
            ));
        }
        out.insert("stop".into(), json!(req.stop));
    }
    if req.stream {
        out.insert("stream".into(), json!(true));
        // Needed to report usage at the end of the translated stream.
        out.insert("stream_options".into(), json!({"include_usage": true}));
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut func = json!({"name": names.to_openai(&t.name), "parameters": t.parameters});
                if let Some(d) = &t.description {
                    func["description"] = json!(d);
                }
                json!({"type": "function", "function": func})
            })
            .collect();
        out.insert("tools".into(), Value::Array(tools));
        if let Some(tc) = &req.tool_choice {
            out.insert(
                "tool_choice".into(),
                match tc {
                    ToolChoice::Auto => json!("auto"),
                    ToolChoice::Required => json!("required"),
                    ToolChoice::None => json!("none"),
                    ToolChoice::Tool(name) => json!({"type": "function", "function": {"name": names.to_openai(name)}}),
                },
            );
        }
        if let Some(p) = req.parallel_tool_calls {
            out.insert("parallel_tool_calls".into(), json!(p));
        }
    }
    if let Some(r) = &req.reasoning {
        // Only an explicit effort or budget carries over; adaptive thinking means "model decides".
        let effort = r.effort.clone().or_else(|| {
            r.budget_tokens.map(|b| match b {
                0..=1024 => "low".to_string(),
                1025..=4096 => "medium".to_string(),
                _ => "high".to_string(),
            })
        });
        if let (false, Some(e)) = (r.disabled, effort) {
            out.insert("reasoning_effort".into(), json!(e));
        }
    }
    if let Some(ResponseFormat::JsonSchema { name, schema, strict }) = &req.response_format {
        let mut js = json!({"name": name, "schema": schema});
        if let Some(s) = strict {
            js["strict"] = json!(s);
        }
        out.insert("response_format".into(), json!({"type": "json_schema", "json_schema": js}));
    } else if let Some(ResponseFormat::JsonObject) = &req.response_format {
        out.insert("response_format".into(), json!({"type": "json_object"}));
    }
    if let Some(n) = req.n {
        out.insert("n".into(), json!(n));
    }
    if let Some(user) = &req.user {
        // OpenAI caps identifiers at 64 chars; Claude Code sends a long JSON string.
        let user = if user.len() > 64 { format!("user-{:016x}", fnv1a(user)) } else { user.clone() };
        out.insert("user".into(), json!(user));
    }
    Ok(Value::Object(out))
}
