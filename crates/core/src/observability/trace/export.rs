//! OTLP/HTTP (protobuf) export: the SDK's batch span processor on its own
//! thread, with a bounded queue (full: spans are dropped and counted, never
//! waited for), sending through the workspace's reqwest client.
//!
//! The batch thread drives an export with a plain `block_on`, outside any
//! tokio runtime, so the HTTP call itself is spawned on the runtime that
//! started the export ([`OnRuntime`]); the thread only waits for it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use opentelemetry::KeyValue;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SpanExporter as _, SpanProcessor};
use opentelemetry_sdk::Resource;

/// The path a base OTLP/HTTP endpoint gets for traces (OTel exporter spec).
pub const TRACES_PATH: &str = "/v1/traces";

/// Where and how to export. `Debug` never shows a header's value.
#[derive(Clone)]
pub struct OtlpConfig {
    /// The full traces URL (see [`traces_url`]).
    pub url: String,
    /// Sent with every export (a collector's auth): the values are secrets.
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    pub service_name: String,
    /// For one export, retries included.
    pub timeout: Duration,
}

impl std::fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpConfig")
            .field("url", &crate::redact::url(&self.url))
            .field("headers", &self.headers.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>())
            .field("service_name", &self.service_name)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("OTLP endpoint {0:?} is not an http:// or https:// URL")]
    Endpoint(String),
    #[error("OTLP header {0:?}: expected NAME=VALUE with a valid header name and value")]
    Header(String),
    #[error("trace export must start inside a tokio runtime")]
    NoRuntime,
    #[error("cannot build the OTLP HTTP client: {0}")]
    Client(String),
    #[error("cannot build the OTLP exporter: {0}")]
    Exporter(String),
}

/// The traces URL for an endpoint: one that already ends in `/v1/traces` is
/// kept, a base gets `/v1/traces` appended (the rule for
/// `OTEL_EXPORTER_OTLP_ENDPOINT`).
pub fn traces_url(endpoint: &str) -> Result<String, TraceError> {
    let url = exact_url(endpoint)?;
    let path = url::Url::parse(&url).map(|u| u.path().trim_end_matches('/').to_string()).unwrap_or_default();
    if path.ends_with(TRACES_PATH) {
        return Ok(url.trim_end_matches('/').to_string());
    }
    Ok(format!("{}{TRACES_PATH}", url.trim_end_matches('/')))
}

/// A signal-specific endpoint (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): used as
/// it is, once it is known to be an http(s) URL.
pub fn exact_url(endpoint: &str) -> Result<String, TraceError> {
    let endpoint = endpoint.trim();
    let bad = || TraceError::Endpoint(crate::redact::url(endpoint));
    let parsed = url::Url::parse(endpoint).map_err(|_| bad())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(bad());
    }
    Ok(endpoint.to_string())
}

/// `NAME=VALUE` (the value may hold `=`); an error names the header, never its value.
pub fn parse_header(raw: &str) -> Result<(http::HeaderName, http::HeaderValue), TraceError> {
    let (name, value) = raw.split_once('=').ok_or_else(|| TraceError::Header(String::new()))?;
    let name = name.trim();
    let header = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| TraceError::Header(name.to_string()))?;
    let mut value = http::HeaderValue::from_str(value.trim()).map_err(|_| TraceError::Header(name.to_string()))?;
    value.set_sensitive(true);
    Ok((header, value))
}

/// The running export. Dropping it without [`OtlpExport::shutdown`] loses
/// the spans still queued.
pub struct OtlpExport {
    processor: Arc<BatchSpanProcessor>,
}

