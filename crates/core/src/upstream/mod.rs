//! The upstream side: one pooled HTTP client per provider, the retry policy,
//! OAuth token sources, and sending a request with retries.

pub mod client;
pub mod oauth;
pub mod retry;
mod send;

pub use send::{send, UpstreamRequest, UpstreamResponse};
