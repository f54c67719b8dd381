//! The send and relay phases of one attempt: one [`Call`] per candidate,
//! one [`send_and_relay`] for passthrough and translation alike.

use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use http::{HeaderMap, HeaderValue, Method};
use serde_json::Value;
use switchyard_protocol::translate::Translation;

use crate::attribution::{request_tags, REQUEST_TAGS};
use crate::byte_stream::ByteStream;
use crate::error::GatewayError;
use crate::inbound::{Inbound, InboundHeaders};
use crate::lifecycle::{RequestContext, Settlement};
use crate::provider::Provider;
use crate::relay::{relay, RelayMode};
use crate::request_type::{BaseFormat, RequestType};
use crate::response::{ProxyBody, ProxyResponse};
use crate::snapshot::{pick_key, Snapshot};
use crate::tap::{drain_on_disconnect, settle_whole_body, tapped_forward, UsageTap};
use crate::upstream::{send, UpstreamRequest, UpstreamResponse};
use switchyard_protocol::dialect::Dialect;

/// How the answer goes back to the client.
pub(crate) enum Relaying {
    /// Bytes as the upstream sent them; `strip_usage`: the gateway asked for
    /// stream usage the client did not, and hides it again.
    Passthrough { dialect: Dialect, strip_usage: bool },
    /// Through the canonical model, back into the client's dialect.
    Translate(Translation),
}

/// One upstream call, built once after *plan*.
pub(crate) struct Call<'a> {
    pub snapshot: &'a Arc<Snapshot>,
    pub provider: &'a Arc<Provider>,
    /// The model name the upstream is sent.
    pub model: &'a str,
    pub inbound: Inbound,
    pub request_type: RequestType,
    pub stream: bool,
    pub headers: &'a InboundHeaders,
    pub body: Bytes,
    pub relaying: Relaying,
}

/// An attempt that failed before any byte reached the client; the
/// settlement comes back for the next candidate.
pub(crate) struct Failed {
    pub error: GatewayError,
    pub settlement: Settlement,
}

impl Failed {
    pub fn boxed(error: GatewayError, settlement: Settlement) -> Box<Self> {
        Box::new(Self { error, settlement })
    }
}

/// Passthrough answers up to this size, with a known length, are read whole
/// (one allocation, no per-chunk relay); larger ones are streamed.
const SMALL_BODY: u64 = 256 * 1024;

pub(crate) async fn send_and_relay(call: Call<'_>, mut settlement: Settlement) -> Result<ProxyResponse, Box<Failed>> {
    let mut retries = 0;
    let sent = send_phase(&call, &settlement.ctx, &mut retries).await;
    settlement.ctx.retries += retries;
    let resp = match sent {
        Ok(r) => r,
        Err(error) => return Err(Failed::boxed(error, settlement)),
    };
    relay_phase(call, resp, settlement).await
}

async fn send_phase(
    call: &Call<'_>,
    ctx: &RequestContext,
    retries: &mut u32,
) -> Result<UpstreamResponse, GatewayError> {
    let p = call.provider;
    let mut forwarded = upstream_headers(p, call.headers, &ctx.upstream_headers);
    if p.request_tags {
        // Per candidate: a fallback to another vendor is not told who the caller is.
        forwarded.insert(REQUEST_TAGS.clone(), request_tags(call.headers.request_tags.as_deref(), ctx)?);
    }
    let url = p.upstream_url(call.request_type, call.model).ok_or_else(|| no_endpoint(p, call.request_type))?;
    let key = pick_key(p, call.model)?;
    tracing::debug!(provider = %p.name, model = call.model, stream = call.stream, url = %crate::redact::url(url.as_str()),
        translated = matches!(call.relaying, Relaying::Translate(_)), "sending");
    let resp = send(
        UpstreamRequest {
            provider: p,
            method: Method::POST,
            url,
            body: Some(call.body.clone()),
            key,
            forwarded,
            accept_event_stream: call.stream,
        },
        retries,
    )
    .await?;
    if let Relaying::Passthrough { .. } = call.relaying {
        if call.stream && !is_sse(&resp.response) {
            return Err(not_an_event_stream(p, &resp.response));
        }
        if !call.stream && !is_json_answer(&resp.response) {
            return Err(not_json(p, &resp.response));
        }
    }
    Ok(resp)
}