impl OtlpExport {
    /// Starts the batch thread. Must be called inside a tokio runtime, which
    /// then carries the export requests.
    pub fn start(config: &OtlpConfig) -> Result<Self, TraceError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| TraceError::NoRuntime)?;
        crate::upstream::client::install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeout.min(Duration::from_secs(5)))
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TraceError::Client(e.to_string()))?;
        // The exporter takes text; the values were validated by `parse_header`.
        let headers: HashMap<String, String> = config
            .headers
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let mut exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(config.url.clone())
            .with_timeout(config.timeout)
            .with_headers(headers)
            .with_http_client(OnRuntime { client, runtime })
            .build()
            .map_err(|e| TraceError::Exporter(e.to_string()))?;
        let resource = Resource::builder()
            .with_service_name(config.service_name.clone())
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .build();
        exporter.set_resource(&resource);
        // Queue size, batch size and delay: the SDK's defaults (2048, 512,
        // 5 s), or `OTEL_BSP_*` from the environment.
        let processor =
            BatchSpanProcessor::builder(exporter).with_batch_config(BatchConfigBuilder::default().build()).build();
        Ok(Self { processor: Arc::new(processor) })
    }

    /// What [`super::RequestTracer`] hands its spans to.
    pub fn processor(&self) -> Arc<dyn SpanProcessor> {
        self.processor.clone()
    }

    /// Exports what is queued now (waits for it, off the runtime's threads).
    pub async fn flush(&self) {
        let processor = self.processor.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || processor.force_flush()).await {
            tracing::warn!("trace export: flush failed: {e}");
        }
    }

    /// Exports what is queued and stops the batch thread (at most `timeout`).
    pub async fn shutdown(&self, timeout: Duration) {
        let processor = self.processor.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || processor.shutdown_with_timeout(timeout)).await {
            tracing::warn!("trace export: shutdown: {e}");
        }
    }
}

/// The workspace reqwest client, its requests run on a tokio runtime (the
/// batch thread has none).
#[derive(Debug, Clone)]
struct OnRuntime {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

/// A collector's answer is a small protobuf message; more is not read.
const MAX_RESPONSE: usize = 64 * 1024;

#[async_trait::async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let mut response = client.execute(request).await?;
            let status = response.status();
            let headers = std::mem::take(response.headers_mut());
            let mut body = bytes::BytesMut::new();
            while let Some(chunk) = response.chunk().await? {
                if body.len() + chunk.len() > MAX_RESPONSE {
                    break;
                }
                body.extend_from_slice(&chunk);
            }
            Ok::<_, reqwest::Error>((status, headers, body.freeze()))
        });
        let (status, headers, body) = sent.await??;
        let mut response = Response::builder().status(status).body(body)?;
        *response.headers_mut() = headers;
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_endpoint_gets_the_traces_path_and_a_full_one_is_kept() {
        assert_eq!(traces_url("http://collector:4318").unwrap(), "http://collector:4318/v1/traces");
        assert_eq!(traces_url("http://collector:4318/").unwrap(), "http://collector:4318/v1/traces");
        assert_eq!(traces_url("https://otlp.example/otlp").unwrap(), "https://otlp.example/otlp/v1/traces");
        assert_eq!(traces_url("http://collector:4318/v1/traces").unwrap(), "http://collector:4318/v1/traces");
        assert!(traces_url("collector:4318").is_err());
        assert!(traces_url("grpc://collector:4317").is_err());
        assert_eq!(exact_url("http://collector:4318/custom").unwrap(), "http://collector:4318/custom");
    }

    #[test]
    fn a_bad_header_is_named_without_its_value() {
        let (name, value) = parse_header("Authorization=Basic abc=").unwrap();
        assert_eq!(name, "authorization");
        assert_eq!(value, "Basic abc=");
        assert!(value.is_sensitive());
        let e = parse_header("x-token=bad\nsecret-value").unwrap_err().to_string();
        assert!(e.contains("x-token") && !e.contains("secret-value"), "{e}");
        assert!(parse_header("no-equals-sign").is_err());
    }

    #[test]
    fn debug_shows_header_names_only() {
        let config = OtlpConfig {
            url: "http://user:pw@collector:4318/v1/traces".into(),
            headers: vec![parse_header("x-api-key=hunter2").unwrap()],
            service_name: "switchyard".into(),
            timeout: Duration::from_secs(10),
        };
        let shown = format!("{config:?}");
        assert!(shown.contains("x-api-key") && !shown.contains("hunter2") && !shown.contains(":pw@"), "{shown}");
    }
}
