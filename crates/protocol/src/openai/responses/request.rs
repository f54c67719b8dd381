//! Responses requests: a client's `POST /v1/responses` body to the canonical
//! model (input items, tools, namespaces, replayable reasoning).

use serde_json::{json, Value};

use super::{ResponsesContext, REDACTED_PREFIX, SIGNATURE_PREFIX};
use crate::canonical::{
    Block, ConvertError, Fields, MediaSource, Message, Reasoning, Request, ResponseFormat, Role, Text, ToolCall,
    ToolChoice, ToolDef, ToolResult,
};
use crate::openai::content_parts;

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
