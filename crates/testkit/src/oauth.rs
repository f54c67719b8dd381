//! A fake OAuth token endpoint (`POST /oidc/v1/token` on the workspace host,
//! Databricks' path): client credentials by HTTP Basic or in the form,
//! short-lived tokens, counted requests, revocation and an outage switch.
//! The AI Gateway and workspace hosts then accept the tokens it issued and
//! has not revoked, until they expire.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;

/// The service principal the endpoint knows.
#[derive(Debug, Clone)]
pub struct FakeOAuth {
    pub client_id: String,
    pub client_secret: String,
    /// Lifetime of each token (`expires_in`).
    pub token_ttl: Duration,
}

#[derive(Default)]
pub(crate) struct OAuthState {
    issued: Vec<(String, Instant)>,
    pub(crate) fetches: u64,
    /// Upstream requests refused for an expired or revoked token.
    pub(crate) refused: u64,
    pub(crate) down: bool,
}

/// How long the endpoint takes: long enough for concurrent requests to pile up on one fetch.
const LATENCY: Duration = Duration::from_millis(150);

pub(crate) async fn token(cfg: &FakeOAuth, state: &Mutex<OAuthState>, headers: &HeaderMap, body: &[u8]) -> Response {
    let fetch = {
        let mut s = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        s.fetches += 1;
        s.fetches
    };
    tokio::time::sleep(LATENCY).await;
    if state.lock().is_ok_and(|s| s.down) {
        return (StatusCode::SERVICE_UNAVAILABLE, "upstream connect error or disconnect/reset before headers")
            .into_response();
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let (id, secret) = match (&basic, field("client_id"), field("client_secret")) {
        (Some(pair), _, _) => {
            let (id, secret) = pair.split_once(':').unwrap_or((pair, ""));
            let decode =
                |v: &str| form_urlencoded::parse(format!("v={v}").as_bytes()).next().map(|(_, v)| v.into_owned());
            (decode(id), decode(secret))
        }
        (None, Some(id), Some(secret)) => (Some(id.to_string()), Some(secret.to_string())),
        _ => (None, None),
    };
    if field("grant_type") != Some("client_credentials") {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "grant_type must be client_credentials");
    }
    if id.as_deref() != Some(cfg.client_id.as_str()) || secret.as_deref() != Some(cfg.client_secret.as_str()) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    }
    let access_token = format!("fake-sp-token-{fetch}");
    if let Ok(mut s) = state.lock() {
        s.issued.push((access_token.clone(), Instant::now() + cfg.token_ttl));
    }
    Json(json!({"access_token": access_token, "token_type": "Bearer", "expires_in": cfg.token_ttl.as_secs_f64(),
        "scope": field("scope").unwrap_or("all-apis")}))
    .into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({"error": error, "error_description": description}))).into_response()
}

/// Whether `Bearer <token>` is one this endpoint issued, not revoked and not expired (counting refusals).
pub(crate) fn accepts(state: &Mutex<OAuthState>, authorization: Option<&str>) -> bool {
    let Some(token) = authorization.and_then(|a| a.strip_prefix("Bearer ")) else { return false };
    let Ok(mut s) = state.lock() else { return false };
    if !token.starts_with("fake-sp-token-") {
        return false;
    }
    let valid = s.issued.iter().any(|(t, until)| t == token && Instant::now() < *until);
    if !valid {
        s.refused += 1;
    }
    valid
}

pub(crate) fn revoke(state: &Mutex<OAuthState>) {
    if let Ok(mut s) = state.lock() {
        s.issued.clear();
    }
}
