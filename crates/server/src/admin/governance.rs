//! `/api/keys`, `/api/teams`, `/api/policies`, `/api/prices`: governance
//! over HTTP, on top of core's [`GovernanceService`]. A key's secret appears
//! in exactly two answers: its creation and its rotation.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::{json, Value};
use switchyard_core::config::ConfigDiagnostic;
use switchyard_core::governance::GovernanceService;

use super::api::{name, parse_body, read, Body, Name};
use super::error::{diagnostics_json, AdminError};

type Service = State<Arc<GovernanceService>>;

/// The governance routes; without a service they answer that the API is off.
pub fn routes<S: Clone + Send + Sync + 'static>(service: Option<Arc<GovernanceService>>) -> Router<S> {
    let Some(service) = service else {
        let off = || {
            get(super::api::disabled).post(super::api::disabled).put(super::api::disabled).delete(super::api::disabled)
        };
        return [
            "/api/keys",
            "/api/keys/{id}",
            "/api/teams",
            "/api/teams/{name}",
            "/api/policies",
            "/api/policies/{id}",
            "/api/prices",
        ]
        .into_iter()
        .fold(Router::new(), |r, path| r.route(path, off()));
    };
    Router::new()
        .route("/api/governance", get(settings))
        .route("/api/keys", get(list_keys).post(create_key))
        .route("/api/keys/{id}", get(get_key).put(update_key).patch(update_key).delete(delete_key))
        .route("/api/keys/{id}/rotate", post(rotate_key))
        .route("/api/keys/{id}/revoke", post(revoke_key))
        .route("/api/teams", get(list_teams).post(create_team))
        .route("/api/teams/{name}", get(get_team).put(update_team).patch(update_team).delete(delete_team))
        .route("/api/policies", get(list_policies).post(create_policy))
        .route("/api/policies/{id}", get(get_policy).put(update_policy).delete(delete_policy))
        .route("/api/policies/{id}/reset", post(reset_policy))
        .route("/api/policies/{id}/state", get(policy_state))
        .route("/api/prices", get(list_prices).post(put_price).delete(delete_price))
        .with_state(service)
}

/// `view` as JSON, with `warnings` when the edit produced any.
fn saved(status: StatusCode, view: impl Serialize, warnings: &[ConfigDiagnostic]) -> Response {
    let mut v = serde_json::to_value(view).unwrap_or(Value::Null);
    if !warnings.is_empty() {
        v["warnings"] = Value::Array(diagnostics_json(warnings));
    }
    (status, Json(v)).into_response()
}

/// A body that may be empty (an action with options).
fn optional_body(body: Body) -> Result<Value, AdminError> {
    let bytes = read(body)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| AdminError::Request(StatusCode::BAD_REQUEST, format!("body is not valid JSON: {e}")))
}

async fn settings(State(s): Service) -> Response {
    Json(json!({"settings": s.settings()})).into_response()
}

async fn list_keys(State(s): Service) -> Result<Response, AdminError> {
    Ok(Json(json!({"data": s.list_keys().await?})).into_response())
}

async fn get_key(State(s): Service, path: Name) -> Result<Response, AdminError> {
    Ok(Json(s.get_key(&name(path)?).await?).into_response())
}

async fn create_key(State(s): Service, body: Body) -> Result<Response, AdminError> {
    let (view, token, warnings) = s.create_key(parse_body(body)?).await?;
    let mut v = serde_json::to_value(view).unwrap_or(Value::Null);
    v["key"] = Value::String(token);
    Ok(saved(StatusCode::CREATED, v, &warnings))
}

async fn update_key(State(s): Service, path: Name, body: Body) -> Result<Response, AdminError> {
    let (view, warnings) = s.update_key(&name(path)?, parse_body(body)?).await?;
    Ok(saved(StatusCode::OK, view, &warnings))
}

