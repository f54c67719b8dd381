//! Renders errors in the dialect the client spoke, with the right status. The
//! bodies and the status → `type` tables are the protocol's dialect
//! descriptor (`protocol::dialect`); this file only chooses the dialect.

use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;
use switchyard_core::protocol::dialect::{Dialect, ErrorReport};
use switchyard_core::GatewayError;

/// An error of an inference route, answered in `dialect`.
#[derive(Debug, Clone)]
pub struct InferenceError {
    pub dialect: Dialect,
    pub status: StatusCode,
    pub message: String,
    /// The upstream's own `error.type`, when the error came from one.
    pub upstream_type: Option<String>,
    pub param: Option<String>,
    pub code: Option<String>,
}

impl InferenceError {
    pub fn new(
        dialect: Dialect,
        status: StatusCode,
        message: impl Into<String>,
        param: Option<&str>,
        code: Option<&str>,
    ) -> Self {
        Self {
            dialect,
            status,
            message: message.into(),
            upstream_type: None,
            param: param.map(str::to_string),
            code: code.map(str::to_string),
        }
    }

    pub fn from_gateway(dialect: Dialect, e: GatewayError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_GATEWAY);
        if status.is_server_error() {
            tracing::warn!(kind = e.kind(), status = status.as_u16(), "{e}");
        }
        let upstream_type = match &e {
            GatewayError::Upstream { detail, .. } => detail.kind.clone(),
            // A spent budget reads as OpenAI's quota error (Anthropic's table maps 429 itself).
            GatewayError::Rejected { code, .. } if code == "insufficient_quota" => Some(code.clone()),
            _ => None,
        };
        Self {
            dialect,
            status,
            message: e.to_string(),
            upstream_type,
            param: e.param().map(str::to_string),
            code: e.code().map(str::to_string),
        }
    }

    /// The body, as the descriptor writes it for this dialect.
    pub fn body(&self) -> serde_json::Value {
        self.dialect.error_body(&ErrorReport {
            status: self.status.as_u16(),
            message: &self.message,
            upstream_type: self.upstream_type.as_deref(),
            param: self.param.as_deref(),
            code: self.code.as_deref(),
        })
    }
}

impl IntoResponse for InferenceError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// An error answered in OpenAI's dialect: `{"error":{"message","type","param","code"}}`.
pub struct OpenAiError(pub InferenceError);

impl OpenAiError {
    pub fn new(status: StatusCode, message: impl Into<String>, param: Option<&str>, code: Option<&str>) -> Self {
        Self(InferenceError::new(Dialect::OpenAiChat, status, message, param, code))
    }
}

impl From<GatewayError> for OpenAiError {
    fn from(e: GatewayError) -> Self {
        Self(InferenceError::from_gateway(Dialect::OpenAiChat, e))
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

/// An error answered in Anthropic's dialect: `{"type":"error","error":{"type","message"}}`.
pub struct AnthropicError(pub InferenceError);

impl AnthropicError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(InferenceError::new(Dialect::AnthropicMessages, status, message, None, None))
    }
}

impl From<GatewayError> for AnthropicError {
    fn from(e: GatewayError) -> Self {
        Self(InferenceError::from_gateway(Dialect::AnthropicMessages, e))
    }
}

/// The same error for an Anthropic client (a body that failed to read before
/// the dialect was known).
impl From<OpenAiError> for AnthropicError {
    fn from(e: OpenAiError) -> Self {
        Self(InferenceError { dialect: Dialect::AnthropicMessages, ..e.0 })
    }
}

impl IntoResponse for AnthropicError {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

/// `405` for `method` on `path`, in the dialect of its prefix.
pub fn method_not_allowed(method: &http::Method, path: &str) -> Response {
    let message = format!("{method} is not allowed on {path}");
    error_for_path(path, StatusCode::METHOD_NOT_ALLOWED, message, "method_not_allowed")
}

/// An error for `path` in the dialect of its prefix: Anthropic clients get
/// Anthropic JSON, `/api` callers the admin shape, everyone else OpenAI's.
pub fn error_for_path(path: &str, status: StatusCode, message: String, code: &str) -> Response {
    if path.starts_with("/api/") {
        return crate::admin::error::error(status, message);
    }
    let dialect = if path.starts_with("/anthropic/") { Dialect::AnthropicMessages } else { Dialect::OpenAiChat };
    InferenceError::new(dialect, status, message, None, Some(code)).into_response()
}
