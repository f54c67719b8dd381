//! OpenAI error body: `{"error":{"message","type","param","code"}}` (all four keys present).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::sse::SseEvent;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    pub error: ErrorObject,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorObject {
    pub message: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub param: Option<String>,
    pub code: Option<String>,
}

impl ErrorResponse {
    pub fn new(message: impl Into<String>, kind: impl Into<String>) -> Self {
        Self { error: ErrorObject { message: message.into(), kind: kind.into(), param: None, code: None } }
    }

    pub fn with_param(mut self, param: Option<String>) -> Self {
        self.error.param = param;
        self
    }

    pub fn with_code(mut self, code: Option<String>) -> Self {
        self.error.code = code;
        self
    }
}

/// An error event inside a Chat or Completions stream: a `data:` event with
/// the error body (these streams have no event names).
pub fn stream_error_event(message: &str, kind: &str, code: &str) -> Bytes {
    let body = ErrorResponse::new(message, kind).with_code(Some(code.to_string()));
    SseEvent::data(serde_json::to_string(&body).unwrap_or_default()).encode()
}

/// The `type` OpenAI uses for an HTTP status.
pub fn error_type_for_status(status: u16) -> &'static str {
    match status {
        400 | 404 | 405 | 409 | 413 | 415 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        _ => "server_error",
    }
}
