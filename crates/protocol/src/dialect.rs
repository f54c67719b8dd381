//! One descriptor per dialect: the facts about a wire protocol that the rest
//! of the gateway needs without knowing the protocol. What ends its streams,
//! how it says "this stream failed" in band, what its error body is for an
//! HTTP status, and which stream decoder and encoder speak it.
//!
//! An enum rather than a trait per dialect module: the set is closed, core
//! keeps the value in plans and relays (it must be `Copy`, comparable and
//! printable), passthrough is decided by comparing two of them, and adding a
//! dialect (Gemini) is one variant whose missing match arms the compiler lists.
//! The facts themselves stay in each dialect's module (its error types, its
//! encoder); this file only says which belongs to which.

use bytes::Bytes;
use serde_json::Value;

use crate::anthropic;
use crate::anthropic::stream::{AnthropicDecoder, AnthropicEncoder};
use crate::canonical::{StreamDecoder, StreamEncoder};
use crate::openai;
use crate::openai::chat::stream::{ChatDecoder, ChatEncoder};
use crate::openai::chat::ToolNames;
use crate::openai::completions::CompletionsEncoder;
use crate::openai::responses::{self, ResponsesContext, ResponsesEncoder};
use crate::sse::TerminalScanner;

/// A dialect a client speaks (and, for Chat and Messages, an upstream too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// `POST /v1/chat/completions`.
    OpenAiChat,
    /// `POST /v1/responses`.
    OpenAiResponses,
    /// Legacy `POST /v1/completions`.
    OpenAiCompletions,
    /// Anthropic `POST /v1/messages`.
    AnthropicMessages,
}

/// What an upstream speaks: a provider's base format. Translation targets
/// only these two; every other fact about them is on [`Dialect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpstreamDialect {
    OpenAiChat,
    AnthropicMessages,
}

/// Chat and legacy completions: `data:` events ended by `data: [DONE]`, or by
/// an error body (after which an upstream sends nothing more).
const OPENAI_CHAT_END: &[&[u8]] = &[b"data: [DONE]", b"data:[DONE]", b"data: {\"error\""];

/// Responses: ended by `response.completed` / `.incomplete` / `.failed`, or an
/// `error` event; data-only streams carry the type in the JSON.
const OPENAI_RESPONSES_END: &[&[u8]] = &[
    b"event: response.completed",
    b"event: response.incomplete",
    b"event: response.failed",
    b"event: error",
    b"data: {\"type\":\"response.completed\"",
    b"data: {\"type\":\"response.incomplete\"",
    b"data: {\"type\":\"response.failed\"",
];

/// Messages: ended by `message_stop`, or an `error` event.
const ANTHROPIC_MESSAGES_END: &[&[u8]] =
    &[b"event: message_stop", b"event: error", b"data: {\"type\":\"message_stop\"", b"data: {\"type\":\"error\""];

/// An error, before it is written in a dialect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ErrorReport<'a> {
    pub status: u16,
    pub message: &'a str,
    /// The upstream's own `error.type`, when the error came from one.
    pub upstream_type: Option<&'a str>,
    /// The request field at fault.
    pub param: Option<&'a str>,
    /// A machine-readable code (`upstream_stream_truncated`, …).
    pub code: Option<&'a str>,
}

/// What a client's stream encoder echoes back.
#[derive(Debug, Clone, Copy)]
pub struct EncoderSetup<'a> {
    /// The model id the client asked for.
    pub model: &'a str,
    /// Creation time (seconds since the epoch) stamped on chunks.
    pub created: i64,
    /// Chat/Completions `stream_options.include_usage`.
    pub include_usage: bool,
    /// What a Responses request told the answer (namespaced tools).
    pub responses: &'a ResponsesContext,
}

impl Dialect {
    pub const ALL: [Self; 4] =
        [Self::OpenAiChat, Self::OpenAiResponses, Self::OpenAiCompletions, Self::AnthropicMessages];

