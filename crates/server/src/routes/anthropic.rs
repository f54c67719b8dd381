//! Anthropic surfaces beyond Messages: the model list and the connectivity probe.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use switchyard_core::protocol::anthropic::models::model_list;

use crate::state::AppState;

/// `GET /anthropic/v1/models`: every provider's models, in Anthropic's list format.
pub async fn list_models(State(state): State<AppState>) -> Response {
    let report = state.gateway.list_models().await;
    Json(model_list(&report.models)).into_response()
}

/// `HEAD|GET /anthropic/api/hello`: Claude Code's connectivity probe.
pub async fn hello() -> Json<serde_json::Value> {
    Json(serde_json::json!({"ok": true}))
}
