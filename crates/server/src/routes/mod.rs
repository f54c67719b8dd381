//! The route table. The inference routes are matched at the edge
//! ([`crate::edge`]); everything else is this axum router.

mod anthropic;
pub(crate) mod dispatch;
mod health;
mod in_span;
mod models;
mod response;

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use http::StatusCode;

use crate::state::AppState;
use axum::response::Response;

/// Every route but the inference ones, which the edge matches itself.
pub(crate) fn rest(state: &AppState) -> Router {
    let limit = state.max_body_bytes;
    let openai = Router::new().route("/v1/models", get(models::list_models));
    let anthropic = Router::new()
        .route("/v1/models", get(anthropic::list_models))
        .route("/api/hello", get(anthropic::hello).head(anthropic::hello));
    Router::new()
        .merge(crate::admin::routes(
            state.admin.clone(),
            state.governance.clone(),
            state.logs.clone(),
            state.metrics.clone(),
            state.admin_auth.clone(),
        ))
        .merge(openai.clone())
        .nest("/openai", openai)
        .nest("/anthropic", anthropic)
        .route("/health", get(health::health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state.clone())
}

async fn not_found(uri: http::Uri) -> Response {
    crate::error::error_for_path(
        uri.path(),
        StatusCode::NOT_FOUND,
        format!("no route for {}", uri.path()),
        "unknown_route",
    )
}

async fn method_not_allowed(method: http::Method, uri: http::Uri) -> Response {
    crate::error::method_not_allowed(&method, uri.path())
}
