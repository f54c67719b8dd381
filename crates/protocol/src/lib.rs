//! Switchyard's protocol layer: the wire types of each dialect, SSE framing and
//! the helpers that inspect or rewrite request and response bodies.
//!
//! Everything here is pure: no sockets, no clock, no globals. The gateway core
//! (`switchyard-core`) does the I/O and calls into this crate.

pub mod anthropic;
pub mod canonical;
pub mod databricks;
pub mod dialect;
pub mod model_list;
pub mod openai;
pub mod raw_json;
pub mod sse;
pub mod translate;
pub mod upstream_error;
