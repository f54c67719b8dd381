//! The in-process Rust API: typed chat requests through the same dispatch as
//! the HTTP server.

use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::HeaderMap;
use serde_json::{Map, Value};
use switchyard_protocol::openai::chat::{
    ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, ChatMessage, StreamOptions, Tool,
};
use switchyard_protocol::sse::SseParser;
use switchyard_protocol::upstream_error::parse_upstream_error;

use crate::error::GatewayError;
use crate::gateway::Gateway;
use crate::response::ProxyBody;

/// A chat request addressed to `provider` / `model`.
#[derive(Debug, Clone, Default)]
pub struct ChatRequest {
    pub provider: String,
    pub model: String,
    pub messages: Vec<ChatMessage>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    pub tools: Option<Vec<Tool>>,
    pub tool_choice: Option<Value>,
    /// Any other Chat Completions field, sent as is.
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    pub fn new(provider: impl Into<String>, model: impl Into<String>, messages: Vec<ChatMessage>) -> Self {
        Self { provider: provider.into(), model: model.into(), messages, ..Self::default() }
    }

    fn into_wire(self, stream: bool) -> ChatCompletionRequest {
        ChatCompletionRequest {
            model: format!("{}/{}", self.provider, self.model),
            messages: self.messages,
            stream: stream.then_some(true),
            stream_options: stream.then_some(StreamOptions { include_usage: Some(true) }),
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            tools: self.tools,
            tool_choice: self.tool_choice,
            extra: self.extra,
            ..ChatCompletionRequest::default()
        }
    }
}

pub type ChatChunkStream = Pin<Box<dyn Stream<Item = Result<ChatCompletionChunk, GatewayError>> + Send>>;

impl Gateway {
    pub async fn chat_completion(&self, request: ChatRequest) -> Result<ChatCompletionResponse, GatewayError> {
        let provider = request.provider.clone();
        let body = encode(&request.into_wire(false))?;
        let resp = self.proxy_chat(body, HeaderMap::new()).await?;
        let bytes = resp.body.collect(usize::MAX).await.map_err(|e| GatewayError::UpstreamTransport {
            provider: provider.clone(),
            message: e.to_string(),
            timed_out: false,
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| GatewayError::BadUpstreamResponse { provider, message: format!("not a chat.completion: {e}") })
    }

    /// Streams chunks as the upstream sends them. The stream ends after the
    /// upstream's `[DONE]`; an in-band upstream error is yielded as `Err`.
    pub async fn chat_completion_stream(&self, request: ChatRequest) -> Result<ChatChunkStream, GatewayError> {
        let provider = request.provider.clone();
        let body = encode(&request.into_wire(true))?;
        let resp = self.proxy_chat(body, HeaderMap::new()).await?;
        let bytes = match resp.body {
            ProxyBody::Stream(s) => s,
            ProxyBody::Forward { .. } => {
                return Err(GatewayError::BadUpstreamResponse { provider, message: "expected an event stream".into() })
            }
            ProxyBody::Full(b) => {
                return Err(GatewayError::BadUpstreamResponse {
                    provider,
                    message: format!(
                        "expected an event stream, got: {}",
                        String::from_utf8_lossy(&b[..b.len().min(200)])
                    ),
                })
            }
        };
        let state = (bytes, SseParser::new(), std::collections::VecDeque::new(), false, provider);
        Ok(Box::pin(futures::stream::unfold(
            state,
            |(mut bytes, mut parser, mut queue, mut done, provider)| async move {
                loop {
                    if let Some(item) = queue.pop_front() {
                        return Some((item, (bytes, parser, queue, done, provider)));
                    }
                    if done {
                        return None;
                    }
                    match bytes.next().await {
                        None => return None,
                        Some(Err(e)) => {
                            done = true;
                            queue.push_back(Err(GatewayError::UpstreamTransport {
                                provider: provider.clone(),
                                message: e.to_string(),
                                timed_out: false,
                            }));
                        }
                        Some(Ok(chunk)) => {
                            for event in parser.push(&chunk) {
                                let data = event.data.trim();
                                if data.starts_with("[DONE]") {
                                    done = true;
                                    break;
                                }
                                if data.starts_with("{\"error\"") {
                                    done = true;
                                    let detail = parse_upstream_error(data.as_bytes());
                                    queue.push_back(Err(GatewayError::Upstream {
                                        provider: provider.clone(),
                                        status: 502,
                                        detail,
                                        retry_after_secs: None,
                                    }));
                                    break;
                                }
                                queue.push_back(serde_json::from_str::<ChatCompletionChunk>(data).map_err(|e| {
                                    GatewayError::BadUpstreamResponse {
                                        provider: provider.clone(),
                                        message: format!("bad chunk: {e}"),
                                    }
                                }));
                            }
                        }
                    }
                }
            },
        )))
    }
}

fn encode(req: &ChatCompletionRequest) -> Result<Bytes, GatewayError> {
    serde_json::to_vec(req)
        .map(Bytes::from)
        .map_err(|e| GatewayError::invalid(format!("request cannot be encoded: {e}"), None))
}
