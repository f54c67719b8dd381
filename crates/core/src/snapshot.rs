//! One consistent view of the configuration and the providers built from it,
//! and the request-time decisions that read only the provider (may it serve
//! this request type, which key signs the call).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{EnvResolver, GatewayConfig};
use crate::error::GatewayError;
use crate::provider::{Provider, ProviderBuildError};

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

pub(crate) fn build_snapshot(
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
pub(crate) fn build_snapshot_reusing(
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

pub(crate) fn pick_key<'p>(
    provider: &'p Provider,
    model: &str,
) -> Result<Option<&'p crate::keys::ResolvedKey>, GatewayError> {
    // A service principal's token is the credential: no key to pick.
    if provider.keyless || provider.oauth.is_some() {
        return Ok(None);
    }
    crate::keys::choose(&provider.keys, model, &mut rand::rng())
        .map(Some)
        .ok_or_else(|| GatewayError::NoKeyForModel { provider: provider.name.clone(), model: model.to_string() })
}
