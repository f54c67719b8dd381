//! The gateway, its whole public face: an immutable configuration snapshot
//! behind `ArcSwap` (read lock-free per request; an edit builds and swaps a
//! whole new snapshot, so a request sees the old or the new one, never a
//! mix), the hooks the lifecycle phases call, and the entry points.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http::HeaderMap;

use crate::config::{EnvResolver, GatewayConfig, ProcessEnv};
use crate::error::GatewayError;
use crate::inbound::{Inbound, InboundHeaders};
use crate::lifecycle::{Credentials, Hooks, RequestHooks};
use crate::models::{ModelCache, ModelsReport};
use crate::provider::ProviderBuildError;
use crate::response::{Failure, ProxyResponse};
use crate::snapshot::{build_snapshot, build_snapshot_reusing, Snapshot};

struct Inner {
    state: ArcSwap<Snapshot>,
    env: Arc<dyn EnvResolver>,
    generation: AtomicU64,
    models: Arc<ModelCache>,
    hooks: ArcSwap<Vec<Arc<dyn RequestHooks>>>,
}

/// The embeddable gateway. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
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
                hooks: ArcSwap::from_pointee(Vec::new()),
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

    /// Adds a hook to every phase of every request from now on (governance,
    /// logs and metrics attach here; see [`crate::lifecycle`]).
    pub fn add_hooks(&self, hooks: Arc<dyn RequestHooks>) {
        self.inner.hooks.rcu(|current| {
            let mut next = Vec::clone(current);
            next.push(hooks.clone());
            next
        });
    }

    fn hooks(&self) -> Hooks {
        self.inner.hooks.load_full()
    }

    /// Serves one inbound request end to end (see [`crate::lifecycle`]).
    pub async fn handle(
        &self,
        inbound: Inbound,
        body: Bytes,
        headers: InboundHeaders,
    ) -> Result<ProxyResponse, GatewayError> {
        self.serve(inbound, body, headers).await.map_err(|f| f.error)
    }

    /// [`Gateway::handle`], keeping the headers a failed answer carries
    /// (the rate-limit state of a refused request): what a server calls.
    pub async fn serve(
        &self,
        inbound: Inbound,
        body: Bytes,
        headers: InboundHeaders,
    ) -> Result<ProxyResponse, Failure> {
        crate::dispatch::run(self.snapshot(), self.hooks(), inbound, body, headers).await
    }

    /// Lists every provider's models (see [`crate::models`]).
    pub async fn list_models(&self) -> ModelsReport {
        crate::models::list_models(self.snapshot(), &self.inner.models).await
    }

    /// `POST /v1/chat/completions`. `body` is the client's JSON; `forwarded`
    /// holds the client headers that passed the allow-list.
    pub async fn proxy_chat(&self, body: Bytes, forwarded: HeaderMap) -> Result<ProxyResponse, GatewayError> {
        let headers = InboundHeaders { forwarded, credentials: Credentials::in_process(), ..InboundHeaders::default() };
        self.handle(Inbound::OpenAiChat, body, headers).await
    }
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
