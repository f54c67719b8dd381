//! OpenAI dialect: Chat Completions, Responses, legacy Completions, errors and model lists.

pub mod chat;
pub mod completions;
pub(crate) mod content_parts;
pub mod error;
pub mod models;
pub mod responses;

/// Chat conversions as one path, as they were before the split by direction
/// (`chat::request`, `chat::response`); kept so callers outside this crate
/// need no edit.
pub mod chat_convert {
    pub use super::chat::request::*;
    pub use super::chat::response::*;
    pub use super::chat::ToolNames;
}

/// The chat stream's former path (now `chat::stream`), kept for callers outside this crate.
pub mod chat_stream {
    pub use super::chat::stream::*;
}
