//! A provider ready to serve: config resolved (`env.NAME`, defaults, overrides)
//! and its own pooled HTTP client.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::config::{self, AnthropicAuth, BetaPolicy, EnvResolver, ProviderConfig};
use crate::keys::ResolvedKey;
use crate::request_type::{BaseFormat, RequestType, RequestTypeSet};
use crate::shaping::DropFields;
use crate::upstream::client::build_client;
use crate::upstream::oauth::TokenSource;
use crate::upstream::retry::RetryPolicy;
use crate::url_rule::{self, PathOverride};

const OPENAI_DEFAULT_BASE: &str = "https://api.openai.com";
const ANTHROPIC_DEFAULT_BASE: &str = "https://api.anthropic.com";

#[derive(Debug)]
pub struct Provider {
    pub name: String,
    pub base_format: BaseFormat,
    pub base_url: String,
    pub keyless: bool,
    pub keys: Vec<ResolvedKey>,
    pub(crate) extra_headers: HeaderMap,
    pub allowed: RequestTypeSet,
    pub overrides: HashMap<RequestType, PathOverride>,
    pub request_timeout: Duration,
    pub stream_idle_timeout: Duration,
    /// Bytes: a translated body is refused past this.
    pub max_response_body: usize,
    /// Bytes: a translated stream fails on one larger event.
    pub max_stream_event: usize,
    pub retry: RetryPolicy,
    pub drop_fields: DropFields,
    pub default_max_tokens: u32,
    pub anthropic_beta: BetaPolicy,
    pub anthropic_auth: AnthropicAuth,
    /// Send `Databricks-Ai-Gateway-Request-Tags` (the caller's attribution).
    pub request_tags: bool,
    /// OAuth client credentials: every request carries this source's bearer token.
    pub oauth: Option<Arc<TokenSource>>,
    /// `url_for` of every request type, parsed once (parsing costs ~5 % of a request).
    urls: Vec<Option<UpstreamUrl>>,
    pub(crate) http: reqwest::Client,
}

/// A request type's upstream URL as kept between requests.
#[derive(Debug)]
enum UpstreamUrl {
    Parsed(reqwest::Url),
    /// Names the model (`{model}`): expanded and parsed per request.
    Template(String),
}

