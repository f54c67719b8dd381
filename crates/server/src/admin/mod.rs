//! Administration over HTTP: the management REST API on top of core's
//! configuration service, admin access control and the web UI. Nothing here
//! decides what a configuration is; it reads requests and renders answers.
//!
//! Handlers take only what they use (`State<Arc<ConfigService>>`,
//! `State<Arc<AdminAuth>>`, `State<Gateway>`), so this module never names the
//! server's state type.

pub mod api;
pub mod auth;
pub mod error;
pub mod governance;
pub mod logs;
pub mod metrics;
pub mod ui;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use switchyard_core::config_service::ConfigService;
use switchyard_core::governance::GovernanceService;
use switchyard_core::observability::Logs;
use switchyard_core::Gateway;

use auth::AdminAuth;

/// `/api/...`, the UI under `/ui/`, `/login`, `/logout`. Without a
/// configuration service the provider and route endpoints answer that the
/// API is off.
pub fn routes<S>(
    service: Option<Arc<ConfigService>>,
    governance: Option<Arc<GovernanceService>>,
    logs: Option<Logs>,
    metrics: Option<Arc<prometheus_client::registry::Registry>>,
    admin_auth: Arc<AdminAuth>,
) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<AdminAuth>: FromRef<S>,
    Gateway: FromRef<S>,
{
    let providers: Router<S> = match service {
        Some(service) => Router::new()
            .route("/api/providers", get(api::list).post(api::create))
            .route("/api/providers/{name}", get(api::get).put(api::update).delete(api::delete))
            .route("/api/routes", get(api::list_routes).post(api::create_route))
            .route("/api/routes/{name}", get(api::get_route).put(api::update_route).delete(api::delete_route))
            .with_state(service),
        None => Router::new()
            .route("/api/providers", get(api::disabled).post(api::disabled))
            .route("/api/providers/{name}", get(api::disabled).put(api::disabled).delete(api::disabled))
            .route("/api/routes", get(api::disabled).post(api::disabled))
            .route("/api/routes/{name}", get(api::disabled).put(api::disabled).delete(api::disabled)),
    };
    let guarded = providers
        .merge(governance::routes(governance))
        .merge(logs::routes(logs))
        .merge(metrics::routes(metrics))
        .route("/api/providers/{name}/test", post(api::test_connection))
        .route("/api/meta", get(api::meta))
        .route("/api/openapi.json", get(api::openapi))
        .route("/ui/", get(ui::index))
        .route("/ui/{*path}", get(ui::asset))
        .route_layer(axum::middleware::from_fn_with_state(admin_auth, auth::require_admin));
    Router::new()
        .merge(guarded)
        .route("/", get(ui::root))
        .route("/ui", get(ui::root))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/login.css", get(ui::login_css))
        .route("/logout", post(auth::logout))
}
