//! `GET /v1/models`: one OpenAI list across providers, ids `<provider>/<model>`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::HeaderValue;
use switchyard_core::protocol::openai::models::ModelList;

use crate::state::AppState;

pub async fn list_models(State(state): State<AppState>) -> Response {
    let report = state.gateway.list_models().await;
    let mut resp = Json(ModelList::new(report.models)).into_response();
    if !report.failures.is_empty() {
        // Which providers are missing from the list, so a client can tell a partial list.
        let names: Vec<&str> = report.failures.iter().map(|f| f.provider.as_str()).collect();
        if let Ok(v) = HeaderValue::from_str(&names.join(",")) {
            resp.headers_mut().insert("x-switchyard-unavailable-providers", v);
        }
    }
    resp
}
