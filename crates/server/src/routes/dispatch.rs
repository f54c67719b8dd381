//! The inbound dialect routes: each reads the body, filters headers and hands
//! the request to the gateway, rendering errors in the caller's dialect.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName};
use switchyard_core::lifecycle::Credentials;
use switchyard_core::{Inbound, InboundHeaders};

use super::chat::{read_body, relay_response};
use crate::error::{AnthropicError, OpenAiError};
use crate::headers::forwarded;
use crate::state::AppState;

async fn run(state: AppState, inbound: Inbound, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    let anthropic = matches!(inbound, Inbound::AnthropicMessages | Inbound::AnthropicCountTokens);
    let body = match read_body(body, state.max_body_bytes) {
        Ok(b) => b,
        Err(e) if anthropic => return AnthropicError::from(e).into_response(),
        Err(e) => return e.into_response(),
    };
    let text = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let inbound_headers = InboundHeaders {
        forwarded: forwarded(&headers),
        anthropic_beta: text(&ANTHROPIC_BETA),
        request_id: text(&REQUEST_ID),
        user_agent: text(&http::header::USER_AGENT),
        user: text(&SWITCHYARD_USER),
        credentials: credentials(&headers),
    };
    match state.gateway.handle(inbound, body, inbound_headers).await {
        Ok(resp) => relay_response(resp),
        Err(e) if anthropic => AnthropicError::from(e).into_response(),
        Err(e) => OpenAiError::from(e).into_response(),
    }
}

// Looked up by name object: a `&str` name is parsed and validated at every lookup.
static ANTHROPIC_BETA: HeaderName = HeaderName::from_static("anthropic-beta");
static REQUEST_ID: HeaderName = HeaderName::from_static(crate::middleware::REQUEST_ID);
static SWITCHYARD_USER: HeaderName = HeaderName::from_static("x-switchyard-user");
static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
static API_KEY: HeaderName = HeaderName::from_static("api-key");

/// The key a client presented: `Authorization: Bearer`, `x-api-key` (Anthropic
/// SDK, Claude Code) or `api-key` (Azure-style clients).
fn credentials(headers: &HeaderMap) -> Credentials {
    let key = crate::headers::bearer(headers)
        .or_else(|| headers.get(&X_API_KEY).and_then(|v| v.to_str().ok()))
        .or_else(|| headers.get(&API_KEY).and_then(|v| v.to_str().ok()))
        .filter(|k| !k.is_empty());
    Credentials { presented_key: key.map(str::to_string) }
}

pub async fn chat_completions(State(s): State<AppState>, h: HeaderMap, b: Result<Bytes, BytesRejection>) -> Response {
    run(s, Inbound::OpenAiChat, h, b).await
}

pub async fn responses(State(s): State<AppState>, h: HeaderMap, b: Result<Bytes, BytesRejection>) -> Response {
    run(s, Inbound::OpenAiResponses, h, b).await
}

pub async fn completions(State(s): State<AppState>, h: HeaderMap, b: Result<Bytes, BytesRejection>) -> Response {
    run(s, Inbound::OpenAiCompletions, h, b).await
}

pub async fn embeddings(State(s): State<AppState>, h: HeaderMap, b: Result<Bytes, BytesRejection>) -> Response {
    run(s, Inbound::OpenAiEmbeddings, h, b).await
}

pub async fn anthropic_messages(State(s): State<AppState>, h: HeaderMap, b: Result<Bytes, BytesRejection>) -> Response {
    run(s, Inbound::AnthropicMessages, h, b).await
}

pub async fn anthropic_count_tokens(
    State(s): State<AppState>,
    h: HeaderMap,
    b: Result<Bytes, BytesRejection>,
) -> Response {
    run(s, Inbound::AnthropicCountTokens, h, b).await
}