    /// The name `architecture.md` uses (`openai.chat`, …), for logs and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Self::OpenAiChat => "openai.chat",
            Self::OpenAiResponses => "openai.responses",
            Self::OpenAiCompletions => "openai.completions",
            Self::AnthropicMessages => "anthropic.messages",
        }
    }

    /// Line prefixes that end a stream in this dialect (for [`TerminalScanner`]).
    pub fn terminal_markers(self) -> &'static [&'static [u8]] {
        match self {
            Self::OpenAiChat | Self::OpenAiCompletions => OPENAI_CHAT_END,
            Self::OpenAiResponses => OPENAI_RESPONSES_END,
            Self::AnthropicMessages => ANTHROPIC_MESSAGES_END,
        }
    }

    /// A scanner that finds this dialect's terminal event in relayed bytes.
    pub fn terminal_scanner(self) -> TerminalScanner {
        TerminalScanner::new(self.terminal_markers())
    }

    /// The in-band error event that ends a stream which failed mid-way (the
    /// upstream broke, went silent or ended early). `code` names the failure
    /// where the dialect has a field for it (Chat and Completions). The event
    /// is itself terminal: it matches [`Dialect::terminal_markers`].
    pub fn stream_error_event(self, message: &str, code: &str) -> Bytes {
        match self {
            Self::OpenAiChat | Self::OpenAiCompletions => {
                openai::error::stream_error_event(message, "server_error", code)
            }
            Self::OpenAiResponses => responses::failed_event(message),
            Self::AnthropicMessages => anthropic::error::stream_error_event("api_error", message),
        }
    }

    /// The `error.type` for an HTTP status. An upstream's own type is kept
    /// when the dialect can carry it: any type in OpenAI's (its SDKs branch on
    /// the status), only Anthropic's own in Anthropic's (its SDKs map types to
    /// exception classes).
    pub fn error_type(self, status: u16, upstream_type: Option<&str>) -> &str {
        match self {
            Self::AnthropicMessages => anthropic::error::error_type_for(upstream_type, status),
            Self::OpenAiChat | Self::OpenAiResponses | Self::OpenAiCompletions => {
                upstream_type.unwrap_or_else(|| openai::error::error_type_for_status(status))
            }
        }
    }

    /// The error body for an HTTP error answer: OpenAI
    /// `{"error":{"message","type","param","code"}}` (all four keys present),
    /// Anthropic `{"type":"error","error":{"type","message"}}`, which has no
    /// `param`, so the field at fault is named in the message instead.
    pub fn error_body(self, e: &ErrorReport<'_>) -> Value {
        let kind = self.error_type(e.status, e.upstream_type);
        let body = match self {
            Self::AnthropicMessages => {
                let message = match e.param {
                    Some(p) if !e.message.contains(p) => format!("{p}: {}", e.message),
                    _ => e.message.to_string(),
                };
                serde_json::to_value(anthropic::error::ErrorResponse::new(kind, message))
            }
            Self::OpenAiChat | Self::OpenAiResponses | Self::OpenAiCompletions => serde_json::to_value(
                openai::error::ErrorResponse::new(e.message, kind)
                    .with_param(e.param.map(str::to_string))
                    .with_code(e.code.map(str::to_string)),
            ),
        };
        body.unwrap_or(Value::Null)
    }

    /// This dialect as an upstream speaks it; `None` for the dialects the
    /// gateway never translates to (Responses, Completions).
    pub fn upstream(self) -> Option<UpstreamDialect> {
        match self {
            Self::OpenAiChat => Some(UpstreamDialect::OpenAiChat),
            Self::AnthropicMessages => Some(UpstreamDialect::AnthropicMessages),
            Self::OpenAiResponses | Self::OpenAiCompletions => None,
        }
    }

    /// The decoder for this dialect spoken by an upstream (see [`Dialect::upstream`]).
    pub fn decoder(self, names: ToolNames) -> Option<Box<dyn StreamDecoder>> {
        self.upstream().map(|u| u.decoder(names))
    }

    /// The encoder that writes canonical stream events for a client of this dialect.
    pub fn encoder(self, setup: &EncoderSetup<'_>) -> Box<dyn StreamEncoder> {
        match self {
            Self::OpenAiChat => Box::new(ChatEncoder::new(setup.model, setup.created, setup.include_usage)),
            Self::OpenAiResponses => {
                Box::new(ResponsesEncoder::new(setup.model, setup.created, setup.responses.clone()))
            }
            Self::OpenAiCompletions => {
                Box::new(CompletionsEncoder::new(setup.model, setup.created, setup.include_usage))
            }
            Self::AnthropicMessages => Box::new(AnthropicEncoder::new(setup.model)),
        }
    }
}

impl UpstreamDialect {
    pub fn dialect(self) -> Dialect {
        self.into()
    }

    /// The decoder for this upstream's stream (`names` maps shortened tool
    /// names back, for an OpenAI upstream).
    pub fn decoder(self, names: ToolNames) -> Box<dyn StreamDecoder> {
        match self {
            Self::OpenAiChat => Box::new(ChatDecoder::new(names)),
            Self::AnthropicMessages => Box::new(AnthropicDecoder::new()),
        }
    }
}

impl From<UpstreamDialect> for Dialect {
    fn from(u: UpstreamDialect) -> Self {
        match u {
            UpstreamDialect::OpenAiChat => Self::OpenAiChat,
            UpstreamDialect::AnthropicMessages => Self::AnthropicMessages,
        }
    }
}

#[cfg(test)]
mod tests;
