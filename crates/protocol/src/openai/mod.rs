//! OpenAI dialect: Chat Completions, Responses, legacy Completions, errors and model lists.

pub mod chat;
pub mod chat_convert;
pub mod chat_stream;
pub mod completions;
pub mod error;
pub mod models;
pub mod responses;
