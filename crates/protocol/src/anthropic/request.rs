//! Anthropic Messages requests (`POST /v1/messages`): a client's request to
//! the canonical model, and the canonical model to an upstream request.

use serde_json::{json, Map, Value};

use crate::canonical::{
    Block, ConvertError, Fields, MediaSource, Message, Reasoning, Request, ResponseFormat, Role, Text, ToolCall,
    ToolChoice, ToolDef, ToolResult,
};

/// Top-level request fields that have a canonical home; every other one is
/// kept in `anthropic_extra`.
const MAPPED: &[&str] = &[
    "model",
    "max_tokens",
    "messages",
    "system",
    "stream",
    "stop_sequences",
    "temperature",
    "top_p",
    "top_k",
    "tools",
    "tool_choice",
    "thinking",
];

/// Claude Code's first system block, meant for Anthropic's billing only.
const BILLING_HEADER: &str = "x-anthropic-billing-header:";

/// Thinking budgets for efforts when the client gave none (≥1024, Anthropic's minimum).
pub fn budget_for_effort(effort: &str) -> Option<u32> {
    Some(match effort {
        "none" => return None,
        "minimal" | "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        "xhigh" => 8192,
        "max" => 16384,
        _ => 2048,
    })
}

// ---------------------------------------------------------------- request in

pub fn request_to_canonical(body: &Value) -> Result<Request, ConvertError> {
    let f = Fields::of(body, "")?;
    let mut req = Request {
        model: f.req_str("model")?.to_string(),
        max_tokens: f.u32("max_tokens")?,
        stream: f.bool("stream")?.unwrap_or(false),
        temperature: f.f64("temperature")?,
        top_p: f.f64("top_p")?,
        top_k: f.u32("top_k")?,
        stop: crate::canonical::string_or_array(f.get("stop_sequences"), "stop_sequences")?,
        ..Request::default()
    };
    match f.get("system") {
        None => {}
        Some(Value::String(s)) => req.system.push(Text::plain(s.clone())),
        Some(Value::Array(blocks)) => {
            for (i, b) in blocks.iter().enumerate() {
                let path = format!("system[{i}]");
                let bf = Fields::of(b, &path)?;
                let text = bf.req_str("text")?;
                // Claude Code's billing marker is for Anthropic only (LiteLLM strips it for Bedrock too).
                if text.starts_with(BILLING_HEADER) {
                    continue;
                }
                req.system.push(Text { text: text.to_string(), cache_control: bf.get("cache_control").cloned() });
            }
        }
        Some(other) => return Err(ConvertError::type_error("system", "a string or an array of text blocks", other)),
    }
    let messages = f.array("messages")?.ok_or_else(|| ConvertError::new("messages", "`messages` is required"))?;
    for (i, m) in messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        let mf = Fields::of(m, &path)?;
        let role = match mf.req_str("role")? {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "system" => Role::System,
            other => return Err(ConvertError::new(mf.path("role"), format!("unknown role `{other}` in {path}"))),
        };
        let content = content_blocks(mf.get("content"), &mf.path("content"))?;
        // A `mid_conv_system` block is a system turn of its own.
        let (system_parts, rest): (Vec<_>, Vec<_>) = content.into_iter().partition(|(is_sys, _)| *is_sys);
        let rest: Vec<Block> = rest.into_iter().map(|(_, b)| b).collect();
        if !rest.is_empty() || system_parts.is_empty() {
            req.messages.push(Message { role, content: rest });
        }
        if !system_parts.is_empty() {
            req.messages
                .push(Message { role: Role::System, content: system_parts.into_iter().map(|(_, b)| b).collect() });
        }
    }
    if let Some(tools) = f.array("tools")? {
        for (i, t) in tools.iter().enumerate() {
            let path = format!("tools[{i}]");
            let tf = Fields::of(t, &path)?;
            // Server tools (web search, code execution, …) run at Anthropic; an
            // OpenAI-compatible upstream has no equivalent, and deferred-loading
            // placeholders are never to be called.
            if tf.str("type")?.is_some_and(|ty| ty != "custom") || tf.bool("defer_loading")? == Some(true) {
                continue;
            }
            req.tools.push(ToolDef {
                name: tf.req_str("name")?.to_string(),
                description: tf.str("description")?.map(str::to_string),
                parameters: tf
                    .get("input_schema")
                    .cloned()
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                cache_control: tf.get("cache_control").cloned(),
            });
        }
    }
    if let Some(tc) = f.object("tool_choice")? {
        let tc_value = Value::Object(tc.clone());
        let tf = Fields::of(&tc_value, "tool_choice")?;
        req.tool_choice = Some(match tf.req_str("type")? {
            "auto" => ToolChoice::Auto,
            "any" => ToolChoice::Required,
            "none" => ToolChoice::None,
            "tool" => ToolChoice::Tool(tf.req_str("name")?.to_string()),
            other => return Err(ConvertError::new("tool_choice.type", format!("unknown tool_choice type `{other}`"))),
        });
        if tf.bool("disable_parallel_tool_use")? == Some(true) {
            req.parallel_tool_calls = Some(false);
        }
    }
    let effort = f.object("output_config")?.and_then(|o| o.get("effort")).and_then(Value::as_str).map(str::to_string);
    if let Some(th) = f.object("thinking")? {
        match th.get("type").and_then(Value::as_str) {
            Some("enabled") => {
                req.reasoning = Some(Reasoning {
                    effort,
                    budget_tokens: th.get("budget_tokens").and_then(Value::as_u64).and_then(|b| u32::try_from(b).ok()),
                    disabled: false,
                })
            }
            Some("disabled") => req.reasoning = Some(Reasoning { disabled: true, ..Reasoning::default() }),
            // Adaptive: the model decides; only an explicit effort carries over.
            _ => req.reasoning = effort.map(|e| Reasoning { effort: Some(e), ..Reasoning::default() }),
        }
    }
    if let Some(format) = f.object("output_config")?.and_then(|o| o.get("format")) {
        if format.get("type").and_then(Value::as_str) == Some("json_schema") {
            req.response_format = Some(ResponseFormat::JsonSchema {
                name: "structured_output".into(),
                schema: format.get("schema").cloned().unwrap_or(json!({})),
                strict: Some(true),
            });
        }
    }
    if let Some(user) = f.object("metadata")?.and_then(|m| m.get("user_id")).and_then(Value::as_str) {
        req.user = Some(user.to_string());
    }
    for (k, v) in f.obj {
        if !MAPPED.contains(&k.as_str()) {
            req.anthropic_extra.insert(k.clone(), v.clone());
        }
    }
    Ok(req)
}

