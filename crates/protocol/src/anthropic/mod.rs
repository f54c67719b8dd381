//! Anthropic dialect: Messages (request, response, stream), errors, model lists.

pub mod error;
pub mod models;
pub mod request;
pub mod response;
pub mod stream;
