//! The process's own logs (text or JSON lines on stderr) and the optional
//! OTLP trace export, as `serve` sets them up.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, ValueEnum};
use switchyard_core::observability::trace::{
    exact_url, parse_header, traces_url, OtlpConfig, OtlpExport, RequestTracer, TraceError,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines; coloured only when stderr is a terminal.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// A command-line value that is a secret: `Debug` never shows it, and clap
/// never rejects it (its error would print the value).
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    fn parse(s: &str) -> Result<Self, std::convert::Infallible> {
        Ok(Self(s.to_string()))
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Args)]
pub struct TelemetryArgs {
    /// Log line format on stderr: `text` (ANSI colours only on a terminal) or `json` (one object per line).
    #[arg(long, env = "SWITCHYARD_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Export traces over OTLP/HTTP (protobuf) to this collector: a base URL
    /// (`http://collector:4318`, `/v1/traces` is appended) or the full traces URL.
    /// Unset: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (as is), then OTEL_EXPORTER_OTLP_ENDPOINT (a base); none: no traces.
    #[arg(long, env = "SWITCHYARD_OTLP_ENDPOINT", value_name = "URL")]
    pub otlp_endpoint: Option<String>,
    /// A header sent with every export (a collector's auth), NAME=VALUE; repeat for more. Values are never
    /// logged; prefer the variable (comma-separated): a command-line value shows in `ps`.
    #[arg(long = "otlp-header", env = "SWITCHYARD_OTLP_HEADERS", value_name = "NAME=VALUE", value_delimiter = ',',
          hide_env_values = true, value_parser = Secret::parse)]
    pub otlp_headers: Vec<Secret>,
    /// The `service.name` of the exported spans.
    #[arg(long, env = "OTEL_SERVICE_NAME", default_value = "switchyard")]
    pub otlp_service_name: String,
    /// Seconds one export may take, retries included; a slow collector never slows a request.
    #[arg(long, env = "SWITCHYARD_OTLP_TIMEOUT_SECS", default_value_t = 10)]
    pub otlp_timeout_secs: u64,
}

/// Logs on stderr, filtered by `filter` (EnvFilter syntax; `info` when it does not parse).
pub fn init_logs(filter: &str, format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        // The request's span (`request_id`) rides along as `span`.
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).with_span_list(false).init(),
    }
}

/// Where traces go, by precedence: the flag (or SWITCHYARD_OTLP_ENDPOINT),
/// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, OTEL_EXPORTER_OTLP_ENDPOINT as a base.
pub fn traces_endpoint(flag: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Result<Option<String>, TraceError> {
    let set = |v: Option<String>| v.filter(|v| !v.trim().is_empty());
    if let Some(endpoint) = flag.filter(|v| !v.trim().is_empty()) {
        return traces_url(endpoint).map(Some);
    }
    if let Some(endpoint) = set(env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")) {
        return exact_url(&endpoint).map(Some);
    }
    set(env("OTEL_EXPORTER_OTLP_ENDPOINT")).map(|e| traces_url(&e)).transpose()
}

/// The running export and its hook, when an endpoint is configured.
pub struct Traces {
    export: OtlpExport,
    tracer: Arc<RequestTracer>,
}

impl Traces {
    /// `None` when no endpoint is configured. Inside the tokio runtime.
    pub fn start(args: &TelemetryArgs) -> anyhow::Result<Option<Self>> {
        let Some(url) = traces_endpoint(args.otlp_endpoint.as_deref(), |k| std::env::var(k).ok())? else {
            return Ok(None);
        };
        if std::env::args().any(|a| a == "--otlp-header" || a.starts_with("--otlp-header=")) {
            tracing::warn!(
                "--otlp-header on the command line is visible to every user in `ps`; set SWITCHYARD_OTLP_HEADERS instead"
            );
        }
        let headers = args.otlp_headers.iter().map(|h| parse_header(&h.0)).collect::<Result<Vec<_>, _>>()?;
        let config = OtlpConfig {
            url,
            headers,
            service_name: args.otlp_service_name.clone(),
            timeout: Duration::from_secs(args.otlp_timeout_secs.max(1)),
        };
        let export = OtlpExport::start(&config)?;
        let tracer = Arc::new(RequestTracer::new(export.processor()));
        // The URL's userinfo and query values are masked; header values never shown.
        tracing::info!(config = ?config, "exporting traces over OTLP/HTTP");
        Ok(Some(Self { export, tracer }))
    }

    pub fn hook(&self) -> Arc<RequestTracer> {
        self.tracer.clone()
    }

    /// Sends what is queued (at most a few seconds) and stops the export.
    pub async fn shutdown(&self) {
        self.export.shutdown(Duration::from_secs(5)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn the_flag_wins_then_the_traces_variable_then_the_base_one() {
        let all = env(&[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://signal:4318/custom"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318"),
        ]);
        assert_eq!(traces_endpoint(Some("http://flag:4318"), &all).unwrap().unwrap(), "http://flag:4318/v1/traces");
        assert_eq!(traces_endpoint(None, &all).unwrap().unwrap(), "http://signal:4318/custom");
        let base = env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://base:4318/")]);
        assert_eq!(traces_endpoint(None, &base).unwrap().unwrap(), "http://base:4318/v1/traces");
        assert_eq!(traces_endpoint(None, env(&[])).unwrap(), None);
        assert_eq!(traces_endpoint(Some(""), env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")])).unwrap(), None);
        assert!(traces_endpoint(Some("collector:4318"), env(&[])).is_err());
    }

    #[test]
    fn header_values_do_not_show_in_the_arguments_debug() {
        let shown = format!("{:?}", Secret::parse("authorization=Bearer s3cret").unwrap());
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
