//! OpenAI dialect: Chat Completions, errors and model lists.

pub mod chat;
pub mod error;
pub mod models;
