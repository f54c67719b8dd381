//! Dispatch: (inbound dialect) → (route) → (upstream operation) → (outbound
//! dialect). The cheapest operation the provider allows wins:
//! 1. same dialect, allowed → passthrough (rewrite `model`, forward bytes);
//! 2. different dialect → translate through the canonical model;
//! 3. same dialect not allowed but chat is → emulate via chat;
//! 4. otherwise a clear error naming provider, request type and what it allows.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::TryStreamExt;
use http::{HeaderMap, HeaderValue, Method};
use serde_json::{json, Value};
use switchyard_protocol::anthropic::messages::{self as anthropic_messages, AnthropicTarget};
use switchyard_protocol::canonical::estimate::estimate_input_tokens;
use switchyard_protocol::canonical::ConvertError;
use switchyard_protocol::raw_json::{RawJsonError, RawObject};
use switchyard_protocol::translate::{translate_request, ClientDialect, UpstreamDialect};

use crate::candidates::{candidates, falls_back, Candidate};
use crate::error::GatewayError;
use crate::gateway::{check_allowed, pick_key, Gateway, ProxyBody, ProxyResponse, Snapshot};
use crate::provider::Provider;
use crate::relay::{relay, ByteStream, RelayMode, StreamDialect};
use crate::request_type::{BaseFormat, RequestType};
use crate::upstream::{send, UpstreamRequest};

/// The API a client called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    OpenAiChat,
    OpenAiResponses,
    OpenAiCompletions,
    OpenAiEmbeddings,
    AnthropicMessages,
    AnthropicCountTokens,
}

impl Inbound {
    fn request_type(self, stream: bool) -> RequestType {
        match (self, stream) {
            (Self::OpenAiChat | Self::AnthropicMessages, false) => RequestType::ChatCompletion,
            (Self::OpenAiChat | Self::AnthropicMessages, true) => RequestType::ChatCompletionStream,
            (Self::OpenAiResponses, false) => RequestType::Responses,
            (Self::OpenAiResponses, true) => RequestType::ResponsesStream,
            (Self::OpenAiCompletions, false) => RequestType::TextCompletion,
            (Self::OpenAiCompletions, true) => RequestType::TextCompletionStream,
            (Self::OpenAiEmbeddings, _) => RequestType::Embedding,
            (Self::AnthropicCountTokens, _) => RequestType::CountTokens,
        }
    }
}

/// Client headers that may influence the upstream request.
#[derive(Debug, Clone, Default)]
pub struct InboundHeaders {
    /// Headers that passed the server's allow-list.
    pub forwarded: HeaderMap,
    /// The client's `anthropic-beta`, forwarded (filtered) to anthropic-base upstreams only.
    pub anthropic_beta: Option<String>,
}

enum Plan {
    Passthrough { request_type: RequestType, dialect: StreamDialect },
    Translate { request_type: RequestType },
    LocalCountTokens,
}

fn plan(inbound: Inbound, p: &Provider, stream: bool) -> Result<Plan, GatewayError> {
    let own = inbound.request_type(stream);
    let chat = if stream { RequestType::ChatCompletionStream } else { RequestType::ChatCompletion };
    let via_chat = || {
        if p.allows(chat) {
            Ok(Plan::Translate { request_type: chat })
        } else {
            Err(not_allowed(p, own))
        }
    };
    match (inbound, p.base_format) {
        (Inbound::OpenAiChat, BaseFormat::Openai) => {
            check_allowed(p, own)?;
            Ok(Plan::Passthrough { request_type: own, dialect: StreamDialect::OpenAiChat })
        }
        (Inbound::OpenAiResponses, BaseFormat::Openai) if p.allows(own) => {
            Ok(Plan::Passthrough { request_type: own, dialect: StreamDialect::OpenAiResponses })
        }
        (Inbound::OpenAiCompletions, BaseFormat::Openai) if p.allows(own) => {
            Ok(Plan::Passthrough { request_type: own, dialect: StreamDialect::OpenAiChat })
        }
        (Inbound::OpenAiEmbeddings, BaseFormat::Openai) => {
            check_allowed(p, own)?;
            Ok(Plan::Passthrough { request_type: own, dialect: StreamDialect::OpenAiChat })
        }
        (Inbound::OpenAiEmbeddings, BaseFormat::Anthropic) => Err(GatewayError::Unsupported {
            provider: p.name.clone(),
            base_format: p.base_format.to_string(),
            request_type: own,
            detail: Some("the Anthropic API has no embeddings endpoint".into()),
        }),
        (Inbound::AnthropicMessages, BaseFormat::Anthropic) => {
            check_allowed(p, chat)?;
            Ok(Plan::Passthrough { request_type: chat, dialect: StreamDialect::AnthropicMessages })
        }
        (Inbound::AnthropicCountTokens, BaseFormat::Anthropic) if p.allows(own) => {
            Ok(Plan::Passthrough { request_type: own, dialect: StreamDialect::AnthropicMessages })
        }
        (Inbound::AnthropicCountTokens, _) => Ok(Plan::LocalCountTokens),
        // Chat on anthropic; Messages on openai; Responses and Completions on
        // anthropic, or on openai without their own endpoint: via chat/messages.
        _ => via_chat(),
    }
}

