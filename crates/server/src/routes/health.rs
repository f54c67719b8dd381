//! `GET /health`.

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

pub async fn health(State(state): State<AppState>) -> Json<Value> {
    let snapshot = state.gateway.snapshot();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "providers": snapshot.providers.len(),
        "config_generation": snapshot.generation,
        "uptime_seconds": state.started.elapsed().as_secs(),
    }))
}
