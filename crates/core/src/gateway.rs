//! The gateway: an immutable configuration snapshot behind `ArcSwap` (read
//! lock-free per request; an edit builds and swaps a whole new snapshot, so a
//! request sees the old or the new one, never a mix) and the dispatch of each
//! request to its provider.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue};

use crate::config::{EnvResolver, GatewayConfig, ProcessEnv};
use crate::dispatch::{Inbound, InboundHeaders};
use crate::error::GatewayError;
use crate::models::{ModelCache, ModelsReport};
use crate::provider::{Provider, ProviderBuildError};
use crate::relay::ByteStream;
use crate::request_type::RequestType;
use crate::routing::split_model;

/// One consistent view of the configuration and the providers built from it.
#[derive(Debug)]
pub struct Snapshot {
    pub config: GatewayConfig,
    pub providers: BTreeMap<String, Arc<Provider>>,
    /// Increases with every swap; caches key on it.
    pub generation: u64,
}

impl Snapshot {
    pub fn provider_names(&self) -> Vec<String> {
        self.providers.keys().cloned().collect()
    }
}

struct Inner {
    state: ArcSwap<Snapshot>,
    env: Arc<dyn EnvResolver>,
    generation: AtomicU64,
    models: Arc<ModelCache>,
}

/// The embeddable gateway. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

/// What the server relays back to the client.
pub struct ProxyResponse {
    pub status: u16,
    pub content_type: Option<HeaderValue>,
    pub provider: String,
    /// `<provider>/<model>` of the candidate that answered.
    pub served_by: String,
    /// Candidates tried, the one that answered included (retries within one are not counted).
    pub attempts: u32,
    pub body: ProxyBody,
}

impl ProxyResponse {
    pub fn new(status: u16, content_type: Option<HeaderValue>, provider: &str, body: ProxyBody) -> Self {
        Self { status, content_type, provider: provider.to_string(), served_by: String::new(), attempts: 1, body }
    }
}

pub enum ProxyBody {
    Full(Bytes),
    /// An event stream for the client (relayed or produced by the gateway).
    Stream(ByteStream),
    /// A non-stream upstream body relayed as it arrives, with its length and
    /// any content coding the upstream client could not undo.
    Forward {
        stream: ByteStream,
        length: Option<u64>,
        encoding: Option<HeaderValue>,
    },
}

impl ProxyBody {
    /// The whole body, for callers that want it in memory (the SDK, `/test`);
    /// `Err` past `limit` bytes or when the body breaks.
    pub async fn collect(self, limit: usize) -> std::io::Result<Bytes> {
        use futures::StreamExt;
        let mut stream = match self {
            Self::Full(b) => return Ok(b),
            Self::Stream(s) | Self::Forward { stream: s, .. } => s,
        };
        let mut out = bytes::BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if out.len() + chunk.len() > limit {
                return Err(std::io::Error::other(format!("response larger than {limit} bytes")));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out.freeze())
    }
}

impl Gateway {
    /// Builds a gateway; `env.NAME` references resolve from the process environment.
    pub fn new(config: GatewayConfig) -> Result<Self, ProviderBuildError> {
        Self::with_env(config, Arc::new(ProcessEnv))
    }

    pub fn with_env(config: GatewayConfig, env: Arc<dyn EnvResolver>) -> Result<Self, ProviderBuildError> {
        // Before any HTTP client exists (also those the embedding program builds itself).
        crate::upstream::client::install_crypto_provider();
        let snapshot = build_snapshot(config, env.as_ref(), 1)?;
        Ok(Self {
            inner: Arc::new(Inner {
                state: ArcSwap::from_pointee(snapshot),
                env,
                generation: AtomicU64::new(1),
                models: Arc::default(),
            }),
        })
    }

    /// The current snapshot. Hold it for the life of a request.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.state.load_full()
    }

    /// Applies a new configuration to new requests at once; requests and
    /// streams in flight finish on the snapshot they started with.
    pub fn reload(&self, config: GatewayConfig) -> Result<(), ProviderBuildError> {
        let generation = self.inner.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let previous = self.snapshot();
        let snapshot = build_snapshot_reusing(config, self.inner.env.as_ref(), generation, Some(&previous))?;
        self.inner.state.store(Arc::new(snapshot));
        Ok(())
    }

    /// Lists every provider's models (see [`crate::models`]).
    pub async fn list_models(&self) -> ModelsReport {
        crate::models::list_models(self.snapshot(), &self.inner.models).await
    }

    /// `POST /v1/chat/completions`. `body` is the client's JSON; `forwarded`
    /// holds the client headers that passed the allow-list.
    pub async fn proxy_chat(&self, body: Bytes, forwarded: HeaderMap) -> Result<ProxyResponse, GatewayError> {
        self.handle(Inbound::OpenAiChat, body, InboundHeaders { forwarded, anthropic_beta: None }).await
    }
}

