//! Errors of the gateway core. The server renders each in the dialect the
//! client spoke; the status, type and param here are dialect-neutral.

use switchyard_protocol::upstream_error::UpstreamErrorDetail;

use crate::request_type::RequestType;

#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    #[error("{message}")]
    InvalidRequest { message: String, param: Option<String> },

    #[error("model {model:?} has no provider prefix: write \"<provider>/<model>\" (configured providers: {})", list(.configured))]
    MissingProviderPrefix { model: String, configured: Vec<String> },

    #[error("provider {provider:?} is not configured (configured providers: {})", list(.configured))]
    UnknownProvider { provider: String, configured: Vec<String> },

    #[error("provider {provider:?} does not allow {request_type} requests (allowed: {})", list(.allowed))]
    RequestTypeNotAllowed { provider: String, request_type: RequestType, allowed: Vec<String> },

    #[error("provider {provider:?} ({base_format} base format) cannot serve {request_type} requests{}", .detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Unsupported { provider: String, base_format: String, request_type: RequestType, detail: Option<String> },

    #[error("provider {provider:?} has no enabled key for model {model:?}")]
    NoKeyForModel { provider: String, model: String },

    /// The upstream answered with an error status; its status is kept, and
    /// the whole seconds it asked to wait (`retry-after`), passed on to the client.
    #[error("provider {provider:?} returned HTTP {status}: {}", .detail.message)]
    Upstream { provider: String, status: u16, detail: UpstreamErrorDetail, retry_after_secs: Option<u64> },

    /// The upstream could not be reached, or went silent, or broke the connection.
    #[error("provider {provider:?} {}: {message}", if *.timed_out { "timed out" } else { "is unreachable" })]
    UpstreamTransport { provider: String, message: String, timed_out: bool },

    #[error("provider {provider:?} sent a response Switchyard could not read: {message}")]
    BadUpstreamResponse { provider: String, message: String },

    /// The provider's OAuth token could not be had: the token URL and the identity provider's words.
    #[error("provider {provider:?}: {message}")]
    UpstreamAuth { provider: String, message: String },

    /// Every candidate (route target, fallbacks) failed; each with its reason.
    #[error("every candidate failed: {}", .failures.iter().map(|(c, e)| format!("{c}: {e}")).collect::<Vec<_>>().join("; "))]
    AllCandidatesFailed { failures: Vec<(String, GatewayError)> },

    /// A body that is read whole (to translate it) passed the provider's cap.
    #[error(
        "provider {provider:?} sent a response larger than {limit} bytes (network_config.max_response_body_size_mb)"
    )]
    UpstreamTooLarge { provider: String, limit: usize },

    /// A lifecycle hook (identify, admit) refused the request: its status and code.
    #[error("{message}")]
    Rejected { status: u16, code: String, message: String },
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

impl GatewayError {
    pub fn invalid(message: impl Into<String>, param: Option<&str>) -> Self {
        Self::InvalidRequest { message: message.into(), param: param.map(str::to_string) }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidRequest { .. }
            | Self::MissingProviderPrefix { .. }
            | Self::RequestTypeNotAllowed { .. }
            | Self::Unsupported { .. } => 400,
            Self::UnknownProvider { .. } => 404,
            Self::NoKeyForModel { .. } => 403,
            Self::Upstream { status, .. } | Self::Rejected { status, .. } => *status,
            // The last candidate's status: what the client would have seen without fallbacks.
            Self::AllCandidatesFailed { failures } => failures.last().map_or(502, |(_, e)| e.status()),
            Self::UpstreamTransport { timed_out: true, .. } => 504,
            Self::UpstreamTransport { .. }
            | Self::BadUpstreamResponse { .. }
            | Self::UpstreamAuth { .. }
            | Self::UpstreamTooLarge { .. } => 502,
        }
    }

    /// The request field at fault, when there is one.
    pub fn param(&self) -> Option<&str> {
        match self {
            Self::InvalidRequest { param, .. } => param.as_deref(),
            Self::MissingProviderPrefix { .. } | Self::UnknownProvider { .. } | Self::NoKeyForModel { .. } => {
                Some("model")
            }
            Self::RequestTypeNotAllowed {
                request_type:
                    RequestType::ChatCompletionStream | RequestType::ResponsesStream | RequestType::TextCompletionStream,
                ..
            } => Some("stream"),
            _ => None,
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::InvalidRequest { .. } => None,
            Self::MissingProviderPrefix { .. } => Some("model_not_routed"),
            Self::UnknownProvider { .. } => Some("provider_not_found"),
            Self::RequestTypeNotAllowed { .. } => Some("request_type_not_allowed"),
            Self::Unsupported { .. } => Some("unsupported_request"),
            Self::NoKeyForModel { .. } => Some("no_key_for_model"),
            Self::Upstream { detail, .. } => detail.code.as_deref().or(Some("upstream_error")),
            Self::UpstreamTransport { timed_out: true, .. } => Some("upstream_timeout"),
            Self::UpstreamTransport { .. } => Some("upstream_unreachable"),
            Self::BadUpstreamResponse { .. } => Some("bad_upstream_response"),
            Self::UpstreamAuth { .. } => Some("upstream_auth_failed"),
            Self::UpstreamTooLarge { .. } => Some("upstream_response_too_large"),
            Self::AllCandidatesFailed { .. } => Some("all_candidates_failed"),
            Self::Rejected { code, .. } => Some(code),
        }
    }

    /// Seconds the upstream asked the client to wait, for the answer's
    /// `retry-after`: the failure the client sees (the last candidate's).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::Upstream { retry_after_secs, .. } => *retry_after_secs,
            Self::AllCandidatesFailed { failures } => failures.last().and_then(|(_, e)| e.retry_after_secs()),
            _ => None,
        }
    }

    /// A low-cardinality label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidRequest { .. } => "invalid_request",
            Self::MissingProviderPrefix { .. } => "model_not_routed",
            Self::UnknownProvider { .. } => "provider_not_found",
            Self::RequestTypeNotAllowed { .. } => "request_type_not_allowed",
            Self::Unsupported { .. } => "unsupported",
            Self::NoKeyForModel { .. } => "no_key",
            Self::Upstream { .. } => "upstream_status",
            Self::UpstreamTransport { .. } => "upstream_transport",
            Self::BadUpstreamResponse { .. } => "bad_upstream_response",
            Self::UpstreamAuth { .. } => "upstream_auth",
            Self::UpstreamTooLarge { .. } => "upstream_too_large",
            Self::AllCandidatesFailed { .. } => "all_candidates_failed",
            Self::Rejected { .. } => "rejected",
        }
    }
}