impl UpstreamUrl {
    fn new(url: String) -> Option<Self> {
        if url_rule::has_model(&url) {
            return Some(Self::Template(url));
        }
        reqwest::Url::parse(&url).ok().map(Self::Parsed)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderBuildError {
    #[error("provider {provider}: {message}")]
    Invalid { provider: String, message: String },
    #[error("provider {provider}: cannot build HTTP client: {source}")]
    Client { provider: String, source: reqwest::Error },
}

impl Provider {
    /// Builds the runtime provider. The config has been validated, so failures
    /// here are environment changes since validation (an unset variable).
    pub fn build(name: &str, cfg: &ProviderConfig, env: &dyn EnvResolver) -> Result<Self, ProviderBuildError> {
        let invalid = |message: String| ProviderBuildError::Invalid { provider: name.to_string(), message };
        let base_format = cfg.base_format(name);
        let net = &cfg.network_config;
        let base_url = match (&net.base_url, base_format) {
            (Some(u), _) => u.trim_end_matches('/').to_string(),
            (None, BaseFormat::Openai) => OPENAI_DEFAULT_BASE.to_string(),
            (None, BaseFormat::Anthropic) => ANTHROPIC_DEFAULT_BASE.to_string(),
        };
        let mut keys = Vec::new();
        for k in cfg.keys.iter().filter(|k| k.enabled) {
            let secret =
                config_env(&k.value, env).map_err(|v| invalid(format!("environment variable {v} is not set")))?;
            keys.push(ResolvedKey { name: k.name.clone(), secret, models: k.models.clone(), weight: k.weight });
        }
        let mut extra_headers = HeaderMap::new();
        for (hname, value) in &net.extra_headers {
            let value = config_env(value, env).map_err(|v| invalid(format!("environment variable {v} is not set")))?;
            let hname = HeaderName::from_bytes(hname.as_bytes())
                .map_err(|_| invalid(format!("invalid header name {hname:?}")))?;
            let mut value =
                HeaderValue::from_str(&value).map_err(|_| invalid(format!("invalid value for header {hname}")))?;
            value.set_sensitive(true);
            extra_headers.insert(hname, value);
        }
        let (allowed, overrides, keyless) = match &cfg.custom_provider_config {
            None => (RequestTypeSet::all(), HashMap::new(), false),
            Some(c) => {
                let allowed = match &c.allowed_requests {
                    None => RequestTypeSet::all(),
                    Some(flags) => {
                        let mut set = RequestTypeSet::empty();
                        for (t, on) in flags {
                            if *on {
                                set.insert(*t);
                            }
                        }
                        set
                    }
                };
                let mut overrides = HashMap::new();
                for (t, o) in &c.request_path_overrides {
                    let o = PathOverride::parse(o).ok_or_else(|| invalid(format!("invalid override for {t}")))?;
                    overrides.insert(*t, o);
                }
                (allowed, overrides, c.is_key_less)
            }
        };
        let http =
            build_client(net).map_err(|source| ProviderBuildError::Client { provider: name.to_string(), source })?;
        let request_tags =
            net.databricks_request_tags.unwrap_or_else(|| crate::attribution::is_databricks_host(&base_url));
        let oauth = match &net.oauth {
            Some(o) => Some(Arc::new(TokenSource::new(o, env).map_err(invalid)?)),
            None => None,
        };
        let mut provider = Self {
            name: name.to_string(),
            base_format,
            base_url,
            keyless,
            keys,
            extra_headers,
            allowed,
            overrides,
            request_timeout: Duration::from_secs(net.default_request_timeout_in_seconds),
            stream_idle_timeout: Duration::from_secs(net.stream_idle_timeout_in_seconds),
            max_response_body: usize::try_from(net.max_response_body_size_mb.saturating_mul(1 << 20))
                .unwrap_or(usize::MAX),
            max_stream_event: usize::try_from(net.max_stream_event_size_kb.saturating_mul(1 << 10))
                .unwrap_or(usize::MAX),
            retry: RetryPolicy {
                max_retries: net.max_retries,
                initial_backoff: Duration::from_millis(net.retry_backoff_initial),
                max_backoff: Duration::from_millis(net.retry_backoff_max),
            },
            drop_fields: DropFields::new(&cfg.request_shaping.drop_fields),
            default_max_tokens: cfg.request_shaping.default_max_tokens,
            anthropic_beta: cfg.request_shaping.anthropic_beta.clone(),
            anthropic_auth: cfg.request_shaping.anthropic_auth,
            oauth,
            request_tags,
            urls: Vec::new(),
            http,
        };
        provider.urls = RequestType::ALL.iter().map(|t| provider.url_for(*t).and_then(UpstreamUrl::new)).collect();
        Ok(provider)
    }

    /// The parsed upstream URL for a request type sent to `model`.
    pub fn upstream_url(&self, t: RequestType, model: &str) -> Option<reqwest::Url> {
        match self.urls.get(t as usize)? {
            Some(UpstreamUrl::Parsed(url)) => Some(url.clone()),
            Some(UpstreamUrl::Template(template)) => reqwest::Url::parse(&url_rule::expand(template, model)).ok(),
            None => None,
        }
    }

    /// The upstream URL for a request type, `None` if the base format has no
    /// such endpoint and no override names one.
    pub fn url_for(&self, t: RequestType) -> Option<String> {
        let o = self.overrides.get(&t).or_else(|| self.overrides.get(&t.non_stream()));
        match (o, t.default_path(self.base_format)) {
            (Some(o), default) => Some(url_rule::resolve(&self.base_url, Some(o), default.unwrap_or(""))),
            (None, Some(default)) => Some(url_rule::resolve(&self.base_url, None, default)),
            (None, None) => None,
        }
    }

    pub fn allows(&self, t: RequestType) -> bool {
        self.allowed.contains(t)
    }

    pub fn allowed_names(&self) -> Vec<String> {
        self.allowed.iter().map(|t| t.as_str().to_string()).collect()
    }
}

fn config_env(value: &str, env: &dyn EnvResolver) -> Result<String, String> {
    config::env_resolve(value, env)
}
