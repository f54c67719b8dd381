//! Anthropic dialect: Messages (request, response, stream), errors, model lists.

pub mod error;
pub mod messages;
pub mod models;
pub mod stream;
