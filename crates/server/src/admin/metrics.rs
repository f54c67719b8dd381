//! `GET /metrics`: Prometheus exposition (OpenMetrics text, which Prometheus
//! and every scraper that reads the classic text format accept). Served on
//! the main listener behind the admin guard: one port to run, and the
//! admin token (a scrape config's `authorization`) keeps the model and key
//! names in the labels private when the gateway listens beyond loopback.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::registry::Registry;

pub fn routes<S: Clone + Send + Sync + 'static>(registry: Option<Arc<Registry>>) -> Router<S> {
    match registry {
        Some(r) => Router::new().route("/metrics", get(scrape)).with_state(r),
        None => Router::new().route("/metrics", get(|| async { StatusCode::NOT_FOUND })),
    }
}

async fn scrape(State(registry): State<Arc<Registry>>) -> Response {
    let mut out = String::with_capacity(16 * 1024);
    match prometheus_client::encoding::text::encode(&mut out, &registry) {
        Ok(()) => ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], out)
            .into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "cannot encode the metrics").into_response(),
    }
}
