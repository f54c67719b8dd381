//! The management REST API under `/api`: providers (same JSON as the config
//! file, secrets redacted), routes (virtual models), connection tests, and
//! the OpenAPI description.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use switchyard_core::config::ConfigDiagnostic;
use switchyard_core::config_service::ConfigService;
use switchyard_core::lifecycle::Credentials;
use switchyard_core::request_type::RequestType;
use switchyard_core::{Gateway, Inbound, InboundHeaders};

use super::auth::AdminAuth;
use super::error::{diagnostics_json, error, AdminError};

/// A request body the extractor could not read (too large, broken) as the
/// API's JSON error, never axum's plain text.
pub type Body = Result<Bytes, BytesRejection>;

pub(super) fn read(body: Body) -> Result<Bytes, AdminError> {
    body.map_err(|r| {
        if crate::body::is_body_timeout(&r) {
            return AdminError::Request(StatusCode::REQUEST_TIMEOUT, r.body_text());
        }
        let message = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "request body is too large".to_string()
        } else {
            format!("could not read request body: {}", r.body_text())
        };
        AdminError::Request(r.status(), message)
    })
}

pub(super) fn parse_body(body: Body) -> Result<Value, AdminError> {
    serde_json::from_slice(&read(body)?)
        .map_err(|e| AdminError::Request(StatusCode::BAD_REQUEST, format!("body is not valid JSON: {e}")))
}

/// A `{name}` path segment that did not decode, as JSON.
pub type Name = Result<Path<String>, PathRejection>;

pub(super) fn name(p: Name) -> Result<String, AdminError> {
    p.map(|Path(n)| n)
        .map_err(|r| AdminError::Request(StatusCode::BAD_REQUEST, format!("bad name in path: {}", r.body_text())))
}

fn with_warnings(view: impl Serialize, warnings: &[ConfigDiagnostic]) -> Value {
    let mut v = serde_json::to_value(view).unwrap_or(Value::Null);
    if !warnings.is_empty() {
        v["warnings"] = Value::Array(diagnostics_json(warnings));
    }
    v
}

pub async fn list(State(service): State<Arc<ConfigService>>) -> Result<Response, AdminError> {
    Ok(Json(service.list().await?).into_response())
}

pub async fn get(State(service): State<Arc<ConfigService>>, path: Name) -> Result<Response, AdminError> {
    Ok(Json(service.get(&name(path)?).await?).into_response())
}

pub async fn create(State(service): State<Arc<ConfigService>>, body: Body) -> Result<Response, AdminError> {
    let (view, warnings) = service.create(parse_body(body)?).await?;
    Ok((StatusCode::CREATED, Json(with_warnings(view, &warnings))).into_response())
}

pub async fn update(State(service): State<Arc<ConfigService>>, path: Name, body: Body) -> Result<Response, AdminError> {
    let name = name(path)?;
    let mut value = parse_body(body)?;
    if let Value::Object(o) = &mut value {
        o.remove("warnings");
    }
    let (view, warnings) = service.update(&name, value).await?;
    Ok(Json(with_warnings(view, &warnings)).into_response())
}

