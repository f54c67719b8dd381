//! What the server hands the gateway: which API the client called and the
//! client headers that matter to the phases.

use http::HeaderMap;
use switchyard_protocol::dialect::Dialect;

use crate::lifecycle::Credentials;
use crate::request_type::RequestType;

/// The API a client called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Inbound {
    OpenAiChat,
    OpenAiResponses,
    OpenAiCompletions,
    OpenAiEmbeddings,
    AnthropicMessages,
    AnthropicCountTokens,
}

impl Inbound {
    pub const ALL: [Self; 6] = [
        Self::OpenAiChat,
        Self::OpenAiResponses,
        Self::OpenAiCompletions,
        Self::OpenAiEmbeddings,
        Self::AnthropicMessages,
        Self::AnthropicCountTokens,
    ];

    /// The request type this call is when served by its own endpoint.
    pub fn request_type(self, stream: bool) -> RequestType {
        match (self, stream) {
            (Self::OpenAiChat | Self::AnthropicMessages, false) => RequestType::ChatCompletion,
            (Self::OpenAiChat | Self::AnthropicMessages, true) => RequestType::ChatCompletionStream,
            (Self::OpenAiResponses, false) => RequestType::Responses,
            (Self::OpenAiResponses, true) => RequestType::ResponsesStream,
            (Self::OpenAiCompletions, false) => RequestType::TextCompletion,
            (Self::OpenAiCompletions, true) => RequestType::TextCompletionStream,
            (Self::OpenAiEmbeddings, _) => RequestType::Embedding,
            (Self::AnthropicCountTokens, _) => RequestType::CountTokens,
        }
    }

    /// As logs and metrics label it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAiChat => "openai.chat",
            Self::OpenAiResponses => "openai.responses",
            Self::OpenAiCompletions => "openai.completions",
            Self::OpenAiEmbeddings => "openai.embeddings",
            Self::AnthropicMessages => "anthropic.messages",
            Self::AnthropicCountTokens => "anthropic.count_tokens",
        }
    }

    /// The wire dialect the client speaks. Embeddings answer in OpenAI's
    /// (they never stream); count_tokens in Anthropic's.
    pub fn dialect(self) -> Dialect {
        match self {
            Self::OpenAiChat | Self::OpenAiEmbeddings => Dialect::OpenAiChat,
            Self::OpenAiResponses => Dialect::OpenAiResponses,
            Self::OpenAiCompletions => Dialect::OpenAiCompletions,
            Self::AnthropicMessages | Self::AnthropicCountTokens => Dialect::AnthropicMessages,
        }
    }

    /// Whether the request may stream at all.
    pub fn streams(self) -> bool {
        !matches!(self, Self::OpenAiEmbeddings | Self::AnthropicCountTokens)
    }
}

/// Client headers that may influence the request.
#[derive(Debug, Clone, Default)]
pub struct InboundHeaders {
    /// Headers that passed the server's allow-list (sent upstream).
    pub forwarded: HeaderMap,
    /// The client's `anthropic-beta`, forwarded (filtered) to anthropic-base upstreams only.
    pub anthropic_beta: Option<String>,
    /// The request id the edge assigned (also in `forwarded` as `x-request-id`).
    pub request_id: Option<String>,
    pub user_agent: Option<String>,
    /// `x-switchyard-user`.
    pub user: Option<String>,
    /// The client's own `Databricks-Ai-Gateway-Request-Tags`, merged into
    /// Switchyard's for providers that send them (never forwarded as is).
    pub request_tags: Option<String>,
    /// For *identify* only; never forwarded.
    pub credentials: Credentials,
}
