//! The management API's errors: `{"error": {"message", "type"}}` with the
//! status that fits, for the configuration service's errors and for requests
//! the HTTP layer itself could not read.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use switchyard_core::config::{ConfigDiagnostic, Severity};
use switchyard_core::config_service::ConfigError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No configuration service behind this server (no store).
    #[error("the management API is not enabled")]
    Disabled,
    /// The HTTP request itself could not be read (too large, too slow, bad path).
    #[error("{1}")]
    Request(StatusCode, String),
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// The management API's error body.
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": {"message": message.into(), "type": type_for(status)}}))).into_response()
}

/// OpenAI's table: one status → type mapping, not a third one.
fn type_for(status: StatusCode) -> &'static str {
    switchyard_core::protocol::dialect::Dialect::OpenAiChat.error_type(status.as_u16(), None)
}

pub fn diagnostics_json(d: &[ConfigDiagnostic]) -> Vec<Value> {
    d.iter()
        .map(|d| {
            json!({"path": d.path, "message": d.message, "hint": d.hint,
            "severity": if d.severity == Severity::Error { "error" } else { "warning" }})
        })
        .collect()
}

fn status_for(e: &ConfigError) -> StatusCode {
    match e {
        ConfigError::NotFound(..) => StatusCode::NOT_FOUND,
        ConfigError::Exists(..) | ConfigError::FileManaged(..) => StatusCode::CONFLICT,
        ConfigError::Invalid(_) | ConfigError::Rejected(_) => StatusCode::BAD_REQUEST,
        ConfigError::Store(_) if e.is_storage_full() => StatusCode::INSUFFICIENT_STORAGE,
        ConfigError::Store(_) | ConfigError::Apply(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::Disabled => StatusCode::NOT_FOUND,
            Self::Request(status, _) => *status,
            Self::Config(e) => status_for(e),
        };
        if let Self::Config(ConfigError::Invalid(d)) = &self {
            let summary = d
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| format!("{}: {}", if d.path.is_empty() { "body" } else { &d.path }, d.message))
                .collect::<Vec<_>>()
                .join("; ");
            let body = json!({"error": {"message": format!("invalid configuration: {summary}"), "type": "invalid_request_error", "details": diagnostics_json(d)}});
            return (status, Json(body)).into_response();
        }
        if status.is_server_error() {
            tracing::error!("management API: {self}");
        }
        if status == StatusCode::INSUFFICIENT_STORAGE {
            return error(
                status,
                format!("the data directory is full; nothing was changed — free space and retry ({self})"),
            );
        }
        error(status, self.to_string())
    }
}
