//! Configuration: the JSON file format (Bifrost's field names), its types, and
//! strict validation that reports every problem at once with its JSON path.

mod diagnostic;
mod env;
mod governance;
mod logging;
mod network;
mod oauth;
mod parse;
mod reader;
mod routes;

use std::collections::BTreeMap;

use serde::Serialize;

pub use diagnostic::{ConfigDiagnostic, ConfigError, Severity};
pub use env::{env_reference, resolve as env_resolve, EnvResolver, ProcessEnv};
pub use governance::{check_price, GovernanceConfig, GovernanceSettings, Price, UnknownPrice};
pub use logging::LoggingConfig;
pub use oauth::{ClientAuth, OAuthConfig};
pub use routes::{RouteConfig, RouteTarget};

use crate::request_type::{BaseFormat, RequestType};

/// Defaults chosen for LLM traffic: long generations must not hit a short wall.
pub mod defaults {
    /// Whole non-streaming request, and time to the first byte of a stream.
    pub const REQUEST_TIMEOUT_SECS: u64 = 600;
    /// Longest silence allowed between two chunks of a stream.
    pub const STREAM_IDLE_TIMEOUT_SECS: u64 = 300;
    pub const MAX_RETRIES: u32 = 2;
    pub const RETRY_BACKOFF_INITIAL_MS: u64 = 500;
    pub const RETRY_BACKOFF_MAX_MS: u64 = 8_000;
    pub const KEEP_ALIVE_TIMEOUT_SECS: u64 = 90;
    pub const MAX_IDLE_CONNS_PER_HOST: usize = 256;
    pub const MAX_REQUEST_BODY_MB: u64 = 32;
    /// Translated (whole-read) upstream bodies.
    pub const MAX_RESPONSE_BODY_MB: u64 = 64;
    /// One SSE event held while translating (base64 images fit).
    pub const MAX_STREAM_EVENT_KB: u64 = 8 * 1024;
    pub const KEY_WEIGHT: f64 = 1.0;
    /// `max_tokens` for Anthropic when a client (OpenAI dialects) gave none.
    pub const DEFAULT_MAX_TOKENS: u32 = 4096;
}

/// Everything the config file holds that Switchyard uses.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GatewayConfig {
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Provider used when a model has no known `<provider>/` prefix (for clients
    /// that cannot prefix, such as a coding agent's background model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_provider: Option<String>,
    #[serde(skip_serializing_if = "ClientConfig::is_default")]
    pub client: ClientConfig,
    /// Virtual models: a name clients send, resolved to weighted targets and fallbacks.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub routes: BTreeMap<String, RouteConfig>,
    /// Governance settings and prices (keys, teams and policies are in the store).
    #[serde(skip_serializing_if = "GovernanceConfig::is_default")]
    pub governance: GovernanceConfig,
    /// The request log's payloads, redaction and retention.
    #[serde(skip_serializing_if = "LoggingConfig::is_default")]
    pub logging: LoggingConfig,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClientConfig {
    /// Largest accepted request body; `None` = the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_request_body_size_mb: Option<u64>,
}

impl ClientConfig {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KeyConfig>,
    pub network_config: NetworkConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_provider_config: Option<CustomProviderConfig>,
    /// Switchyard's own per-provider request adjustments (not a Bifrost field).
    #[serde(skip_serializing_if = "RequestShaping::is_default")]
    pub request_shaping: RequestShaping,
}

/// How requests are adjusted for one upstream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestShaping {
    /// Request fields removed before sending: `store`, `tools[].function.strict`, …
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drop_fields: Vec<String>,
    /// `max_tokens` sent to an anthropic-base upstream when the client gave none.
    pub default_max_tokens: u32,
    /// Which client `anthropic-beta` values reach an anthropic-base upstream.
    pub anthropic_beta: BetaPolicy,
    /// How a key is sent to an anthropic-base upstream.
    pub anthropic_auth: AnthropicAuth,
}

impl Default for RequestShaping {
    fn default() -> Self {
        Self {
            drop_fields: Vec::new(),
            default_max_tokens: defaults::DEFAULT_MAX_TOKENS,
            anthropic_beta: BetaPolicy::Forward,
            anthropic_auth: AnthropicAuth::XApiKey,
        }
    }
}

impl RequestShaping {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum BetaPolicy {
    /// `"forward"` or `"drop"`.
    Forward,
    Drop,
    /// Only these beta names pass.
    Allow(Vec<String>),
}

impl BetaPolicy {
    /// Filters a client's comma-separated `anthropic-beta` header.
    pub fn filter(&self, header: &str) -> Option<String> {
        let kept: Vec<&str> = header
            .split(',')
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .filter(|b| match self {
                Self::Forward => true,
                Self::Drop => false,
                Self::Allow(list) => list.iter().any(|a| a == b),
            })
            .collect();
        (!kept.is_empty()).then(|| kept.join(","))
    }
}

impl Serialize for BetaPolicy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Forward => s.serialize_str("forward"),
            Self::Drop => s.serialize_str("drop"),
            Self::Allow(list) => list.serialize(s),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnthropicAuth {
    XApiKey,
    Bearer,
}

impl ProviderConfig {
    /// The wire format spoken upstream (custom: as configured; built-in: its own).
    pub fn base_format(&self, name: &str) -> BaseFormat {
        match &self.custom_provider_config {
            Some(c) => c.base_provider_type,
            None => BaseFormat::parse(name).unwrap_or(BaseFormat::Openai),
        }
    }

