//! Sends one logical request upstream, retrying per the provider's policy.
//! Retries happen only before anything has been relayed to the client: the
//! caller gets a response only once its status is final.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use switchyard_protocol::upstream_error::parse_status_error;

use super::oauth::TokenSource;
use super::retry::{is_retryable_status, retry_after, MAX_RETRY_AFTER};
use crate::byte_stream::ByteStream;
use crate::config::AnthropicAuth;
use crate::error::GatewayError;
use crate::keys::ResolvedKey;
use crate::provider::Provider;
use crate::request_type::BaseFormat;

/// Anthropic API version sent to anthropic-base upstreams.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

pub struct UpstreamRequest<'a> {
    pub provider: &'a Provider,
    pub method: Method,
    /// Parsed once per provider, not per request.
    pub url: reqwest::Url,
    pub body: Option<Bytes>,
    pub key: Option<&'a ResolvedKey>,
    /// Client headers that passed the allow-list.
    pub forwarded: HeaderMap,
    pub accept_event_stream: bool,
}

/// A successful (2xx) upstream response, body not yet read.
pub struct UpstreamResponse {
    pub response: reqwest::Response,
    /// Deadline for reading a non-streaming body (the request timeout).
    pub deadline: Instant,
}

impl UpstreamResponse {
    /// Reads the whole body within the request deadline, refusing one larger
    /// than `limit` bytes (a translated body is parsed whole, so it is capped).
    pub async fn bytes(self, provider: &str, limit: usize) -> Result<Bytes, GatewayError> {
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, read_capped(self.response, limit)).await {
            Ok(Ok(Some(b))) => Ok(b),
            Ok(Ok(None)) => Err(GatewayError::UpstreamTooLarge { provider: provider.to_string(), limit }),
            Ok(Err(e)) => Err(transport(provider, e)),
            Err(_) => Err(GatewayError::UpstreamTransport {
                provider: provider.to_string(),
                message: "response body did not arrive within the request timeout".into(),
                timed_out: true,
            }),
        }
    }

    /// The body as it arrives, for relaying without holding it whole; it fails
    /// (rather than ending early) when the request deadline passes.
    pub fn into_stream(self, provider: &str) -> ByteStream {
        let deadline = tokio::time::Instant::from_std(self.deadline);
        Box::pin(DeadlineStream {
            body: Box::pin(self.response.bytes_stream()),
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            provider: provider.to_string(),
            done: false,
        })
    }
}

/// An upstream body with one timer for the whole of it (not one per chunk).
struct DeadlineStream {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<Bytes>> + Send>>,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
    provider: String,
    done: bool,
}

impl futures::Stream for DeadlineStream {
    type Item = std::io::Result<Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::future::Future;
        use std::task::Poll;
        if self.done {
            return Poll::Ready(None);
        }
        match self.body.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => return Poll::Ready(Some(Ok(chunk))),
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                let message = transport(&self.provider, e).to_string();
                return Poll::Ready(Some(Err(std::io::Error::other(message))));
            }
            Poll::Ready(None) => {
                self.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.done = true;
            let message =
                format!("provider {:?}: response body did not arrive within the request timeout", self.provider);
            return Poll::Ready(Some(Err(std::io::Error::other(message))));
        }
        Poll::Pending
    }
}

/// The body, or `None` once it passes `limit` bytes (read no further).
async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Option<Bytes>, reqwest::Error> {
    match response.content_length() {
        Some(n) if n > limit as u64 => return Ok(None),
        // Known and within the cap: reqwest's own read, which avoids a copy.
        Some(_) => return response.bytes().await.map(Some),
        None => {}
    }
    let mut out = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if out.len() + chunk.len() > limit {
            return Ok(None);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Some(out.freeze()))
}

/// Most bytes of an upstream error body read: enough for any error message.
const ERROR_BODY_LIMIT: usize = 256 * 1024;

fn transport(provider: &str, e: reqwest::Error) -> GatewayError {
    // reqwest errors name the URL, which may hold credentials and is internal:
    // clients are told the provider, admins find the (redacted) URL in the debug log.
    let timed_out = e.is_timeout();
    GatewayError::UpstreamTransport { provider: provider.to_string(), message: error_chain(e), timed_out }
}

