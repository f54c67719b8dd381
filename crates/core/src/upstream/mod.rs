//! The upstream side: one pooled HTTP client per provider, the retry policy,
//! and sending a request with retries.

pub mod client;
pub mod retry;
mod send;

pub use send::{send, UpstreamRequest, UpstreamResponse};