async fn relay_phase(
    call: Call<'_>,
    resp: UpstreamResponse,
    mut settlement: Settlement,
) -> Result<ProxyResponse, Box<Failed>> {
    let p = call.provider;
    let status = resp.response.status().as_u16();
    settlement.status = status;
    // Keeps the snapshot (and the provider's pool) alive while the body streams.
    let hold = || Box::new((call.snapshot.clone(), p.clone()));
    let event_stream = || Some(HeaderValue::from_static("text/event-stream"));
    let drain = settlement.ctx.drain_on_disconnect;
    match call.relaying {
        Relaying::Passthrough { dialect, strip_usage } => {
            let content_type = resp.response.headers().get(http::header::CONTENT_TYPE).cloned();
            let body = if call.stream {
                let upstream: ByteStream = Box::pin(resp.response.bytes_stream().map_err(std::io::Error::other));
                let tap = Box::new(UsageTap::passthrough(settlement, dialect, strip_usage));
                let relayed =
                    relay(upstream, RelayMode::Passthrough(dialect), p.stream_idle_timeout, &p.name, hold(), tap);
                ProxyBody::Stream(drain_on_disconnect(relayed, drain))
            } else if resp.response.content_length().is_some_and(|n| n <= SMALL_BODY) {
                // The usual answer: small and of known length, read in one go.
                let encoding = resp.response.headers().get(http::header::CONTENT_ENCODING).cloned();
                let bytes = match resp.bytes(&p.name, SMALL_BODY as usize).await {
                    Ok(b) => b,
                    Err(error) => return Err(Failed::boxed(error, settlement)),
                };
                match encoding {
                    None => {
                        settle_whole_body(settlement, call.inbound, &bytes);
                        ProxyBody::Full(bytes)
                    }
                    Some(e) => {
                        // Still compressed (a coding the client could not undo): relayed unread.
                        let stream: ByteStream = Box::pin(futures::stream::once(async move { Ok(bytes) }));
                        let length = None;
                        ProxyBody::Forward {
                            stream: tapped_forward(stream, call.inbound, settlement),
                            length,
                            encoding: Some(e),
                        }
                    }
                }
            } else {
                // Large or of unknown length: relayed as it arrives, never held whole.
                let length = resp.response.content_length();
                let encoding = resp.response.headers().get(http::header::CONTENT_ENCODING).cloned();
                let stream = tapped_forward(resp.into_stream(&p.name), call.inbound, settlement);
                ProxyBody::Forward { stream: drain_on_disconnect(stream, drain), length, encoding }
            };
            Ok(ProxyResponse::new(status, content_type, &p.name, body))
        }
        Relaying::Translate(translation) => {
            if call.stream && is_sse(&resp.response) {
                let mode = RelayMode::Transcode {
                    decoder: translation.decoder(),
                    encoder: translation.encoder(),
                    max_event: p.max_stream_event,
                };
                let upstream: ByteStream = Box::pin(resp.response.bytes_stream().map_err(std::io::Error::other));
                let tap = Box::new(UsageTap::transcode(settlement));
                let body =
                    drain_on_disconnect(relay(upstream, mode, p.stream_idle_timeout, &p.name, hold(), tap), drain);
                return Ok(ProxyResponse::new(status, event_stream(), &p.name, ProxyBody::Stream(body)));
            }
            let answer = match read_translated(p, resp, &translation).await {
                Ok(a) => a,
                Err(error) => return Err(Failed::boxed(error, settlement)),
            };
            let m = &mut settlement.meter;
            m.report(&answer.usage, answer.usage.total_input() > 0, answer.usage.output_tokens > 0);
            m.finish_reason =
                Some(switchyard_protocol::anthropic::response::stop_reason_str(answer.stop_reason).into());
            m.text_bytes = answer_text_bytes(&answer);
            m.ttft = Some(settlement.ctx.elapsed());
            let (content_type, out) = if call.stream {
                // The upstream answered a stream request with one JSON body: replay it as events.
                (event_stream(), translation.replay_as_stream(&answer))
            } else {
                (
                    Some(HeaderValue::from_static("application/json")),
                    Bytes::from(translation.client_response(&answer).to_string()),
                )
            };
            if let Some(c) = settlement.capture.as_mut() {
                // A replayed stream is stored as the message it replays.
                match call.stream {
                    true => c.body(translation.client_response(&answer).to_string().as_bytes()),
                    false => c.body(&out),
                }
            }
            settlement.finish(crate::usage::End::Completed, None);
            Ok(ProxyResponse::new(status, content_type, &p.name, ProxyBody::Full(out)))
        }
    }
}

async fn read_translated(
    p: &Provider,
    resp: UpstreamResponse,
    translation: &Translation,
) -> Result<switchyard_protocol::canonical::Response, GatewayError> {
    let bad = |message: String| GatewayError::BadUpstreamResponse { provider: p.name.clone(), message };
    if let Some(encoding) = resp.response.headers().get(http::header::CONTENT_ENCODING) {
        // gzip, deflate and brotli are decoded by the client; anything else cannot be read.
        return Err(bad(format!("response is {}-encoded", encoding.to_str().unwrap_or("?"))));
    }
    let bytes = resp.bytes(&p.name, p.max_response_body).await?;
    let upstream_json: Value = serde_json::from_slice(&bytes).map_err(|e| bad(format!("response is not JSON: {e}")))?;
    translation.upstream_response(&upstream_json).map_err(|e| bad(e.message))
}

fn answer_text_bytes(answer: &switchyard_protocol::canonical::Response) -> usize {
    use switchyard_protocol::canonical::Block;
    answer
        .content
        .iter()
        .map(|b| match b {
            Block::Text(t) => t.text.len(),
            Block::ToolCall(c) => c.arguments.len(),
            Block::Thinking { text, .. } => text.len(),
            _ => 0,
        })
        .sum()
}

fn is_sse(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// The client's allow-listed headers, then what the lifecycle's `attempt`
/// hooks set for this call (a tracer's `traceparent` replaces the client's).
fn upstream_headers(p: &Provider, headers: &InboundHeaders, hooked: &HeaderMap) -> HeaderMap {
    let mut out = headers.forwarded.clone();
    for (name, value) in hooked {
        out.insert(name.clone(), value.clone());
    }
    if p.base_format == BaseFormat::Anthropic {
        if let Some(beta) = headers.anthropic_beta.as_deref().and_then(|b| p.anthropic_beta.filter(b)) {
            if let Ok(v) = HeaderValue::from_str(&beta) {
                out.insert("anthropic-beta", v);
            }
        }
    }
    out
}

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

pub(crate) fn no_endpoint(provider: &Provider, t: RequestType) -> GatewayError {
    GatewayError::Unsupported {
        provider: provider.name.clone(),
        base_format: provider.base_format.to_string(),
        request_type: t,
        detail: Some(format!("set custom_provider_config.request_path_overrides.{t} to the upstream path or URL")),
    }
}