fn build_snapshot(
    config: GatewayConfig,
    env: &dyn EnvResolver,
    generation: u64,
) -> Result<Snapshot, ProviderBuildError> {
    build_snapshot_reusing(config, env, generation, None)
}

/// Builds a snapshot, keeping the built provider (its HTTP client, pooled
/// connections and TLS roots) of every provider whose configuration is the
/// same as in `previous`: an edit of one provider costs one build, and the
/// others' warm connections survive it. (`env.NAME` values are read from an
/// environment that does not change while the process runs.)
fn build_snapshot_reusing(
    config: GatewayConfig,
    env: &dyn EnvResolver,
    generation: u64,
    previous: Option<&Snapshot>,
) -> Result<Snapshot, ProviderBuildError> {
    let mut providers = BTreeMap::new();
    for (name, cfg) in &config.providers {
        let kept = previous
            .filter(|prev| prev.config.providers.get(name) == Some(cfg))
            .and_then(|prev| prev.providers.get(name).cloned());
        let provider = match kept {
            Some(p) => p,
            None => Arc::new(Provider::build(name, cfg, env)?),
        };
        providers.insert(name.clone(), provider);
    }
    Ok(Snapshot { config, providers, generation })
}

/// Resolves `<provider>/<model>` against the snapshot.
pub(crate) fn route<'m>(snapshot: &Snapshot, model: &'m str) -> Result<(Arc<Provider>, &'m str), GatewayError> {
    let Some((name, upstream_model)) = split_model(model) else {
        return Err(GatewayError::MissingProviderPrefix {
            model: model.to_string(),
            configured: snapshot.provider_names(),
        });
    };
    let provider = snapshot.providers.get(name).ok_or_else(|| GatewayError::UnknownProvider {
        provider: name.to_string(),
        configured: snapshot.provider_names(),
    })?;
    Ok((provider.clone(), upstream_model))
}

pub(crate) fn check_allowed(provider: &Provider, t: RequestType) -> Result<(), GatewayError> {
    if provider.allows(t) {
        return Ok(());
    }
    Err(GatewayError::RequestTypeNotAllowed {
        provider: provider.name.clone(),
        request_type: t,
        allowed: provider.allowed_names(),
    })
}

pub(crate) fn pick_key<'p>(
    provider: &'p Provider,
    model: &str,
) -> Result<Option<&'p crate::keys::ResolvedKey>, GatewayError> {
    if provider.keyless {
        return Ok(None);
    }
    crate::keys::choose(&provider.keys, model, &mut rand::rng())
        .map(Some)
        .ok_or_else(|| GatewayError::NoKeyForModel { provider: provider.name.clone(), model: model.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> GatewayConfig {
        let text = format!(
            r#"{{"providers": {{"a": {{"network_config": {{"base_url": "http://127.0.0.1:1"}},
                "custom_provider_config": {{"base_provider_type": "openai", "is_key_less": true}}}}{extra}}}}}"#
        );
        GatewayConfig::from_json_str(&text).unwrap()
    }

    #[test]
    fn a_reload_keeps_untouched_providers_and_rebuilds_changed_ones() {
        let gw = Gateway::with_env(config(""), Arc::new(std::collections::HashMap::new())).unwrap();
        let before = gw.snapshot().providers["a"].clone();
        let b = r#", "b": {"network_config": {"base_url": "http://127.0.0.1:2"}, "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}}"#;
        gw.reload(config(b)).unwrap();
        let after = gw.snapshot();
        assert!(Arc::ptr_eq(&before, &after.providers["a"]), "same provider, same connection pool");
        assert!(after.providers.contains_key("b"));
        let changed = b.replace("http://127.0.0.1:2", "http://127.0.0.1:3");
        let b_before = after.providers["b"].clone();
        gw.reload(config(&changed)).unwrap();
        assert!(!Arc::ptr_eq(&b_before, &gw.snapshot().providers["b"]), "a changed provider is rebuilt");
        assert!(Arc::ptr_eq(&before, &gw.snapshot().providers["a"]));
    }
}
