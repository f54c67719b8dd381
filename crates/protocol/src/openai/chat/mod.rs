//! Chat Completions (`POST /v1/chat/completions`), by direction: the wire
//! types (`wire`, re-exported here), requests, answers and streams to and from
//! the canonical model, and the tool names an OpenAI upstream accepts.

pub mod request;
pub mod response;
pub mod stream;
pub mod tool_names;
pub mod wire;

pub use tool_names::ToolNames;
pub use wire::*;
