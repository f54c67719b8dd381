//! OpenAI Responses API (`POST /v1/responses`), by direction: requests to
//! the canonical model, canonical answers to Response objects, and canonical
//! events to Responses stream events.
//!
//! Switchyard is stateless here: the client resends the whole input (Codex does,
//! with `store:false`); `previous_response_id` is refused with a clear error.

pub mod request;
pub mod response;
pub mod stream;

pub use request::request_to_canonical;
pub use response::{response_from_canonical, response_id, usage_json};
pub use stream::{failed_event, ResponsesEncoder};

/// Marks reasoning items whose `encrypted_content` carries an Anthropic
/// thinking signature this gateway produced, so it can be replayed.
pub(crate) const SIGNATURE_PREFIX: &str = "switchyard.thinking.v1:";
pub(crate) const REDACTED_PREFIX: &str = "switchyard.redacted.v1:";

/// What the request told us that the answer must reflect.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResponsesContext {
    /// Flattened tool name → the namespace tool it came from.
    pub namespaces: Vec<(String, String)>,
}

impl ResponsesContext {
    pub(crate) fn namespace_of(&self, name: &str) -> Option<&str> {
        self.namespaces.iter().find(|(n, _)| n == name).map(|(_, ns)| ns.as_str())
    }
}
