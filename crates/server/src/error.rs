//! Renders core errors as OpenAI error JSON with the right status.

use axum::response::{IntoResponse, Response};
use axum::Json;
use http::StatusCode;
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
