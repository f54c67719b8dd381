//! The inference routes ([`crate::edge`] matches them): each reads the body,
//! filters headers and hands the request to the gateway, rendering errors in
//! the caller's dialect.

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, StatusCode};
use http_body_util::BodyExt;
use switchyard_core::lifecycle::Credentials;
use switchyard_core::{Failure, Inbound, InboundHeaders};

use super::response::relay_response;
use crate::error::{AnthropicError, OpenAiError};
use crate::headers::forwarded;
use crate::state::AppState;

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a request body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Over the limit, in bytes.
    TooLarge(usize),
    /// The body read deadline passed (the message says which setting).
    TimedOut(String),
    Unreadable(String),
}

impl From<BodyError> for OpenAiError {
    fn from(e: BodyError) -> Self {
        match e {
            BodyError::TooLarge(limit) => OpenAiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body exceeds the limit of {limit} bytes (client.max_request_body_size_mb / --max-body-size-mb)"),
                None,
                Some("request_too_large"),
            ),
            BodyError::TimedOut(message) => {
                OpenAiError::new(StatusCode::REQUEST_TIMEOUT, message, None, Some("request_timeout"))
            }
            BodyError::Unreadable(why) => {
                OpenAiError::new(StatusCode::BAD_REQUEST, format!("could not read request body: {why}"), None, None)
            }
        }
    }
}

/// The whole request body, at most `limit` bytes.
pub(crate) async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(BodyError::TooLarge(limit)),
        Err(e) if crate::body::is_body_timeout(e.as_ref()) => Err(BodyError::TimedOut(e.to_string())),
        Err(e) => Err(BodyError::Unreadable(e.to_string())),
    }
}

pub(crate) async fn run(
    state: &AppState,
    inbound: Inbound,
    headers: &HeaderMap,
    body: Result<Bytes, BodyError>,
) -> Response {
    let anthropic = matches!(inbound, Inbound::AnthropicMessages | Inbound::AnthropicCountTokens);
    let body = match body {
        Ok(b) => b,
        Err(e) if anthropic => return AnthropicError::from(OpenAiError::from(e)).into_response(),
        Err(e) => return OpenAiError::from(e).into_response(),
    };
    let text = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let inbound_headers = InboundHeaders {
        forwarded: forwarded(headers),
        anthropic_beta: text(&ANTHROPIC_BETA),
        request_id: text(&REQUEST_ID),
        user_agent: text(&http::header::USER_AGENT),
        user: text(&SWITCHYARD_USER),
        request_tags: text(&switchyard_core::attribution::REQUEST_TAGS),
        credentials: credentials(headers),
    };
    match state.gateway.serve(inbound, body, inbound_headers).await {
        Ok(resp) => relay_response(resp),
        Err(Failure { error, headers }) => {
            let upstream_limited = error.status() == 429 && error.kind() != "rejected";
            let retry_after = error.retry_after_secs();
            let mut response = if anthropic {
                AnthropicError::from(error).into_response()
            } else {
                OpenAiError::from(error).into_response()
            };
            response.headers_mut().extend(headers);
            if let Some(secs) = retry_after.filter(|_| !response.headers().contains_key(http::header::RETRY_AFTER)) {
                // The upstream's own wait, passed on (its other headers are not).
                response.headers_mut().insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
            }
            if upstream_limited && !response.headers().contains_key(&SWITCHYARD_LIMIT) {
                // The provider's own 429, told apart from Switchyard's limits.
                response
                    .headers_mut()
                    .insert(&SWITCHYARD_LIMIT, http::HeaderValue::from_static("upstream; source=upstream"));
            }
            response
        }
    }
}

// Looked up by name object: a `&str` name is parsed and validated at every lookup.
static ANTHROPIC_BETA: HeaderName = HeaderName::from_static("anthropic-beta");
static REQUEST_ID: HeaderName = HeaderName::from_static(crate::request_id::REQUEST_ID);
static SWITCHYARD_USER: HeaderName = HeaderName::from_static("x-switchyard-user");
static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
static API_KEY: HeaderName = HeaderName::from_static("api-key");
static SWITCHYARD_LIMIT: HeaderName = HeaderName::from_static("x-switchyard-limit");

/// The key a client presented: `Authorization: Bearer`, `x-api-key` (Anthropic
/// SDK, Claude Code) or `api-key` (Azure-style clients).
fn credentials(headers: &HeaderMap) -> Credentials {
    let key = crate::headers::bearer(headers)
        .or_else(|| headers.get(&X_API_KEY).and_then(|v| v.to_str().ok()))
        .or_else(|| headers.get(&API_KEY).and_then(|v| v.to_str().ok()))
        .filter(|k| !k.is_empty());
    Credentials { presented_key: key.map(str::to_string), in_process: false }
}
