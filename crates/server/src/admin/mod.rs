//! Administration: the configuration service, the management REST API, admin
//! access control and the web UI.

pub mod api;
pub mod auth;
pub mod env_policy;
pub mod redact;
pub mod service;
pub mod ui;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

/// `/api/...`, the UI under `/ui/`, `/login`, `/logout`.
pub fn routes(state: AppState) -> Router<AppState> {
    let guarded = Router::new()
        .route("/api/providers", get(api::list).post(api::create))
        .route("/api/providers/{name}", get(api::get).put(api::update).delete(api::delete))
        .route("/api/providers/{name}/test", post(api::test_connection))
        .route("/api/meta", get(api::meta))
        .route("/api/openapi.json", get(api::openapi))
        .route("/ui/", get(ui::index))
        .route("/ui/{*path}", get(ui::asset))
        .route_layer(axum::middleware::from_fn_with_state(state, auth::require_admin));
    Router::new()
        .merge(guarded)
        .route("/", get(ui::root))
        .route("/ui", get(ui::root))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/login.css", get(ui::login_css))
        .route("/logout", post(auth::logout))
}
