//! The edge every request passes, in the connection's own task: a request id,
//! the browser checks ([`crate::guard`]), the access log, then either an
//! inference route or the axum router.
//!
//! The inference routes are matched here, on hyper's request, rather than in
//! the router: they are where the traffic is, and a router with middleware
//! layers costs every request a boxed future per layer, a route lookup, a
//! copy of the headers and the state, and a second boxing of each body. The
//! admin API, the UI, the model lists and `/health` stay on axum, where the
//! extractors earn their keep.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::response::Response;
use axum::Router;
use bytes::Bytes;
use http::{Method, Request};
use switchyard_core::Inbound;
use tracing::Instrument;

use crate::request_id::{assign_request_id, REQUEST_ID};
use crate::routes::dispatch::{self, BoxError};
use crate::state::AppState;

/// What the listener serves. Cloning it is one reference count.
#[derive(Clone)]
pub struct App(Arc<Inner>);

struct Inner {
    state: AppState,
    /// Everything but the inference routes.
    rest: Router,
}

/// The inference routes: path → what the client speaks. `/openai/v1/…` is an
/// alias of `/v1/…`.
fn inference_route(path: &str) -> Option<Inbound> {
    let path = path.strip_prefix("/openai").filter(|p| p.starts_with("/v1/")).unwrap_or(path);
    Some(match path {
        "/v1/chat/completions" => Inbound::OpenAiChat,
        "/v1/responses" => Inbound::OpenAiResponses,
        "/v1/completions" => Inbound::OpenAiCompletions,
        "/v1/embeddings" => Inbound::OpenAiEmbeddings,
        "/anthropic/v1/messages" => Inbound::AnthropicMessages,
        "/anthropic/v1/messages/count_tokens" => Inbound::AnthropicCountTokens,
        _ => return None,
    })
}

/// What the listener serves: the inference routes at the edge, the rest on
/// the axum router.
pub fn router(state: AppState) -> App {
    let rest = crate::routes::rest(&state);
    App(Arc::new(Inner { state, rest }))
}

impl App {
    /// Answers one request. `peer` is given to the admin routes (login throttling).
    pub(crate) async fn serve<B>(self, mut req: Request<B>, peer: SocketAddr) -> Response
    where
        B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<BoxError>,
    {
        let id = assign_request_id(&mut req);
        if let Some(mut refused) = crate::guard::refuse(&self.0.state, &req) {
            tracing::warn!(request_id = id.to_str().unwrap_or(""), method = %req.method(), path = %req.uri().path(), status = refused.status().as_u16(), "request refused at the edge");
            refused.headers_mut().insert(REQUEST_ID, id);
            return refused;
        }
        // At ERROR level so that it is on whenever any line is: a `--log warn`
        // line logged while serving still names its request.
        let span = tracing::error_span!("request", request_id = id.to_str().unwrap_or(""));
        // The hot path pays nothing for the log when it is off.
        let logged = tracing::enabled!(tracing::Level::INFO)
            .then(|| (Instant::now(), req.method().clone(), req.uri().path().to_string()));
        let mut resp = self.route(req, peer).instrument(span.clone()).await;
        if let Some((started, method, path)) = logged {
            // For streams this is time to the response head; the body is still flowing.
            tracing::info!(parent: &span, %method, %path, status = resp.status().as_u16(), latency_ms = switchyard_core::observability::log_ms(started.elapsed()), "request");
        }
        resp.headers_mut().insert(REQUEST_ID, id);
        resp
    }

    async fn route<B>(&self, req: Request<B>, peer: SocketAddr) -> Response
    where
        B: http_body::Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<BoxError>,
    {
        if let Some(inbound) = inference_route(req.uri().path()) {
            if req.method() != Method::POST {
                return crate::error::method_not_allowed(req.method(), req.uri().path());
            }
            let state = &self.0.state;
            let (parts, body) = req.into_parts();
            let body = dispatch::read_body(body, state.max_body_bytes).await;
            return dispatch::run(state, inbound, &parts.headers, body).await;
        }
        let mut req = req.map(Body::new);
        let path = req.uri().path();
        if path.starts_with("/api/") || path == "/login" {
            req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        }
        // The router's error type is `Infallible`.
        match tower::ServiceExt::oneshot(self.0.rest.clone(), req).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_paths_and_their_alias() {
        assert_eq!(inference_route("/v1/chat/completions"), Some(Inbound::OpenAiChat));
        assert_eq!(inference_route("/openai/v1/responses"), Some(Inbound::OpenAiResponses));
        assert_eq!(inference_route("/anthropic/v1/messages/count_tokens"), Some(Inbound::AnthropicCountTokens));
        assert_eq!(inference_route("/openai/anthropic/v1/messages"), None);
        assert_eq!(inference_route("/v1/chat/completions/"), None);
        assert_eq!(inference_route("/v1/models"), None);
    }
}
