//! Request types a provider can allow, named as in Bifrost's `allowed_requests`.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestType {
    ListModels,
    ChatCompletion,
    ChatCompletionStream,
    Responses,
    ResponsesStream,
    TextCompletion,
    TextCompletionStream,
    Embedding,
    CountTokens,
}

/// The upstream wire format of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaseFormat {
    Openai,
    Anthropic,
}

impl BaseFormat {
    /// The dialect its chat endpoint speaks: what translation targets.
    pub fn upstream_dialect(self) -> switchyard_protocol::dialect::UpstreamDialect {
        match self {
            Self::Openai => switchyard_protocol::dialect::UpstreamDialect::OpenAiChat,
            Self::Anthropic => switchyard_protocol::dialect::UpstreamDialect::AnthropicMessages,
        }
    }

    pub const ALL: [BaseFormat; 2] = [BaseFormat::Openai, BaseFormat::Anthropic];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openai => "openai",
            Self::Anthropic => "anthropic",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

impl fmt::Display for BaseFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RequestType {
    pub const ALL: [RequestType; 9] = [
        RequestType::ListModels,
        RequestType::ChatCompletion,
        RequestType::ChatCompletionStream,
        RequestType::Responses,
        RequestType::ResponsesStream,
        RequestType::TextCompletion,
        RequestType::TextCompletionStream,
        RequestType::Embedding,
        RequestType::CountTokens,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ListModels => "list_models",
            Self::ChatCompletion => "chat_completion",
            Self::ChatCompletionStream => "chat_completion_stream",
            Self::Responses => "responses",
            Self::ResponsesStream => "responses_stream",
            Self::TextCompletion => "text_completion",
            Self::TextCompletionStream => "text_completion_stream",
            Self::Embedding => "embedding",
            Self::CountTokens => "count_tokens",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Human label, as the UI shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::ListModels => "List Models",
            Self::ChatCompletion => "Chat Completion",
            Self::ChatCompletionStream => "Chat Completion (stream)",
            Self::Responses => "Responses",
            Self::ResponsesStream => "Responses (stream)",
            Self::TextCompletion => "Text Completion",
            Self::TextCompletionStream => "Text Completion (stream)",
            Self::Embedding => "Embedding",
            Self::CountTokens => "Count Tokens",
        }
    }

    /// The non-streaming twin of a streaming type; a stream falls back to its
    /// twin's path override when it has none of its own.
    pub fn non_stream(self) -> Self {
        match self {
            Self::ChatCompletionStream => Self::ChatCompletion,
            Self::ResponsesStream => Self::Responses,
            Self::TextCompletionStream => Self::TextCompletion,
            other => other,
        }
    }

    /// The standard path for this request on a base format, `None` where the
    /// format has no such endpoint.
    pub fn default_path(self, format: BaseFormat) -> Option<&'static str> {
        match (format, self) {
            (_, Self::ListModels) => Some("/v1/models"),
            (BaseFormat::Openai, Self::ChatCompletion | Self::ChatCompletionStream) => Some("/v1/chat/completions"),
            (BaseFormat::Openai, Self::Responses | Self::ResponsesStream) => Some("/v1/responses"),
            (BaseFormat::Openai, Self::TextCompletion | Self::TextCompletionStream) => Some("/v1/completions"),
            (BaseFormat::Openai, Self::Embedding) => Some("/v1/embeddings"),
            (BaseFormat::Openai, Self::CountTokens) => None,
            (BaseFormat::Anthropic, Self::CountTokens) => Some("/v1/messages/count_tokens"),
            (BaseFormat::Anthropic, Self::Embedding) => None,
            (BaseFormat::Anthropic, _) => Some("/v1/messages"),
        }
    }
}

impl fmt::Display for RequestType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Request types Bifrost knows that Switchyard does not serve yet: accepted in
/// `allowed_requests` / `request_path_overrides` with a warning, never an error.
pub const BIFROST_ONLY_REQUEST_TYPES: &[&str] = &[
    "responses_retrieve",
    "responses_delete",
    "responses_cancel",
    "responses_input_items",
    "compaction",
    "rerank",
    "ocr",
    "speech",
    "speech_stream",
    "transcription",
    "transcription_stream",
    "image_generation",
    "image_generation_stream",
    "image_edit",
    "image_edit_stream",
    "image_variation",
    "video_generation",
    "video_retrieve",
    "video_download",
    "video_delete",
    "video_list",
    "video_remix",
    "batch_create",
    "batch_list",
    "batch_retrieve",
    "batch_cancel",
    "batch_delete",
    "batch_results",
    "file_upload",
    "file_list",
    "file_retrieve",
    "file_delete",
    "file_content",
    "container_create",
    "container_list",
    "container_retrieve",
    "container_delete",
    "container_file_create",
    "container_file_list",
    "container_file_retrieve",
    "container_file_content",
    "container_file_delete",
    "passthrough",
    "passthrough_stream",
    "websocket_responses",
    "realtime",
    "cached_content_create",
    "cached_content_list",
    "cached_content_retrieve",
    "cached_content_update",
    "cached_content_delete",
];

/// A set of request types (bit per type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestTypeSet(u16);

impl RequestTypeSet {
    pub const fn all() -> Self {
        Self((1 << RequestType::ALL.len()) - 1)
    }
    pub const fn empty() -> Self {
        Self(0)
    }
    pub fn insert(&mut self, t: RequestType) {
        self.0 |= 1 << t as u16;
    }
    pub fn remove(&mut self, t: RequestType) {
        self.0 &= !(1 << t as u16);
    }
    pub fn contains(self, t: RequestType) -> bool {
        self.0 & (1 << t as u16) != 0
    }
    pub fn iter(self) -> impl Iterator<Item = RequestType> {
        RequestType::ALL.into_iter().filter(move |t| self.contains(*t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in RequestType::ALL {
            assert_eq!(RequestType::parse(t.as_str()), Some(t));
        }
        assert_eq!(RequestType::parse("chat"), None);
    }

    #[test]
    fn set_operations() {
        let mut s = RequestTypeSet::empty();
        s.insert(RequestType::ListModels);
        s.insert(RequestType::CountTokens);
        assert!(s.contains(RequestType::CountTokens));
        assert!(!s.contains(RequestType::ChatCompletion));
        s.remove(RequestType::ListModels);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![RequestType::CountTokens]);
        assert_eq!(RequestTypeSet::all().iter().count(), 9);
    }

    #[test]
    fn default_paths_per_format() {
        assert_eq!(RequestType::ChatCompletionStream.default_path(BaseFormat::Openai), Some("/v1/chat/completions"));
        assert_eq!(RequestType::Responses.default_path(BaseFormat::Anthropic), Some("/v1/messages"));
        assert_eq!(RequestType::Embedding.default_path(BaseFormat::Anthropic), None);
        assert_eq!(RequestType::CountTokens.default_path(BaseFormat::Openai), None);
    }
}
