//! The error bodies of each API dialect the fake speaks.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// The error body shape an endpoint speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Databricks `{"error_code","message","details"}` (chat, completions, embeddings, Unity Catalog).
    Databricks,
    /// OpenAI `{"error":{"message","type","param","code"}}` (Responses).
    OpenAi,
    /// Anthropic `{"type":"error","error":{"type","message"},"request_id"}` (messages, count_tokens).
    Anthropic,
}

/// One error, with what each dialect needs to render it.
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub databricks_code: &'static str,
    pub openai_type: &'static str,
    pub openai_code: Option<&'static str>,
    pub param: Option<&'static str>,
    pub anthropic_type: &'static str,
    pub retry_after: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let (databricks_code, openai_type, anthropic_type) = match status.as_u16() {
            400 => ("BAD_REQUEST", "invalid_request_error", "invalid_request_error"),
            401 => ("UNAUTHENTICATED", "invalid_request_error", "authentication_error"),
            403 => ("PERMISSION_DENIED", "invalid_request_error", "permission_error"),
            404 => ("ENDPOINT_NOT_FOUND", "invalid_request_error", "not_found_error"),
            413 => ("BAD_REQUEST", "invalid_request_error", "request_too_large"),
            429 => ("REQUEST_LIMIT_EXCEEDED", "requests", "rate_limit_error"),
            504 => ("DEADLINE_EXCEEDED", "server_error", "timeout_error"),
            529 => ("TEMPORARILY_UNAVAILABLE", "server_error", "overloaded_error"),
            503 => ("TEMPORARILY_UNAVAILABLE", "server_error", "api_error"),
            _ => ("INTERNAL_ERROR", "server_error", "api_error"),
        };
        ApiError {
            status,
            message: message.into(),
            databricks_code,
            openai_type,
            openai_code: None,
            param: None,
            anthropic_type,
            retry_after: None,
        }
    }

    pub fn databricks_code(mut self, code: &'static str) -> Self {
        self.databricks_code = code;
        self
    }

    pub fn openai_code(mut self, code: &'static str) -> Self {
        self.openai_code = Some(code);
        self
    }

    pub fn param(mut self, param: &'static str) -> Self {
        self.param = Some(param);
        self
    }

    pub fn render(self, dialect: Dialect) -> Response {
        let body = match dialect {
            Dialect::Databricks => json!({"error_code": self.databricks_code, "message": self.message, "details": []}),
            Dialect::OpenAi => json!({"error": {"message": self.message, "type": self.openai_type,
                "param": self.param, "code": self.openai_code}}),
            Dialect::Anthropic => anthropic_error_body(self.anthropic_type, &self.message),
        };
        let mut r = (self.status, Json(body)).into_response();
        if let Some(after) = self.retry_after {
            r.headers_mut().insert("retry-after", HeaderValue::from_static(after));
        }
        if dialect == Dialect::Anthropic {
            r.headers_mut().insert("request-id", HeaderValue::from_static("req_fake_error"));
        }
        r
    }
}

pub(crate) fn anthropic_error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake_error"})
}