/// A reqwest error and its causes, `: `-joined, without the URL (it may hold credentials).
pub(super) fn error_chain(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

fn build(req: &UpstreamRequest<'_>, token: Option<&HeaderValue>) -> reqwest::RequestBuilder {
    let p = req.provider;
    let mut headers = req.forwarded.clone();
    headers.insert(
        http::header::ACCEPT,
        HeaderValue::from_static(if req.accept_event_stream { "text/event-stream" } else { "application/json" }),
    );
    // Bodies are relayed and parsed as they come: ask for them uncompressed (one
    // that arrives gzip/deflate/brotli-encoded anyway is decoded by the client).
    headers.insert(http::header::ACCEPT_ENCODING, HeaderValue::from_static("identity"));
    if req.body.is_some() {
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if p.base_format == BaseFormat::Anthropic {
        headers.insert("anthropic-version", HeaderValue::from_static(ANTHROPIC_VERSION));
    }
    if let Some(key) = req.key {
        let (name, value) = match (p.base_format, p.anthropic_auth) {
            (BaseFormat::Anthropic, AnthropicAuth::XApiKey) => {
                (http::HeaderName::from_static("x-api-key"), key.secret.clone())
            }
            _ => (http::header::AUTHORIZATION, format!("Bearer {}", key.secret)),
        };
        if let Ok(mut v) = HeaderValue::from_str(&value) {
            v.set_sensitive(true);
            headers.insert(name, v);
        }
    }
    if let Some(token) = token {
        headers.insert(http::header::AUTHORIZATION, token.clone());
    }
    // Extra headers are applied last: an explicit per-provider header wins over
    // the key's generated auth header (documented in the README).
    for (name, value) in &p.extra_headers {
        headers.insert(name.clone(), value.clone());
    }
    let mut b = p.http.request(req.method.clone(), req.url.clone()).headers(headers);
    if let Some(body) = &req.body {
        b = b.body(body.clone());
    }
    b
}

async fn oauth_token(p: &Provider, source: &std::sync::Arc<TokenSource>) -> Result<HeaderValue, GatewayError> {
    source.bearer().await.map_err(|e| GatewayError::UpstreamAuth { provider: p.name.clone(), message: e.to_string() })
}

/// Sends with the provider's retry policy; `retries` counts the retries made.
pub async fn send(req: UpstreamRequest<'_>, retries: &mut u32) -> Result<UpstreamResponse, GatewayError> {
    let p = req.provider;
    let mut attempt: u32 = 0;
    // A refused token is replaced once per request, outside the retry policy.
    let mut token_renewed = false;
    loop {
        // Read at each attempt (a cache read): a retry after a long backoff must not send an expired token.
        let token = match &p.oauth {
            Some(source) => Some(oauth_token(p, source).await?),
            None => None,
        };
        let started = Instant::now();
        let deadline = started + p.request_timeout;
        let outcome = tokio::time::timeout(p.request_timeout, build(&req, token.as_ref()).send()).await;
        let retry_delay: Duration;
        match outcome {
            Err(_) => {
                return Err(GatewayError::UpstreamTransport {
                    provider: p.name.clone(),
                    message: format!(
                        "no response within {} s (default_request_timeout_in_seconds)",
                        p.request_timeout.as_secs()
                    ),
                    timed_out: true,
                })
            }
            Ok(Err(e)) => {
                if !e.is_connect() || attempt >= p.retry.max_retries {
                    tracing::debug!(provider = %p.name, url = %crate::redact::url(req.url.as_str()), "upstream request failed");
                    return Err(transport(&p.name, e));
                }
                retry_delay = p.retry.backoff(attempt, &mut rand::rng());
                let e = e.without_url();
                tracing::warn!(provider = %p.name, attempt = attempt + 1, error = %e, delay_ms = crate::log_fields::log_ms(retry_delay), "upstream connect failed; retrying");
            }
            Ok(Ok(resp)) => {
                let reason = resp.status().canonical_reason();
                let status = resp.status().as_u16();
                if resp.status().is_success() {
                    return Ok(UpstreamResponse { response: resp, deadline });
                }
                if let (401, false, Some(source), Some(used)) = (status, token_renewed, &p.oauth, &token) {
                    // Revoked or expired early: the identity provider is asked again, once.
                    tracing::info!(provider = %p.name, "upstream refused the OAuth token; fetching a new one");
                    source.invalidate(used);
                    drop(resp);
                    token_renewed = true;
                    *retries += 1;
                    continue;
                }
                let hinted = retry_after(resp.headers());
                let can_retry = is_retryable_status(status)
                    && attempt < p.retry.max_retries
                    && hinted.is_none_or(|d| d <= MAX_RETRY_AFTER);
                if !can_retry {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    let body = match tokio::time::timeout(remaining, read_capped(resp, ERROR_BODY_LIMIT)).await {
                        Ok(Ok(Some(b))) => b,
                        _ => Bytes::new(),
                    };
                    return Err(GatewayError::Upstream {
                        provider: p.name.clone(),
                        status,
                        detail: parse_status_error(&body, reason),
                        // Rounded up: a client told 0 s would retry at once.
                        retry_after_secs: hinted.map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0)),
                    });
                }
                retry_delay = hinted.unwrap_or_else(|| p.retry.backoff(attempt, &mut rand::rng()));
                tracing::warn!(provider = %p.name, attempt = attempt + 1, status, delay_ms = crate::log_fields::log_ms(retry_delay), "upstream returned a retryable status; retrying");
                drop(resp);
            }
        }
        attempt += 1;
        *retries += 1;
        tokio::time::sleep(retry_delay).await;
    }
}
