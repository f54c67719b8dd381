//! The gateway configuration, assembled from the settings that live outside
//! the store and every stored provider and route.

use super::env_policy::ApiEnvAllowList;
use super::error::ConfigError;
use super::store::ConfigStore;
use crate::config::{ClientConfig, EnvResolver, GatewayConfig, Severity};

/// Settings that come from the config file or the command line, not the store.
/// (The file's providers and routes are synced into the store at start.)
#[derive(Debug, Clone, Default)]
pub struct BaseSettings {
    pub client: ClientConfig,
    pub default_provider: Option<String>,
    /// `env.NAME` references the API may create (see [`super::env_policy`]).
    pub api_env_allow: ApiEnvAllowList,
}

/// Builds the gateway configuration from the base settings and every stored
/// provider and route. Every problem is reported at once, each with its path:
/// a provider's under `providers.<name>.`, a route's under `routes.<name>.`
/// (a route whose target names no stored provider, or that shares a
/// provider's name, is one of them).
pub async fn build_config(
    base: &BaseSettings,
    store: &dyn ConfigStore,
    env: &dyn EnvResolver,
) -> Result<GatewayConfig, ConfigError> {
    let mut config = GatewayConfig {
        client: base.client.clone(),
        default_provider: base.default_provider.clone(),
        ..Default::default()
    };
    let mut problems = Vec::new();
    for stored in store.list_providers().await? {
        match GatewayConfig::parse_provider(&stored.name, &stored.config, env) {
            Ok((p, _)) => {
                config.providers.insert(stored.name, p);
            }
            Err(e) => problems.extend(e.diagnostics.into_iter().map(|mut d| {
                d.path = format!("providers.{}.{}", stored.name, d.path).trim_end_matches('.').to_string();
                d
            })),
        }
    }
    for stored in store.list_routes().await? {
        match GatewayConfig::parse_route(&stored.name, &stored.config, &config.providers) {
            Ok((r, _)) => {
                config.routes.insert(stored.name, r);
            }
            Err(e) => problems.extend(e.diagnostics),
        }
    }
    if problems.iter().any(|d| d.severity == Severity::Error) {
        return Err(ConfigError::Invalid(problems));
    }
    Ok(config)
}
