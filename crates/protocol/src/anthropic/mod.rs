//! Anthropic dialect: Messages (request, response, stream), errors, model lists.

pub mod error;
pub mod models;
pub mod request;
pub mod response;
pub mod stream;

/// The Messages API as one path, as it was before the split by direction
/// (`request`, `response`); kept so callers outside this crate need no edit.
pub mod messages {
    pub use super::request::*;
    pub use super::response::*;
}
