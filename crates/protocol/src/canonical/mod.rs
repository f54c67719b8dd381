//! The canonical model: one neutral shape for a conversation turn, its answer
//! and its stream of events. Every dialect converts to and from it, so each
//! dialect is written once and every pair of dialects works.
//!
//! Blocks follow Anthropic's structure (the richest): a message is a list of
//! typed blocks; tool results are blocks of a user turn; a stream is a
//! sequence of blocks opened, extended and closed by index.

pub mod estimate;
mod json;

pub use json::{kind, raw_str, string_or_array, ConvertError, Fields};

use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub model: String,
    /// Leading system/developer prompts (top-level `system` in Anthropic terms).
    pub system: Vec<Text>,
    /// The conversation; may hold `Role::System` turns mid-conversation.
    pub messages: Vec<Message>,
    pub tools: Vec<ToolDef>,
    pub tool_choice: Option<ToolChoice>,
    pub parallel_tool_calls: Option<bool>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<u32>,
    pub stop: Vec<String>,
    pub stream: bool,
    /// The client asked for a usage chunk (chat `stream_options.include_usage`).
    pub include_usage: bool,
    /// End-user id (`user` / `safety_identifier` / `metadata.user_id`).
    pub user: Option<String>,
    pub reasoning: Option<Reasoning>,
    pub response_format: Option<ResponseFormat>,
    /// Number of choices asked for (only 1 is expressible everywhere).
    pub n: Option<u32>,
    /// Anthropic-only request fields kept verbatim for an Anthropic upstream
    /// (`thinking`, `context_management`, `output_config`, `metadata`, …).
    pub anthropic_extra: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub text: String,
    pub cache_control: Option<Value>,
}

