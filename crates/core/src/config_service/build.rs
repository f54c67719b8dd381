//! The gateway configuration, assembled from the settings that live outside
//! the store and every stored provider.

use std::collections::BTreeMap;

use super::env_policy::ApiEnvAllowList;
use super::error::ConfigError;
use super::store::ConfigStore;
use crate::config::{ClientConfig, ConfigDiagnostic, EnvResolver, GatewayConfig, RouteConfig, Severity};

/// Settings that come from the config file or the command line, not the store.
#[derive(Debug, Clone, Default)]
pub struct BaseSettings {
    pub client: ClientConfig,
    pub default_provider: Option<String>,
    /// `env.NAME` references the API may create (see [`super::env_policy`]).
    pub api_env_allow: ApiEnvAllowList,
    /// Routes (virtual models) from the config file.
    pub routes: BTreeMap<String, RouteConfig>,
}

/// Builds the gateway configuration from the base settings and every stored
/// provider. Every problem is reported at once, each with its path.
pub async fn build_config(
    base: &BaseSettings,
    store: &dyn ConfigStore,
    env: &dyn EnvResolver,
) -> Result<GatewayConfig, ConfigError> {
    let mut config = GatewayConfig {
        client: base.client.clone(),
        default_provider: base.default_provider.clone(),
        routes: base.routes.clone(),
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
    problems.extend(routes_without_providers(&config));
    if problems.iter().any(|d| d.severity == Severity::Error) {
        return Err(ConfigError::Invalid(problems));
    }
    Ok(config)
}

/// A route may not lose its targets: deleting a provider a route names is refused.
fn routes_without_providers(config: &GatewayConfig) -> Vec<ConfigDiagnostic> {
    let mut problems = Vec::new();
    for (name, route) in &config.routes {
        let models = route.targets.iter().map(|t| &t.model).chain(&route.fallbacks);
        for model in models {
            let provider = model.split('/').next().unwrap_or("");
            if !config.providers.contains_key(provider) {
                problems.push(ConfigDiagnostic {
                    severity: Severity::Error,
                    path: format!("routes.{name}"),
                    message: format!("names `{model}`, but provider `{provider}` is not configured"),
                    hint: Some("edit the route in the config file first".into()),
                });
            }
        }
    }
    problems
}
