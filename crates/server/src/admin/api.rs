//! The management REST API under `/api`: providers (same JSON as the config
//! file, secrets redacted), connection tests, and the OpenAPI description.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use switchyard_core::config::ConfigDiagnostic;
use switchyard_core::request_type::RequestType;
use switchyard_core::{Inbound, InboundHeaders};

use super::service::{AdminError, ConfigService, ProviderView};
use crate::state::AppState;

/// The management API's error shape (see [`crate::error::admin_error`]).
pub fn error(status: StatusCode, message: impl Into<String>) -> Response {
    crate::error::admin_error(status, message)
}

fn diagnostics_json(d: &[ConfigDiagnostic]) -> Vec<Value> {
    d.iter()
        .map(|d| {
            json!({"path": d.path, "message": d.message, "hint": d.hint,
            "severity": if d.severity == switchyard_core::config::Severity::Error { "error" } else { "warning" }})
        })
        .collect()
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = match &self {
            AdminError::NotFound(_) | AdminError::Disabled => StatusCode::NOT_FOUND,
            AdminError::Exists(_) | AdminError::FileManaged(_) => StatusCode::CONFLICT,
            AdminError::Invalid(_) | AdminError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AdminError::Request(status, _) => StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
            AdminError::Store(e) if e.to_string().contains("full") => StatusCode::INSUFFICIENT_STORAGE,
            AdminError::Store(_) | AdminError::Apply(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if let AdminError::Invalid(d) = &self {
            let errors: Vec<&ConfigDiagnostic> =
                d.iter().filter(|d| d.severity == switchyard_core::config::Severity::Error).collect();
            let summary = errors
                .iter()
                .map(|d| format!("{}: {}", if d.path.is_empty() { "provider" } else { &d.path }, d.message))
                .collect::<Vec<_>>()
                .join("; ");
            let body = json!({"error": {"message": format!("invalid provider: {summary}"), "type": "invalid_request_error", "details": diagnostics_json(d)}});
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

fn service(state: &AppState) -> Result<Arc<ConfigService>, AdminError> {
    state.admin.clone().ok_or(AdminError::Disabled)
}

/// A request body the extractor could not read (too large, broken) as the
/// API's JSON error, never axum's plain text.
pub type Body = Result<Bytes, BytesRejection>;

fn read(body: Body) -> Result<Bytes, AdminError> {
    body.map_err(|r| {
        if crate::body::is_body_timeout(&r) {
            return AdminError::Request(StatusCode::REQUEST_TIMEOUT.as_u16(), r.body_text());
        }
        let message = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "request body is too large".to_string()
        } else {
            format!("could not read request body: {}", r.body_text())
        };
        AdminError::Request(r.status().as_u16(), message)
    })
}

fn parse_body(body: Body) -> Result<Value, AdminError> {
    serde_json::from_slice(&read(body)?).map_err(|e| AdminError::BadRequest(format!("body is not valid JSON: {e}")))
}

/// A `{name}` path segment that did not decode, as JSON.
pub type Name = Result<Path<String>, PathRejection>;

fn name(p: Name) -> Result<String, AdminError> {
    p.map(|Path(n)| n).map_err(|r| AdminError::Request(400, format!("bad provider name in path: {}", r.body_text())))
}

fn with_warnings(view: ProviderView, warnings: &[ConfigDiagnostic]) -> Value {
    let mut v = serde_json::to_value(view).unwrap_or(Value::Null);
    if !warnings.is_empty() {
        v["warnings"] = Value::Array(diagnostics_json(warnings));
    }
    v
}

pub async fn list(State(state): State<AppState>) -> Result<Response, AdminError> {
    Ok(Json(service(&state)?.list()?).into_response())
}

pub async fn get(State(state): State<AppState>, path: Name) -> Result<Response, AdminError> {
    Ok(Json(service(&state)?.get(&name(path)?)?).into_response())
}

pub async fn create(State(state): State<AppState>, body: Body) -> Result<Response, AdminError> {
    let (view, warnings) = service(&state)?.create(parse_body(body)?)?;
    Ok((StatusCode::CREATED, Json(with_warnings(view, &warnings))).into_response())
}

pub async fn update(State(state): State<AppState>, path: Name, body: Body) -> Result<Response, AdminError> {
    let name = name(path)?;
    let mut value = parse_body(body)?;
    if let Value::Object(o) = &mut value {
        o.remove("warnings");
    }
    let (view, warnings) = service(&state)?.update(&name, value)?;
    Ok(Json(with_warnings(view, &warnings)).into_response())
}

pub async fn delete(State(state): State<AppState>, path: Name) -> Result<Response, AdminError> {
    service(&state)?.delete(&name(path)?)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/providers/{name}/test`: lists models when the provider allows it,
/// otherwise sends a one-token chat to `{"model": …}` from the body. Always 200;
/// `ok` says whether the upstream answered, `error` has its exact words.
pub async fn test_connection(State(state): State<AppState>, path: Name, body: Body) -> Response {
    let (name, body) = match (name(path), read(body)) {
        (Ok(n), Ok(b)) => (n, b),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let gateway = state.gateway.clone();
    let snapshot = gateway.snapshot();
    let Some(provider) = snapshot.providers.get(&name).cloned() else {
        return error(StatusCode::NOT_FOUND, format!("provider {name:?} not found"));
    };
    let model = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("model").and_then(Value::as_str).map(str::to_string));
    let model = model.filter(|m| !m.trim().is_empty());
    if model.is_none()
        && provider.allows(RequestType::ListModels)
        && provider.url_for(RequestType::ListModels).is_some()
    {
        let started = std::time::Instant::now();
        return match switchyard_core::models::fetch_provider_models(&provider).await {
            Ok(models) => Json(json!({"ok": true, "kind": "list_models", "count": models.len(),
                "models": models.iter().take(50).map(|m| m.id.clone()).collect::<Vec<_>>(),
                "latency_ms": started.elapsed().as_millis() as u64}))
            .into_response(),
            Err(e) => Json(json!({"ok": false, "kind": "list_models", "status": e.status(), "error": e.to_string()}))
                .into_response(),
        };
    }
    let Some(model) = model else {
        return Json(json!({"ok": false, "kind": "chat", "error": "list models is off for this provider: give a model name to send a one-token chat"})).into_response();
    };
    let started = std::time::Instant::now();
    let request =
        json!({"model": format!("{name}/{model}"), "max_tokens": 1, "messages": [{"role": "user", "content": "ping"}]});
    let result = gateway.handle(Inbound::OpenAiChat, Bytes::from(request.to_string()), InboundHeaders::default()).await;
    match result {
        Ok(resp) => {
            let text = match resp.body.collect(1 << 20).await {
                Ok(b) => serde_json::from_slice::<Value>(&b)
                    .ok()
                    .and_then(|v| v.pointer("/choices/0/message/content").cloned()),
                Err(_) => None,
            };
            Json(json!({"ok": true, "kind": "chat", "status": resp.status, "reply": text, "latency_ms": started.elapsed().as_millis() as u64})).into_response()
        }
        Err(e) => {
            Json(json!({"ok": false, "kind": "chat", "status": e.status(), "error": e.to_string()})).into_response()
        }
    }
}

/// The request types and base formats the UI offers, from the code's own lists.
pub async fn meta(State(state): State<AppState>) -> Json<Value> {
    let types: Vec<Value> = RequestType::ALL.iter().map(|t| json!({"id": t.as_str(), "label": t.label()})).collect();
    Json(json!({"request_types": types, "base_formats": ["openai", "anthropic"], "version": env!("CARGO_PKG_VERSION"),
        "auth_required": state.admin_auth.required()}))
}

pub async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], include_str!("../../assets/openapi.json"))
        .into_response()
}
