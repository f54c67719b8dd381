//! The route table.

mod anthropic;
mod chat;
mod dispatch;
mod health;
mod models;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use http::StatusCode;

use crate::state::AppState;
use axum::response::Response;

pub fn router(state: AppState) -> Router {
    let limit = state.max_body_bytes;
    let openai = Router::new()
        .route("/v1/chat/completions", post(dispatch::chat_completions))
        .route("/v1/responses", post(dispatch::responses))
        .route("/v1/completions", post(dispatch::completions))
        .route("/v1/embeddings", post(dispatch::embeddings))
        .route("/v1/models", get(models::list_models));
    let anthropic = Router::new()
        .route("/v1/messages", post(dispatch::anthropic_messages))
        .route("/v1/messages/count_tokens", post(dispatch::anthropic_count_tokens))
        .route("/v1/models", get(anthropic::list_models))
        .route("/api/hello", get(anthropic::hello).head(anthropic::hello));
    Router::new()
        .merge(crate::admin::routes(state.admin.clone(), state.admin_auth.clone()))
        .merge(openai.clone())
        .nest("/openai", openai)
        .nest("/anthropic", anthropic)
        .route("/health", get(health::health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(crate::middleware::access_log))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::guard::check))
        .with_state(state)
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
    let message = format!("{method} is not allowed on {}", uri.path());
    crate::error::error_for_path(uri.path(), StatusCode::METHOD_NOT_ALLOWED, message, "method_not_allowed")
}
