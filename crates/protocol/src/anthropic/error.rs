//! Anthropic error body: `{"type":"error","error":{"type","message"}}`.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::sse::SseEvent;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    #[serde(rename = "type")]
    pub kind: String,
    pub error: ErrorObject,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorObject {
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

impl ErrorResponse {
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self { kind: "error".into(), error: ErrorObject { kind: kind.into(), message: message.into() } }
    }
}

/// An `error` event inside a Messages stream (named, as Anthropic SDKs need).
pub fn stream_error_event(kind: &str, message: &str) -> Bytes {
    let body = ErrorResponse::new(kind, message);
    SseEvent::named("error", serde_json::to_string(&body).unwrap_or_default()).encode()
}

/// The `error.type` Anthropic uses for an HTTP status.
pub fn error_type_for_status(status: u16) -> &'static str {
    match status {
        400 | 405 | 409 | 415 | 422 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

/// Every `error.type` Anthropic defines; SDKs map these to exception classes.
pub const ERROR_TYPES: &[&str] = &[
    "invalid_request_error",
    "authentication_error",
    "billing_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "timeout_error",
    "overloaded_error",
];

/// An upstream's error type when Anthropic has it, else the type for `status`
/// (an OpenAI-dialect `server_error` is no Anthropic type).
pub fn error_type_for(kind: Option<&str>, status: u16) -> &'static str {
    kind.and_then(|k| ERROR_TYPES.iter().find(|t| **t == k).copied()).unwrap_or_else(|| error_type_for_status(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_types_map_by_status() {
        assert_eq!(error_type_for(Some("server_error"), 500), "api_error");
        assert_eq!(error_type_for(Some("server_error"), 529), "overloaded_error");
        assert_eq!(error_type_for(Some("requests"), 429), "rate_limit_error");
        assert_eq!(error_type_for(Some("overloaded_error"), 503), "overloaded_error");
        assert_eq!(error_type_for(None, 404), "not_found_error");
    }
}