impl Text {
    pub fn plain(text: impl Into<String>) -> Self {
        Self { text: text.into(), cache_control: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Text(Text),
    Image { source: MediaSource, cache_control: Option<Value> },
    Document { source: MediaSource, title: Option<String>, cache_control: Option<Value> },
    ToolCall(ToolCall),
    ToolResult(ToolResult),
    Thinking { text: String, signature: Option<String> },
    RedactedThinking { data: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// JSON text of the arguments, as produced (may be invalid JSON).
    pub arguments: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolResult {
    pub call_id: String,
    /// Text and image blocks.
    pub content: Vec<Block>,
    pub is_error: bool,
    pub cache_control: Option<Value>,
}

impl ToolResult {
    pub fn text(&self) -> String {
        joined_text(&self.content, "\n")
    }
}

/// The text blocks of `blocks`, joined with `sep`.
pub fn joined_text(blocks: &[Block], sep: &str) -> String {
    blocks
        .iter()
        .filter_map(|b| match b {
            Block::Text(t) => Some(t.text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(sep)
}

#[derive(Debug, Clone, PartialEq)]
pub enum MediaSource {
    Base64 {
        media_type: String,
        data: String,
    },
    Url(String),
    /// Plain text document.
    PlainText(String),
}

impl MediaSource {
    /// Parses a `data:<mime>;base64,<data>` URL, or takes an http(s) URL as is.
    pub fn from_url(url: &str) -> Self {
        if let Some(rest) = url.strip_prefix("data:") {
            if let Some((meta, data)) = rest.split_once(',') {
                let media_type = meta.trim_end_matches(";base64").to_string();
                return Self::Base64 { media_type, data: data.to_string() };
            }
        }
        Self::Url(url.to_string())
    }

    pub fn to_url(&self) -> String {
        match self {
            Self::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
            Self::Url(u) => u.clone(),
            Self::PlainText(t) => format!("data:text/plain,{t}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolDef {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the input (an object schema).
    pub parameters: Value,
    pub cache_control: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    Auto,
    Required,
    None,
    Tool(String),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reasoning {
    /// `minimal` … `max`, when the client spoke in efforts.
    pub effort: Option<String>,
    /// Token budget, when the client gave one.
    pub budget_tokens: Option<u32>,
    /// Explicitly off (`reasoning_effort: none`, `thinking.type: disabled`).
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResponseFormat {
    JsonObject,
    JsonSchema { name: String, schema: Value, strict: Option<bool> },
}

/// A complete (non-streamed) answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub id: String,
    pub model: String,
    /// Text, ToolCall, Thinking and RedactedThinking blocks.
    pub content: Vec<Block>,
    pub stop_reason: StopReason,
    pub stop_sequence: Option<String>,
    pub usage: Usage,
}

impl Response {
    /// An upstream's answer: `id` and `model` read from the top level of its
    /// body, and the tool-use rule applied to `stop_reason`.
    pub fn from_upstream(
        body: &Fields<'_>,
        content: Vec<Block>,
        stop_reason: StopReason,
        stop_sequence: Option<String>,
        usage: Usage,
    ) -> Result<Self, ConvertError> {
        let stop_reason = stop_reason.or_tool_use(has_tool_call(&content));
        Ok(Self {
            id: body.str("id")?.unwrap_or_default().to_string(),
            model: body.str("model")?.unwrap_or_default().to_string(),
            content,
            stop_reason,
            stop_sequence,
            usage,
        })
    }

    pub fn text(&self) -> String {
        joined_text(&self.content, "")
    }

    /// The stop reason a client is told (the tool-use rule applied).
    pub fn client_stop_reason(&self) -> StopReason {
        self.stop_reason.or_tool_use(has_tool_call(&self.content))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    EndTurn,
    MaxTokens,
    StopSequence,
    ToolUse,
    /// Refusal / content filter.
    Refusal,
    PauseTurn,
    ContextWindowExceeded,
}

impl StopReason {
    /// The one rule every dialect shares: a turn that made a tool call stopped
    /// to use the tool (Anthropic `tool_use`, OpenAI `tool_calls`), whatever
    /// the upstream said, because clients run their tools only on that reason.
    pub fn or_tool_use(self, made_tool_call: bool) -> Self {
        if made_tool_call {
            Self::ToolUse
        } else {
            self
        }
    }
}

/// Whether `blocks` hold a tool call.
pub fn has_tool_call(blocks: &[Block]) -> bool {
    blocks.iter().any(|b| matches!(b, Block::ToolCall(_)))
}

/// Token counts. `input_tokens` excludes cached tokens (Anthropic semantics);
/// OpenAI's `prompt_tokens` is [`Usage::total_input`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
}

impl Usage {
    // Saturating: the counts come from the upstream, and a hostile one can send u64::MAX (found by fuzzing).
    pub fn total_input(&self) -> u64 {
        self.input_tokens.saturating_add(self.cache_read_tokens).saturating_add(self.cache_write_tokens)
    }
    pub fn total(&self) -> u64 {
        self.total_input().saturating_add(self.output_tokens)
    }
}

/// What a streamed block starts as.
#[derive(Debug, Clone, PartialEq)]
pub enum BlockStart {
    Text,
    ToolCall { id: String, name: String },
    Thinking,
    RedactedThinking { data: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum BlockDelta {
    Text(String),
    ToolArguments(String),
    Thinking(String),
    Signature(String),
}

/// The neutral stream vocabulary. Blocks are opened, extended and closed in
/// order; `index` is the block's position in the final content.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    MessageStart {
        id: String,
        model: String,
        usage: Usage,
    },
    BlockStart {
        index: usize,
        block: BlockStart,
    },
    BlockDelta {
        index: usize,
        delta: BlockDelta,
    },
    BlockStop {
        index: usize,
    },
    /// Final stop reason and cumulative usage.
    MessageDelta {
        stop_reason: StopReason,
        stop_sequence: Option<String>,
        usage: Usage,
    },
    MessageStop,
    Error {
        kind: String,
        message: String,
    },
    Ping,
}

/// An id in a dialect's own form: kept when it already has `prefix`, otherwise
/// the other dialects' prefixes are swapped for it (`msg_x` → `chatcmpl-x`).
pub fn dialect_id(id: &str, prefix: &str) -> String {
    if id.starts_with(prefix) {
        return id.to_string();
    }
    let bare = ["msg_", "chatcmpl-", "resp_", "cmpl-"].iter().find_map(|p| id.strip_prefix(p)).unwrap_or(id);
    format!("{prefix}{bare}")
}

/// Accumulates a stream into a complete [`Response`] (used for Responses'
/// `response.completed` and for tests).
#[derive(Debug, Default)]
pub struct Accumulator {
    pub id: String,
    pub model: String,
    pub content: Vec<Block>,
    pub stop_reason: Option<StopReason>,
    pub stop_sequence: Option<String>,
    pub usage: Usage,
}

impl Accumulator {
    pub fn push(&mut self, event: &StreamEvent) {
        match event {
            StreamEvent::MessageStart { id, model, usage } => {
                self.id = id.clone();
                self.model = model.clone();
                self.usage = *usage;
            }
            StreamEvent::BlockStart { index, block } => {
                let b = match block {
                    BlockStart::Text => Block::Text(Text::plain("")),
                    BlockStart::ToolCall { id, name } => {
                        Block::ToolCall(ToolCall { id: id.clone(), name: name.clone(), arguments: String::new() })
                    }
                    BlockStart::Thinking => Block::Thinking { text: String::new(), signature: None },
                    BlockStart::RedactedThinking { data } => Block::RedactedThinking { data: data.clone() },
                };
                while self.content.len() < *index {
                    self.content.push(Block::Text(Text::plain("")));
                }
                if *index < self.content.len() {
                    self.content[*index] = b;
                } else {
                    self.content.push(b);
                }
            }
            StreamEvent::BlockDelta { index, delta } => match (self.content.get_mut(*index), delta) {
                (Some(Block::Text(t)), BlockDelta::Text(s)) => t.text.push_str(s),
                (Some(Block::ToolCall(c)), BlockDelta::ToolArguments(s)) => c.arguments.push_str(s),
                (Some(Block::Thinking { text, .. }), BlockDelta::Thinking(s)) => text.push_str(s),
                (Some(Block::Thinking { signature, .. }), BlockDelta::Signature(s)) => {
                    signature.get_or_insert_with(String::new).push_str(s)
                }
                _ => {}
            },
            StreamEvent::MessageDelta { stop_reason, stop_sequence, usage } => {
                self.stop_reason = Some(*stop_reason);
                self.stop_sequence = stop_sequence.clone();
                self.usage = merge_usage(self.usage, *usage);
            }
            _ => {}
        }
    }

    pub fn response(&self) -> Response {
        Response {
            id: self.id.clone(),
            model: self.model.clone(),
            content: self.content.clone(),
            stop_reason: self.stop_reason.unwrap_or(StopReason::EndTurn),
            stop_sequence: self.stop_sequence.clone(),
            usage: self.usage,
        }
    }
}

/// Later usage wins field by field where it is non-zero (usage is cumulative;
/// input counts may only arrive at the start).
pub fn merge_usage(earlier: Usage, later: Usage) -> Usage {
    let pick = |a: u64, b: u64| if b > 0 { b } else { a };
    Usage {
        input_tokens: pick(earlier.input_tokens, later.input_tokens),
        cache_read_tokens: pick(earlier.cache_read_tokens, later.cache_read_tokens),
        cache_write_tokens: pick(earlier.cache_write_tokens, later.cache_write_tokens),
        output_tokens: pick(earlier.output_tokens, later.output_tokens),
        reasoning_tokens: pick(earlier.reasoning_tokens, later.reasoning_tokens),
    }
}

/// Upstream stream → canonical events.
pub trait StreamDecoder: Send {
    /// One SSE event (its `event:` name and `data`).
    fn event(&mut self, name: Option<&str>, data: &str) -> Vec<StreamEvent>;
    /// The upstream ended. Returns closing events if the stream completed in a
    /// way that needs them, or an `Error` if it ended early.
    fn end(&mut self) -> Vec<StreamEvent>;
    /// The upstream sent its terminal event.
    fn is_complete(&self) -> bool;
}

/// Canonical events → client stream bytes.
pub trait StreamEncoder: Send {
    fn encode(&mut self, event: &StreamEvent) -> Vec<bytes::Bytes>;
}

/// Replays a complete answer as stream events (for an upstream that answered
/// a streaming request with one JSON body).
pub fn events_from_response(r: &Response) -> Vec<StreamEvent> {
    let input_only = Usage { output_tokens: 0, ..r.usage };
    let mut out = vec![StreamEvent::MessageStart { id: r.id.clone(), model: r.model.clone(), usage: input_only }];
    for (index, b) in r.content.iter().enumerate() {
        let (start, delta) = match b {
            Block::Text(t) => (BlockStart::Text, Some(BlockDelta::Text(t.text.clone()))),
            Block::ToolCall(c) => (
                BlockStart::ToolCall { id: c.id.clone(), name: c.name.clone() },
                Some(BlockDelta::ToolArguments(c.arguments.clone())),
            ),
            Block::Thinking { text, .. } => (BlockStart::Thinking, Some(BlockDelta::Thinking(text.clone()))),
            Block::RedactedThinking { data } => (BlockStart::RedactedThinking { data: data.clone() }, None),
            _ => continue,
        };
        out.push(StreamEvent::BlockStart { index, block: start });
        if let Some(d) = delta {
            out.push(StreamEvent::BlockDelta { index, delta: d });
        }
        if let Block::Thinking { signature: Some(sig), .. } = b {
            out.push(StreamEvent::BlockDelta { index, delta: BlockDelta::Signature(sig.clone()) });
        }
        out.push(StreamEvent::BlockStop { index });
    }
    out.push(StreamEvent::MessageDelta {
        stop_reason: r.stop_reason,
        stop_sequence: r.stop_sequence.clone(),
        usage: r.usage,
    });
    out.push(StreamEvent::MessageStop);
    out
}