pub async fn delete(State(service): State<Arc<ConfigService>>, path: Name) -> Result<Response, AdminError> {
    service.delete(&name(path)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn list_routes(State(service): State<Arc<ConfigService>>) -> Result<Response, AdminError> {
    Ok(Json(service.list_routes().await?).into_response())
}

pub async fn get_route(State(service): State<Arc<ConfigService>>, path: Name) -> Result<Response, AdminError> {
    Ok(Json(service.get_route(&name(path)?).await?).into_response())
}

pub async fn create_route(State(service): State<Arc<ConfigService>>, body: Body) -> Result<Response, AdminError> {
    let (view, warnings) = service.create_route(parse_body(body)?).await?;
    Ok((StatusCode::CREATED, Json(with_warnings(view, &warnings))).into_response())
}

pub async fn update_route(
    State(service): State<Arc<ConfigService>>,
    path: Name,
    body: Body,
) -> Result<Response, AdminError> {
    let name = name(path)?;
    let (view, warnings) = service.update_route(&name, parse_body(body)?).await?;
    Ok(Json(with_warnings(view, &warnings)).into_response())
}

pub async fn delete_route(State(service): State<Arc<ConfigService>>, path: Name) -> Result<Response, AdminError> {
    service.delete_route(&name(path)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The provider and route endpoints of a server without a configuration service.
pub async fn disabled() -> AdminError {
    AdminError::Disabled
}

/// `POST /api/providers/{name}/test`: fetches the OAuth token first when the
/// provider has a service principal, then lists models when the provider
/// allows it, otherwise sends a one-token chat to `{"model": …}` from the body.
/// Always 200; `ok` says whether it all worked, `step` which step failed
/// (`token`, `list_models`, `chat`), `error` has the upstream's exact words.
pub async fn test_connection(State(gateway): State<Gateway>, path: Name, body: Body) -> Response {
    let (name, body) = match (name(path), read(body)) {
        (Ok(n), Ok(b)) => (n, b),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let snapshot = gateway.snapshot();
    let Some(provider) = snapshot.providers.get(&name).cloned() else {
        return error(StatusCode::NOT_FOUND, format!("provider {name:?} not found"));
    };
    let model = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("model").and_then(Value::as_str).map(str::to_string));
    let model = model.filter(|m| !m.trim().is_empty());
    // A service principal's token first: when it cannot be had, nothing after it can work.
    let mut token_step = Value::Null;
    if let Some(source) = &provider.oauth {
        let started = std::time::Instant::now();
        match source.fetch_now().await {
            Ok(valid_for) => {
                token_step = json!({"ok": true, "expires_in_s": valid_for.as_secs(),
                    "latency_ms": started.elapsed().as_millis() as u64});
            }
            Err(e) => {
                return Json(json!({"ok": false, "step": "token", "kind": "oauth_token", "status": 502,
                    "error": format!("provider {name:?}: {e}")}))
                .into_response()
            }
        }
    }
    let mut answer = test_upstream(&gateway, &provider, &name, model).await;
    if let Value::Object(o) = &mut answer {
        o.insert("token".into(), token_step);
        if o.get("ok") == Some(&Value::Bool(false)) {
            let step = o.get("kind").cloned().unwrap_or(Value::Null);
            o.insert("step".into(), step);
        }
    }
    Json(answer).into_response()
}

/// The upstream half of Test connection: a model list, or a one-token chat.
async fn test_upstream(
    gateway: &Gateway,
    provider: &switchyard_core::provider::Provider,
    name: &str,
    model: Option<String>,
) -> Value {
    if model.is_none()
        && provider.allows(RequestType::ListModels)
        && provider.url_for(RequestType::ListModels).is_some()
    {
        let started = std::time::Instant::now();
        return match switchyard_core::models::fetch_provider_models(provider).await {
            Ok(models) => json!({"ok": true, "kind": "list_models", "count": models.len(),
                "models": models.iter().take(50).map(|m| m.id.clone()).collect::<Vec<_>>(),
                "latency_ms": started.elapsed().as_millis() as u64}),
            Err(e) => json!({"ok": false, "kind": "list_models", "status": e.status(), "error": e.to_string()}),
        };
    }
    let Some(model) = model else {
        return json!({"ok": false, "kind": "chat", "error": "list models is off for this provider: give a model name to send a one-token chat"});
    };
    let started = std::time::Instant::now();
    // A Responses-only provider (Databricks' /ai-gateway/codex) is asked in its own API.
    let responses = !provider.allows(RequestType::ChatCompletion) && provider.allows(RequestType::Responses);
    let (inbound, request, reply_at) = if responses {
        (
            Inbound::OpenAiResponses,
            json!({"model": format!("{name}/{model}"), "max_output_tokens": 16, "input": "ping"}),
            "/output_text",
        )
    } else {
        (
            Inbound::OpenAiChat,
            json!({"model": format!("{name}/{model}"), "max_tokens": 1,
            "messages": [{"role": "user", "content": "ping"}]}),
            "/choices/0/message/content",
        )
    };
    // The admin's own call: no virtual key needed, even where clients must present one.
    let headers = InboundHeaders { credentials: Credentials::in_process(), ..InboundHeaders::default() };
    let result = gateway.handle(inbound, Bytes::from(request.to_string()), headers).await;
    match result {
        Ok(resp) => {
            let text = match resp.body.collect(1 << 20).await {
                Ok(b) => serde_json::from_slice::<Value>(&b).ok().and_then(|v| {
                    v.pointer(reply_at).cloned().or_else(|| {
                        // Responses bodies carry the text in their output items (`output_text` is an SDK convenience).
                        v.pointer("/output")
                            .and_then(Value::as_array)
                            .and_then(|items| items.iter().find_map(|i| i.pointer("/content/0/text").cloned()))
                    })
                }),
                Err(_) => None,
            };
            json!({"ok": true, "kind": "chat", "status": resp.status, "reply": text, "latency_ms": started.elapsed().as_millis() as u64})
        }
        Err(e) => {
            json!({"ok": false, "kind": "chat", "status": e.status(), "error": e.to_string()})
        }
    }
}

/// The request types and base formats the UI offers, from the code's own lists.
pub async fn meta(State(auth): State<Arc<AdminAuth>>) -> Json<Value> {
    let types: Vec<Value> = RequestType::ALL.iter().map(|t| json!({"id": t.as_str(), "label": t.label()})).collect();
    Json(json!({"request_types": types, "base_formats": ["openai", "anthropic"], "version": env!("CARGO_PKG_VERSION"),
        "auth_required": auth.required()}))
}

pub async fn openapi() -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], include_str!("../../assets/openapi.json"))
        .into_response()
}
