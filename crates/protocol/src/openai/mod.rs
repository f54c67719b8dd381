//! OpenAI dialect: Chat Completions, Responses, legacy Completions, errors and model lists.

pub mod chat;
pub mod completions;
pub(crate) mod content_parts;
pub mod error;
pub mod models;
pub mod responses;