    pub fn is_key_less(&self) -> bool {
        self.custom_provider_config.as_ref().is_some_and(|c| c.is_key_less)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The key, or `env.NAME` to read it from the environment.
    pub value: String,
    /// Models this key may serve; empty = every model.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    pub weight: f64,
    #[serde(skip_serializing_if = "is_true")]
    pub enabled: bool,
}

fn is_true(b: &bool) -> bool {
    *b
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Sent on every request to the provider; values may be `env.NAME`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_headers: BTreeMap<String, String>,
    pub default_request_timeout_in_seconds: u64,
    pub max_retries: u32,
    /// Milliseconds.
    pub retry_backoff_initial: u64,
    /// Milliseconds.
    pub retry_backoff_max: u64,
    pub stream_idle_timeout_in_seconds: u64,
    pub keep_alive_timeout_in_seconds: u64,
    pub max_conns_per_host: usize,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub enforce_http2: bool,
    /// Cap on an upstream body read whole (translated responses); passthrough
    /// bodies are relayed as they arrive and need none.
    pub max_response_body_size_mb: u64,
    /// Cap on one SSE event (or unterminated line) held while translating a stream.
    pub max_stream_event_size_kb: u64,
    /// Bearer tokens from an OAuth client-credentials grant, instead of a key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthConfig>,
    /// `Databricks-Ai-Gateway-Request-Tags` with the caller's attribution; `None`:
    /// on for Databricks hosts (`*.databricks.com`, `*.azuredatabricks.net`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub databricks_request_tags: Option<bool>,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            extra_headers: BTreeMap::new(),
            default_request_timeout_in_seconds: defaults::REQUEST_TIMEOUT_SECS,
            max_retries: defaults::MAX_RETRIES,
            retry_backoff_initial: defaults::RETRY_BACKOFF_INITIAL_MS,
            retry_backoff_max: defaults::RETRY_BACKOFF_MAX_MS,
            stream_idle_timeout_in_seconds: defaults::STREAM_IDLE_TIMEOUT_SECS,
            keep_alive_timeout_in_seconds: defaults::KEEP_ALIVE_TIMEOUT_SECS,
            max_conns_per_host: defaults::MAX_IDLE_CONNS_PER_HOST,
            enforce_http2: false,
            max_response_body_size_mb: defaults::MAX_RESPONSE_BODY_MB,
            max_stream_event_size_kb: defaults::MAX_STREAM_EVENT_KB,
            oauth: None,
            databricks_request_tags: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomProviderConfig {
    pub base_provider_type: BaseFormat,
    pub is_key_less: bool,
    /// `None` = every request type allowed; `Some` = only those set true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed_requests: Option<BTreeMap<RequestType, bool>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub request_path_overrides: BTreeMap<RequestType, String>,
}

impl GatewayConfig {
    /// Parses and validates config JSON, resolving `env.NAME` from the process
    /// environment. Warnings are dropped; use [`GatewayConfig::parse`] to see them.
    pub fn from_json_str(text: &str) -> Result<Self, ConfigError> {
        Self::parse(text, &ProcessEnv).map(|(c, _)| c)
    }

    /// Parses and validates, returning the config and its warnings, or every error.
    pub fn parse(text: &str, env: &dyn EnvResolver) -> Result<(Self, Vec<ConfigDiagnostic>), ConfigError> {
        parse::parse_config(text, env)
    }

    /// Validates one provider given as JSON (as the management API receives it).
    pub fn parse_provider(
        name: &str,
        value: &serde_json::Value,
        env: &dyn EnvResolver,
    ) -> Result<(ProviderConfig, Vec<ConfigDiagnostic>), ConfigError> {
        parse::parse_single_provider(name, value, env)
    }

    /// Validates one route given as JSON against `providers` (its targets and
    /// fallbacks must name them). Paths are as in the file: `routes.<name>.…`.
    pub fn parse_route(
        name: &str,
        value: &serde_json::Value,
        providers: &BTreeMap<String, ProviderConfig>,
    ) -> Result<(RouteConfig, Vec<ConfigDiagnostic>), ConfigError> {
        parse::parse_single_route(name, value, providers)
    }

    pub fn max_request_body_bytes(&self) -> usize {
        let mb = self.client.max_request_body_size_mb.unwrap_or(defaults::MAX_REQUEST_BODY_MB);
        usize::try_from(mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
    }
}

/// Reads a config file: syntax, validation and environment references.
pub fn load_file(
    path: &std::path::Path,
    env: &dyn EnvResolver,
) -> Result<(GatewayConfig, Vec<ConfigDiagnostic>), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::single(String::new(), format!("cannot read config file {}: {e}", path.display()), None)
    })?;
    GatewayConfig::parse(&text, env)
}

#[cfg(test)]
mod tests;