/// Content blocks; the flag marks `mid_conv_system` content.
fn content_blocks(content: Option<&Value>, path: &str) -> Result<Vec<(bool, Block)>, ConvertError> {
    match content {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => {
            Ok(if s.is_empty() { vec![] } else { vec![(false, Block::Text(Text::plain(s.clone())))] })
        }
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (j, item) in items.iter().enumerate() {
                let bpath = format!("{path}[{j}]");
                if let Some(b) = block(item, &bpath)? {
                    out.push(b);
                }
            }
            Ok(out)
        }
        Some(other) => Err(ConvertError::type_error(path, "a string or an array of content blocks", other)),
    }
}

fn media_source(v: Option<&Value>, path: &str) -> Result<MediaSource, ConvertError> {
    let v = v.ok_or_else(|| ConvertError::new(path, format!("`{path}` is required")))?;
    let f = Fields::of(v, path)?;
    Ok(match f.req_str("type")? {
        "base64" => MediaSource::Base64 {
            media_type: f.req_str("media_type")?.to_string(),
            data: f.req_str("data")?.to_string(),
        },
        "url" => MediaSource::Url(f.req_str("url")?.to_string()),
        "text" => MediaSource::PlainText(f.req_str("data")?.to_string()),
        other => return Err(ConvertError::new(f.path("type"), format!("source type `{other}` cannot be translated"))),
    })
}

