//! The inbound dialect routes: each reads the body, filters headers and hands
//! the request to the gateway, rendering errors in the caller's dialect.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
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
    let inbound_headers = InboundHeaders {
        forwarded: forwarded(&headers),
        anthropic_beta: headers.get("anthropic-beta").and_then(|v| v.to_str().ok()).map(str::to_string),
    };
    match state.gateway.handle(inbound, body, inbound_headers).await {
        Ok(resp) => relay_response(resp),
        Err(e) if anthropic => AnthropicError::from(e).into_response(),
        Err(e) => OpenAiError::from(e).into_response(),
    }
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