async fn delete_key(State(s): Service, path: Name) -> Result<Response, AdminError> {
    s.delete_key(&name(path)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn rotate_key(State(s): Service, path: Name, body: Body) -> Result<Response, AdminError> {
    let id = name(path)?;
    let options = optional_body(body)?;
    let grace = match options.get("grace_secs") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_u64().ok_or_else(|| {
            AdminError::Request(
                StatusCode::BAD_REQUEST,
                "grace_secs: must be a whole number of seconds, 0 or more".into(),
            )
        })?),
    };
    let (view, token) = s.rotate_key(&id, grace).await?;
    let mut v = serde_json::to_value(view).unwrap_or(Value::Null);
    v["key"] = Value::String(token);
    Ok(Json(v).into_response())
}

async fn revoke_key(State(s): Service, path: Name) -> Result<Response, AdminError> {
    Ok(Json(s.revoke_key(&name(path)?).await?).into_response())
}

async fn list_teams(State(s): Service) -> Result<Response, AdminError> {
    Ok(Json(json!({"data": s.list_teams().await?})).into_response())
}

async fn get_team(State(s): Service, path: Name) -> Result<Response, AdminError> {
    Ok(Json(s.get_team(&name(path)?).await?).into_response())
}

async fn create_team(State(s): Service, body: Body) -> Result<Response, AdminError> {
    let (view, warnings) = s.create_team(parse_body(body)?).await?;
    Ok(saved(StatusCode::CREATED, view, &warnings))
}

async fn update_team(State(s): Service, path: Name, body: Body) -> Result<Response, AdminError> {
    let (view, warnings) = s.update_team(&name(path)?, parse_body(body)?).await?;
    Ok(saved(StatusCode::OK, view, &warnings))
}

async fn delete_team(State(s): Service, path: Name) -> Result<Response, AdminError> {
    s.delete_team(&name(path)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_policies(State(s): Service) -> Result<Response, AdminError> {
    Ok(Json(json!({"data": s.list_policies().await?})).into_response())
}

async fn get_policy(State(s): Service, path: Name) -> Result<Response, AdminError> {
    Ok(Json(s.get_policy(&name(path)?).await?).into_response())
}

async fn create_policy(State(s): Service, body: Body) -> Result<Response, AdminError> {
    let (view, warnings) = s.create_policy(parse_body(body)?).await?;
    Ok(saved(StatusCode::CREATED, view, &warnings))
}

async fn update_policy(State(s): Service, path: Name, body: Body) -> Result<Response, AdminError> {
    let (view, warnings) = s.update_policy(&name(path)?, parse_body(body)?).await?;
    Ok(saved(StatusCode::OK, view, &warnings))
}

async fn delete_policy(State(s): Service, path: Name) -> Result<Response, AdminError> {
    s.delete_policy(&name(path)?).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn reset_policy(State(s): Service, path: Name) -> Result<Response, AdminError> {
    Ok(Json(s.reset_policy(&name(path)?).await?).into_response())
}

async fn policy_state(State(s): Service, path: Name) -> Result<Response, AdminError> {
    Ok(Json(s.policy_state(&name(path)?).await?).into_response())
}

async fn list_prices(State(s): Service) -> Result<Response, AdminError> {
    Ok(Json(json!({"data": s.list_prices().await?})).into_response())
}

async fn put_price(State(s): Service, body: Body) -> Result<Response, AdminError> {
    Ok(Json(s.put_price(parse_body(body)?).await?).into_response())
}

#[derive(serde::Deserialize)]
struct PriceQuery {
    model: Option<String>,
}

async fn delete_price(
    State(s): Service,
    query: Result<Query<PriceQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AdminError> {
    let Some(model) = query.ok().and_then(|Query(q)| q.model) else {
        return Err(AdminError::Request(
            StatusCode::BAD_REQUEST,
            "name the price to delete: DELETE /api/prices?model=<glob>".into(),
        ));
    };
    s.delete_price(&model).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