fn block(item: &Value, path: &str) -> Result<Option<(bool, Block)>, ConvertError> {
    let f = Fields::of(item, path)?;
    let cache_control = f.get("cache_control").cloned();
    let b = match f.req_str("type")? {
        "text" => {
            let text = f.req_str("text")?;
            if text.is_empty() {
                return Ok(None);
            }
            Block::Text(Text { text: text.to_string(), cache_control })
        }
        "image" => Block::Image { source: media_source(f.get("source"), &f.path("source"))?, cache_control },
        "document" => Block::Document {
            source: media_source(f.get("source"), &f.path("source"))?,
            title: f.str("title")?.map(str::to_string),
            cache_control,
        },
        "tool_use" => Block::ToolCall(ToolCall {
            id: f.req_str("id")?.to_string(),
            name: f.req_str("name")?.to_string(),
            arguments: f.get("input").map(Value::to_string).unwrap_or_else(|| "{}".into()),
        }),
        "tool_result" => {
            let content = match f.get("content") {
                None => Vec::new(),
                Some(Value::String(s)) => vec![Block::Text(Text::plain(s.clone()))],
                Some(Value::Array(_)) => {
                    content_blocks(f.get("content"), &f.path("content"))?.into_iter().map(|(_, b)| b).collect()
                }
                Some(other) => return Err(ConvertError::type_error(&f.path("content"), "a string or an array", other)),
            };
            Block::ToolResult(ToolResult {
                call_id: f.req_str("tool_use_id")?.to_string(),
                content,
                is_error: f.bool("is_error")?.unwrap_or(false),
                cache_control,
            })
        }
        "thinking" => Block::Thinking {
            text: f.str("thinking")?.unwrap_or_default().to_string(),
            signature: f.str("signature")?.map(str::to_string),
        },
        "redacted_thinking" => Block::RedactedThinking { data: f.req_str("data")?.to_string() },
        "mid_conv_system" => {
            let text = content_blocks(f.get("content"), &f.path("content"))?
                .into_iter()
                .filter_map(|(_, b)| match b {
                    Block::Text(t) => Some(t.text),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n");
            return Ok(Some((true, Block::Text(Text { text, cache_control }))));
        }
        other => {
            return Err(ConvertError::new(
                f.path("type"),
                format!("content block type `{other}` at {path} cannot be translated to the upstream's format"),
            ))
        }
    };
    Ok(Some((false, b)))
}

// --------------------------------------------------------------- request out

/// Options of the target provider that shape an outgoing Anthropic request.
#[derive(Debug, Clone)]
pub struct AnthropicTarget {
    /// `max_tokens` when the client gave none.
    pub default_max_tokens: u32,
}

impl Default for AnthropicTarget {
    fn default() -> Self {
        Self { default_max_tokens: 4096 }
    }
}

/// Anthropic requires `^[a-zA-Z0-9_-]+$` tool ids; other characters become `_`
/// (applied identically to `tool_use.id` and `tool_result.tool_use_id`).
pub fn sanitize_tool_id(id: &str) -> String {
    let s: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
    if s.is_empty() {
        "toolu_empty".into()
    } else {
        s
    }
}

const OPERATOR_NOTE: &str =
    "Operator note (not from the user): the following was originally a mid-conversation system-role reminder.";

pub fn request_from_canonical(req: &Request, target: &AnthropicTarget) -> Result<Value, ConvertError> {
    if req.n.is_some_and(|n| n > 1) {
        return Err(ConvertError::new("n", "`n` > 1 (several choices) is not supported by an anthropic-base provider"));
    }
    if let Some(ResponseFormat::JsonObject) = &req.response_format {
        return Err(ConvertError::new(
            "response_format",
            "`response_format: json_object` has no Anthropic equivalent; use `json_schema` with a schema",
        ));
    }
    let mut out = Map::new();
    out.insert("model".into(), json!(req.model));
    let mut max_tokens = req.max_tokens.unwrap_or(target.default_max_tokens);
    let mut thinking: Option<Value> = None;
    // Extended thinking only works with tool_choice auto/none; a forced tool wins.
    let forced_tool =
        matches!(req.tool_choice, Some(ToolChoice::Required | ToolChoice::Tool(_))) && !req.tools.is_empty();
    if let (Some(r), false) = (&req.reasoning, forced_tool) {
        if !r.disabled {
            let budget = r.budget_tokens.or_else(|| r.effort.as_deref().and_then(budget_for_effort));
            if let Some(budget) = budget.map(|b| b.max(1024)) {
                // The budget must stay below max_tokens; grow max_tokens rather than starve the answer.
                if budget >= max_tokens {
                    max_tokens = budget.saturating_add(target.default_max_tokens.min(4096));
                }
                thinking = Some(json!({"type": "enabled", "budget_tokens": budget}));
            }
        }
    }
    out.insert("max_tokens".into(), json!(max_tokens));

    let system: Vec<Value> = req.system.iter().filter(|t| !t.text.is_empty()).map(text_block).collect();
    if !system.is_empty() {
        let plain = system.len() == 1 && req.system.iter().all(|t| t.cache_control.is_none());
        out.insert("system".into(), if plain { json!(req.system[0].text) } else { Value::Array(system) });
    }
    out.insert("messages".into(), Value::Array(messages_out(&req.messages)?));
    if req.stream {
        out.insert("stream".into(), json!(true));
    }
    if !req.stop.is_empty() {
        let stops: Vec<&String> = req.stop.iter().filter(|s| !s.trim().is_empty()).collect();
        if !stops.is_empty() {
            out.insert("stop_sequences".into(), json!(stops));
        }
    }
    if thinking.is_none() {
        if let Some(t) = req.temperature {
            out.insert("temperature".into(), json!(t.clamp(0.0, 1.0)));
        }
        if let Some(k) = req.top_k {
            out.insert("top_k".into(), json!(k));
        }
    }
    if let Some(p) = req.top_p {
        out.insert("top_p".into(), json!(p));
    }
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|t| {
                let mut schema = t.parameters.clone();
                if let Value::Object(o) = &mut schema {
                    o.entry("type").or_insert(json!("object"));
                } else {
                    schema = json!({"type": "object", "properties": {}});
                }
                let mut tool = json!({"name": t.name, "input_schema": schema});
                if let Some(d) = &t.description {
                    tool["description"] = json!(d);
                }
                if let Some(c) = &t.cache_control {
                    tool["cache_control"] = c.clone();
                }
                tool
            })
            .collect();
        out.insert("tools".into(), Value::Array(tools));
    }
    let mut tool_choice = req.tool_choice.as_ref().map(|c| match c {
        ToolChoice::Auto => json!({"type": "auto"}),
        ToolChoice::Required => json!({"type": "any"}),
        ToolChoice::None => json!({"type": "none"}),
        ToolChoice::Tool(name) => json!({"type": "tool", "name": name}),
    });
    if req.parallel_tool_calls == Some(false) && !req.tools.is_empty() {
        let tc = tool_choice.get_or_insert_with(|| json!({"type": "auto"}));
        if tc["type"] != "none" {
            tc["disable_parallel_tool_use"] = json!(true);
        }
    }
    if let Some(tc) = tool_choice {
        if !req.tools.is_empty() || tc["type"] == "none" {
            out.insert("tool_choice".into(), tc);
        }
    }
    if let Some(t) = thinking {
        out.insert("thinking".into(), t);
    }
    if let Some(ResponseFormat::JsonSchema { schema, .. }) = &req.response_format {
        out.insert("output_config".into(), json!({"format": {"type": "json_schema", "schema": schema}}));
    }
    if let Some(user) = &req.user {
        out.insert("metadata".into(), json!({"user_id": user}));
    }
    Ok(Value::Object(out))
}