fn not_allowed(p: &Provider, t: RequestType) -> GatewayError {
    GatewayError::RequestTypeNotAllowed { provider: p.name.clone(), request_type: t, allowed: p.allowed_names() }
}

fn invalid_json(e: RawJsonError) -> GatewayError {
    let param = e.param().map(str::to_string);
    GatewayError::InvalidRequest { message: e.to_string(), param }
}

fn convert_err(e: ConvertError) -> GatewayError {
    GatewayError::InvalidRequest { message: e.message, param: e.param }
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// `messages[i].role` must be a string: an upstream would refuse it anyway,
/// with a message that names no field (the scan skips contents unparsed).
fn check_roles(obj: &RawObject<'_>) -> Result<(), GatewayError> {
    #[derive(serde::Deserialize)]
    struct Message {
        role: Option<Value>,
    }
    // Other members are skipped by the parser, not built.
    let Ok(Some(messages)) = obj.parse_member::<Vec<Message>>("messages") else { return Ok(()) };
    match messages.iter().position(|m| !m.role.as_ref().is_some_and(Value::is_string)) {
        None => Ok(()),
        Some(i) => Err(GatewayError::invalid(
            format!("`messages[{i}].role` must be a string"),
            Some(&format!("messages[{i}].role")),
        )),
    }
}

/// A token limit, when given, is a positive whole number.
fn check_max_tokens(obj: &RawObject<'_>, key: &str) -> Result<(), GatewayError> {
    match obj.get(key).map(|v| v.get()) {
        None | Some("null") => Ok(()),
        Some(raw) if raw.parse::<u64>().is_ok_and(|n| n > 0) => Ok(()),
        Some(raw) => Err(GatewayError::invalid(format!("`{key}` must be a positive integer, got {raw}"), Some(key))),
    }
}

/// Validates what every dialect requires before anything goes upstream.
fn check_shape(inbound: Inbound, obj: &RawObject<'_>, stream: bool) -> Result<(), GatewayError> {
    match inbound {
        Inbound::OpenAiChat => {
            obj.require_non_empty_array("messages").map_err(invalid_json)?;
            check_roles(obj)?;
            check_max_tokens(obj, "max_tokens")?;
            check_max_tokens(obj, "max_completion_tokens")?;
            if !stream && obj.get("stream_options").is_some_and(|v| v.get() != "null") {
                return Err(GatewayError::invalid(
                    "`stream_options` is only allowed when `stream` is true",
                    Some("stream_options"),
                ));
            }
        }
        Inbound::AnthropicMessages => {
            obj.require_non_empty_array("messages").map_err(invalid_json)?;
            check_roles(obj)?;
            check_max_tokens(obj, "max_tokens")?;
            if !obj.contains("max_tokens") {
                return Err(GatewayError::invalid("`max_tokens` is required", Some("max_tokens")));
            }
        }
        Inbound::AnthropicCountTokens => obj.require_non_empty_array("messages").map_err(invalid_json)?,
        Inbound::OpenAiResponses if !obj.contains("input") => {
            return Err(GatewayError::invalid("`input` is required", Some("input")))
        }
        Inbound::OpenAiCompletions if !obj.contains("prompt") => {
            return Err(GatewayError::invalid("`prompt` is required", Some("prompt")))
        }
        Inbound::OpenAiEmbeddings if !obj.contains("input") => {
            return Err(GatewayError::invalid("`input` is required", Some("input")))
        }
        _ => {}
    }
    Ok(())
}

fn is_sse(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

fn upstream_headers(p: &Provider, headers: &InboundHeaders) -> HeaderMap {
    let mut out = headers.forwarded.clone();
    if p.base_format == BaseFormat::Anthropic {
        if let Some(beta) = headers.anthropic_beta.as_deref().and_then(|b| p.anthropic_beta.filter(b)) {
            if let Ok(v) = HeaderValue::from_str(&beta) {
                out.insert("anthropic-beta", v);
            }
        }
    }
    out
}

impl Gateway {
    /// Serves one inbound request end to end.
    pub async fn handle(
        &self,
        inbound: Inbound,
        body: Bytes,
        headers: InboundHeaders,
    ) -> Result<ProxyResponse, GatewayError> {
        let snapshot = self.snapshot();
        let obj = RawObject::parse(&body).map_err(invalid_json)?;
        let model = obj.required_str("model").map_err(invalid_json)?;
        let stream = match inbound {
            Inbound::OpenAiEmbeddings | Inbound::AnthropicCountTokens => false,
            _ => obj.optional_bool("stream").map_err(invalid_json)?.unwrap_or(false),
        };
        check_shape(inbound, &obj, stream)?;
        let candidates = candidates(&snapshot, &model, &obj)?;
        let last = candidates.len().saturating_sub(1);
        let mut failures = Vec::new();
        for (i, c) in candidates.iter().enumerate() {
            match self.attempt(inbound, &snapshot, &obj, &body, c, stream, &headers).await {
                Ok(mut resp) => {
                    resp.served_by = c.label();
                    resp.attempts = u32::try_from(i + 1).unwrap_or(u32::MAX);
                    return Ok(resp);
                }
                Err(e) if i < last && falls_back(&e) => {
                    tracing::warn!(candidate = %c.label(), error = %e, "candidate failed; trying the next");
                    failures.push((c.label(), e));
                }
                Err(e) if failures.is_empty() => return Err(e),
                Err(e) => {
                    failures.push((c.label(), e));
                    return Err(GatewayError::AllCandidatesFailed { failures });
                }
            }
        }
        Err(GatewayError::AllCandidatesFailed { failures })
    }

    /// One candidate: plan, send (with the provider's retries), and relay.
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        inbound: Inbound,
        snapshot: &Arc<Snapshot>,
        obj: &RawObject<'_>,
        body: &Bytes,
        candidate: &Candidate,
        stream: bool,
        headers: &InboundHeaders,
    ) -> Result<ProxyResponse, GatewayError> {
        let provider = candidate.provider.clone();
        let upstream_model = candidate.model.as_str();
        match plan(inbound, &provider, stream)? {
            Plan::Passthrough { request_type, dialect } => {
                let url = provider.upstream_url(request_type).ok_or_else(|| no_endpoint(&provider, request_type))?;
                let key = pick_key(&provider, upstream_model)?;
                let upstream_body = Bytes::from(provider.drop_fields.rewrite_raw(obj, upstream_model));
                tracing::debug!(provider = %provider.name, model = upstream_model, stream, url = %crate::redact::url(url.as_str()), "passthrough");
                let resp = send(UpstreamRequest {
                    provider: &provider,
                    method: Method::POST,
                    url,
                    body: Some(upstream_body),
                    key,
                    forwarded: upstream_headers(&provider, headers),
                    accept_event_stream: stream,
                })
                .await?;
                let status = resp.response.status().as_u16();
                let content_type = resp.response.headers().get(http::header::CONTENT_TYPE).cloned();
                if stream && !is_sse(&resp.response) {
                    return Err(not_an_event_stream(&provider, &resp.response));
                }
                if !stream && !is_json_answer(&resp.response) {
                    return Err(not_json(&provider, &resp.response));
                }
                let body = if stream {
                    let upstream: ByteStream = Box::pin(resp.response.bytes_stream().map_err(std::io::Error::other));
                    let hold = Box::new((snapshot.clone(), provider.clone()));
                    ProxyBody::Stream(relay(
                        upstream,
                        RelayMode::Passthrough(dialect),
                        provider.stream_idle_timeout,
                        &provider.name,
                        hold,
                    ))
                } else if resp.response.content_length().is_some_and(|n| n <= SMALL_BODY) {
                    // The usual answer: small and of known length, read in one go.
                    let encoding = resp.response.headers().get(http::header::CONTENT_ENCODING).cloned();
                    let bytes = resp.bytes(&provider.name, SMALL_BODY as usize).await?;
                    match encoding {
                        None => ProxyBody::Full(bytes),
                        Some(e) => ProxyBody::Forward {
                            length: Some(bytes.len() as u64),
                            stream: Box::pin(futures::stream::once(async move { Ok(bytes) })),
                            encoding: Some(e),
                        },
                    }
                } else {
                    // Large or of unknown length: relayed as it arrives, never held whole.
                    let length = resp.response.content_length();
                    let encoding = resp.response.headers().get(http::header::CONTENT_ENCODING).cloned();
                    ProxyBody::Forward { stream: resp.into_stream(&provider.name), length, encoding }
                };
                Ok(ProxyResponse::new(status, content_type, &provider.name, body))
            }
            Plan::LocalCountTokens => {
                let value: Value =
                    serde_json::from_slice(body).map_err(|e| GatewayError::invalid(e.to_string(), None))?;
                let req = anthropic_messages::request_to_canonical(&value).map_err(convert_err)?;
                let tokens = estimate_input_tokens(&req);
                Ok(ProxyResponse::new(
                    200,
                    Some(HeaderValue::from_static("application/json")),
                    &provider.name,
                    ProxyBody::Full(Bytes::from(json!({"input_tokens": tokens}).to_string())),
                ))
            }
            Plan::Translate { request_type } => {
                self.translate(inbound, snapshot, &provider, upstream_model, body, request_type, stream, headers).await
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn translate(
        &self,
        inbound: Inbound,
        snapshot: &Arc<Snapshot>,
        provider: &Arc<Provider>,
        upstream_model: &str,
        body: &[u8],
        request_type: RequestType,
        stream: bool,
        headers: &InboundHeaders,
    ) -> Result<ProxyResponse, GatewayError> {
        let client = match inbound {
            Inbound::OpenAiChat => ClientDialect::OpenAiChat,
            Inbound::OpenAiResponses => ClientDialect::OpenAiResponses,
            Inbound::OpenAiCompletions => ClientDialect::OpenAiCompletions,
            Inbound::AnthropicMessages => ClientDialect::AnthropicMessages,
            Inbound::OpenAiEmbeddings | Inbound::AnthropicCountTokens => {
                return Err(GatewayError::invalid("this request cannot be translated", None))
            }
        };
        let upstream = match provider.base_format {
            BaseFormat::Anthropic => UpstreamDialect::AnthropicMessages,
            BaseFormat::Openai => UpstreamDialect::OpenAiChat,
        };
        let value: Value = serde_json::from_slice(body).map_err(|e| GatewayError::invalid(e.to_string(), None))?;
        let target = AnthropicTarget { default_max_tokens: provider.default_max_tokens };
        let (mut upstream_body, translation) =
            translate_request(client, upstream, &value, upstream_model, &target, now()).map_err(convert_err)?;
        provider.drop_fields.apply(&mut upstream_body);
        let url = provider.upstream_url(request_type).ok_or_else(|| no_endpoint(provider, request_type))?;
        let key = pick_key(provider, upstream_model)?;
        tracing::debug!(provider = %provider.name, model = upstream_model, stream, url = %crate::redact::url(url.as_str()), ?inbound, "translating");
        let resp = send(UpstreamRequest {
            provider,
            method: Method::POST,
            url,
            body: Some(Bytes::from(serde_json::to_vec(&upstream_body).unwrap_or_default())),
            key,
            forwarded: upstream_headers(provider, headers),
            accept_event_stream: stream,
        })
        .await?;
        let status = resp.response.status().as_u16();
        let event_stream = Some(HeaderValue::from_static("text/event-stream"));
        if stream && is_sse(&resp.response) {
            let mode = RelayMode::Transcode {
                decoder: translation.decoder(),
                encoder: translation.encoder(),
                max_event: provider.max_stream_event,
            };
            let upstream: ByteStream = Box::pin(resp.response.bytes_stream().map_err(std::io::Error::other));
            let hold = Box::new((snapshot.clone(), provider.clone()));
            let body = relay(upstream, mode, provider.stream_idle_timeout, &provider.name, hold);
            return Ok(ProxyResponse::new(status, event_stream, &provider.name, ProxyBody::Stream(body)));
        }
        let bad = |message: String| GatewayError::BadUpstreamResponse { provider: provider.name.clone(), message };
        if let Some(encoding) = resp.response.headers().get(http::header::CONTENT_ENCODING) {
            // gzip, deflate and brotli are decoded by the client; anything else cannot be read.
            return Err(bad(format!("response is {}-encoded", encoding.to_str().unwrap_or("?"))));
        }
        let bytes = resp.bytes(&provider.name, provider.max_response_body).await?;
        let upstream_json: Value =
            serde_json::from_slice(&bytes).map_err(|e| bad(format!("response is not JSON: {e}")))?;
        let answer = translation.upstream_response(&upstream_json).map_err(|e| bad(e.message))?;
        let (content_type, out) = if stream {
            // The upstream answered a stream request with one JSON body: replay it as events.
            (event_stream, translation.replay_as_stream(&answer))
        } else {
            (
                Some(HeaderValue::from_static("application/json")),
                Bytes::from(translation.client_response(&answer).to_string()),
            )
        };
        Ok(ProxyResponse::new(status, content_type, &provider.name, ProxyBody::Full(out)))
    }
}

/// Passthrough answers up to this size, with a known length, are read whole
/// (one allocation, no per-chunk relay); larger ones are streamed.
const SMALL_BODY: u64 = 256 * 1024;

/// A 2xx that is not an event stream (a WAF or proxy page, an empty body)
/// answering a stream request: relayed, it would read as an empty, successful stream.
fn not_an_event_stream(provider: &Provider, resp: &reqwest::Response) -> GatewayError {
    let content_type = content_type_of(resp);
    GatewayError::BadUpstreamResponse {
        provider: provider.name.clone(),
        message: format!(
            "it answered a streaming request with HTTP {} and content-type {content_type:?} instead of an event stream",
            resp.status().as_u16()
        ),
    }
}

fn content_type_of(resp: &reqwest::Response) -> &str {
    resp.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("none")
}

/// Whether a non-stream 2xx can be the JSON every API answers with, judged
/// by its headers alone (the body is relayed unread): an empty body or an
/// HTML page is not.
fn is_json_answer(resp: &reqwest::Response) -> bool {
    let json_type = match resp.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(ct) => {
            let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            mime == "application/json" || mime.ends_with("+json")
        }
    };
    json_type && resp.content_length() != Some(0)
}

fn not_json(provider: &Provider, resp: &reqwest::Response) -> GatewayError {
    let content_type = content_type_of(resp);
    GatewayError::BadUpstreamResponse {
        provider: provider.name.clone(),
        message: format!(
            "it answered with HTTP {}, content-type {content_type:?} and {} instead of JSON",
            resp.status().as_u16(),
            if resp.content_length() == Some(0) { "an empty body" } else { "a body" }
        ),
    }
}

fn no_endpoint(provider: &Provider, t: RequestType) -> GatewayError {
    GatewayError::Unsupported {
        provider: provider.name.clone(),
        base_format: provider.base_format.to_string(),
        request_type: t,
        detail: Some(format!("set custom_provider_config.request_path_overrides.{t} to the upstream path or URL")),
    }
}
