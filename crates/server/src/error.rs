//! Renders core errors as OpenAI error JSON with the right status.

use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;
use switchyard_core::protocol::anthropic::error::{
    error_type_for as anthropic_type_for, error_type_for_status as anthropic_type_for_status,
};
use switchyard_core::protocol::openai::error::{error_type_for_status, ErrorResponse};
use switchyard_core::GatewayError;

/// An error answered in OpenAI's dialect.
pub struct OpenAiError {
    pub status: StatusCode,
    pub body: ErrorResponse,
}

impl OpenAiError {
    pub fn new(status: StatusCode, message: impl Into<String>, param: Option<&str>, code: Option<&str>) -> Self {
        Self {
            status,
            body: ErrorResponse::new(message, error_type_for_status(status.as_u16()))
                .with_param(param.map(str::to_string))
                .with_code(code.map(str::to_string)),
        }
    }
}

impl From<GatewayError> for OpenAiError {
    fn from(e: GatewayError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_GATEWAY);
        let kind = match &e {
            GatewayError::Upstream { detail, .. } => {
                detail.kind.clone().unwrap_or_else(|| error_type_for_status(status.as_u16()).to_string())
            }
            _ => error_type_for_status(status.as_u16()).to_string(),
        };
        if status.is_server_error() {
            tracing::warn!(kind = e.kind(), status = status.as_u16(), "{e}");
        }
        Self {
            status,
            body: ErrorResponse::new(e.to_string(), kind)
                .with_param(e.param().map(str::to_string))
                .with_code(e.code().map(str::to_string)),
        }
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// An error answered in Anthropic's dialect: `{"type":"error","error":{"type","message"}}`.
pub struct AnthropicError {
    pub status: StatusCode,
    pub kind: String,
    pub message: String,
}

impl AnthropicError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, kind: anthropic_type_for_status(status.as_u16()).to_string(), message: message.into() }
    }
}

impl From<GatewayError> for AnthropicError {
    fn from(e: GatewayError) -> Self {
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_GATEWAY);
        if status.is_server_error() {
            tracing::warn!(kind = e.kind(), status = status.as_u16(), "{e}");
        }
        let kind = match &e {
            GatewayError::Upstream { detail, .. } => anthropic_type_for(detail.kind.as_deref(), status.as_u16()),
            _ => anthropic_type_for_status(status.as_u16()),
        }
        .to_string();
        // Anthropic errors have no `param`; name the field in the message instead.
        let message = match e.param() {
            Some(p) if !e.to_string().contains(p) => format!("{p}: {e}"),
            _ => e.to_string(),
        };
        Self { status, kind, message }
    }
}

impl From<OpenAiError> for AnthropicError {
    fn from(e: OpenAiError) -> Self {
        Self::new(e.status, e.body.error.message)
    }
}

impl IntoResponse for AnthropicError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"type": "error", "error": {"type": self.kind, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

/// An error for `path` in the dialect of its prefix: Anthropic clients get
/// Anthropic JSON, `/api` callers the admin shape, everyone else OpenAI's.
pub fn error_for_path(path: &str, status: StatusCode, message: String, code: &str) -> Response {
    if path.starts_with("/anthropic/") {
        AnthropicError::new(status, message).into_response()
    } else if path.starts_with("/api/") {
        crate::admin::error::error(status, message)
    } else {
        OpenAiError::new(status, message, None, Some(code)).into_response()
    }
}