fn text_block(t: &Text) -> Value {
    let mut b = json!({"type": "text", "text": t.text});
    if let Some(c) = &t.cache_control {
        b["cache_control"] = c.clone();
    }
    b
}

fn source_out(s: &MediaSource) -> Value {
    match s {
        MediaSource::Base64 { media_type, data } => json!({"type": "base64", "media_type": media_type, "data": data}),
        MediaSource::Url(url) => json!({"type": "url", "url": url}),
        MediaSource::PlainText(t) => json!({"type": "text", "media_type": "text/plain", "data": t}),
    }
}

fn block_out(b: &Block) -> Result<Option<Value>, ConvertError> {
    let with_cache = |mut v: Value, c: &Option<Value>| {
        if let Some(c) = c {
            v["cache_control"] = c.clone();
        }
        v
    };
    Ok(Some(match b {
        Block::Text(t) if t.text.is_empty() => return Ok(None),
        Block::Text(t) => text_block(t),
        Block::Image { source, cache_control } => {
            with_cache(json!({"type": "image", "source": source_out(source)}), cache_control)
        }
        Block::Document { source, title, cache_control } => {
            let mut d = json!({"type": "document", "source": source_out(source)});
            if let Some(t) = title {
                d["title"] = json!(t);
            }
            with_cache(d, cache_control)
        }
        Block::ToolCall(c) => {
            let input: Value = if c.arguments.trim().is_empty() {
                json!({})
            } else {
                match serde_json::from_str::<Value>(&c.arguments) {
                    Ok(v @ Value::Object(_)) => v,
                    _ => {
                        return Err(ConvertError::new(
                            "messages",
                            format!(
                                "arguments of tool call {} ({}) are not a JSON object: {}",
                                c.id, c.name, c.arguments
                            ),
                        ))
                    }
                }
            };
            json!({"type": "tool_use", "id": sanitize_tool_id(&c.id), "name": c.name, "input": input})
        }
        Block::ToolResult(r) => {
            let content: Vec<Value> = r.content.iter().filter_map(|b| block_out(b).ok().flatten()).collect();
            let mut v = json!({"type": "tool_result", "tool_use_id": sanitize_tool_id(&r.call_id), "content": content});
            if r.is_error {
                v["is_error"] = json!(true);
            }
            with_cache(v, &r.cache_control)
        }
        // Never fabricate a signature: unsigned thinking cannot be replayed.
        Block::Thinking { signature: None, .. } => return Ok(None),
        Block::Thinking { text, signature: Some(sig) } => {
            json!({"type": "thinking", "thinking": text, "signature": sig})
        }
        Block::RedactedThinking { data } => json!({"type": "redacted_thinking", "data": data}),
    }))
}

