//! Access log: one line per request, no headers or bodies.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

pub async fn access_log(req: Request, next: Next) -> Response {
    // The hot path pays nothing for the log when it is off.
    if !tracing::enabled!(tracing::Level::INFO) {
        return next.run(req).await;
    }
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    // For streams this is time to the response head; the body is still flowing.
    tracing::info!(%method, %path, status = resp.status().as_u16(), latency_ms = started.elapsed().as_secs_f64() * 1000.0, "request");
    resp
}