/// Builds Anthropic turns: mid-conversation system turns become operator
/// notes in a user turn, consecutive same-role turns merge, tool results open
/// their user turn, and tool calls and results are paired.
fn messages_out(messages: &[Message]) -> Result<Vec<Value>, ConvertError> {
    // (role, blocks) with roles user/assistant only.
    let mut turns: Vec<(Role, Vec<Block>)> = Vec::new();
    for m in messages {
        let (role, blocks) = match m.role {
            Role::System => {
                let text = crate::canonical::joined_text(&m.content, "\n");
                if text.is_empty() {
                    continue;
                }
                (Role::User, vec![Block::Text(Text::plain(format!("{OPERATOR_NOTE}\n{text}")))])
            }
            r => (r, m.content.clone()),
        };
        match turns.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    pair_tool_results(&mut turns);
    let mut out = Vec::with_capacity(turns.len());
    for (role, mut blocks) in turns {
        if role == Role::User {
            // tool_result blocks must come first in their user turn.
            blocks.sort_by_key(|b| !matches!(b, Block::ToolResult(_)));
        }
        let content: Vec<Value> =
            blocks.iter().map(block_out).collect::<Result<Vec<_>, _>>()?.into_iter().flatten().collect();
        if content.is_empty() {
            continue;
        }
        let role = if role == Role::Assistant { "assistant" } else { "user" };
        match out.last_mut() {
            // Dropping an empty turn can leave two of a role adjacent: merge them.
            Some(Value::Object(prev)) if prev.get("role").and_then(Value::as_str) == Some(role) => {
                if let Some(Value::Array(c)) = prev.get_mut("content") {
                    c.extend(content);
                }
            }
            _ => out.push(json!({"role": role, "content": content})),
        }
    }
    Ok(out)
}

/// Every tool call gets exactly one result in the next user turn: missing
/// results get a placeholder, results without a call become plain text.
fn pair_tool_results(turns: &mut Vec<(Role, Vec<Block>)>) {
    let mut i = 0;
    while i < turns.len() {
        let calls: Vec<String> = if turns[i].0 == Role::Assistant {
            turns[i]
                .1
                .iter()
                .filter_map(|b| if let Block::ToolCall(c) = b { Some(c.id.clone()) } else { None })
                .collect()
        } else {
            Vec::new()
        };
        if !calls.is_empty() {
            if turns.get(i + 1).is_none_or(|(r, _)| *r != Role::User) {
                turns.insert(i + 1, (Role::User, Vec::new()));
            }
            let next = &mut turns[i + 1].1;
            for id in &calls {
                if !next.iter().any(|b| matches!(b, Block::ToolResult(r) if r.call_id == *id)) {
                    next.push(Block::ToolResult(ToolResult {
                        call_id: id.clone(),
                        content: vec![Block::Text(Text::plain("(no result)"))],
                        is_error: false,
                        cache_control: None,
                    }));
                }
            }
        }
        if turns[i].0 == Role::User {
            let prev_calls: Vec<String> = if i > 0 && turns[i - 1].0 == Role::Assistant {
                turns[i - 1]
                    .1
                    .iter()
                    .filter_map(|b| if let Block::ToolCall(c) = b { Some(c.id.clone()) } else { None })
                    .collect()
            } else {
                Vec::new()
            };
            for b in turns[i].1.iter_mut() {
                if let Block::ToolResult(r) = b {
                    if !prev_calls.contains(&r.call_id) {
                        *b = Block::Text(Text::plain(format!("Tool result for {}: {}", r.call_id, r.text())));
                    }
                }
            }
        }
        i += 1;
    }
}
