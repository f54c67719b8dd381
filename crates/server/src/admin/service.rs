//! The configuration service: the one place where providers change. An edit
//! (API or UI) is validated, persisted, then applied by swapping a new
//! gateway snapshot: new requests see it at once, requests in flight finish
//! on the snapshot they started with.
//!
//! Precedence: providers from the config file are file-managed. The file's
//! version wins at every start, so edits to them here are refused (409) with a
//! hint to edit the file instead.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value;
use switchyard_core::config::{ClientConfig, ConfigDiagnostic, EnvResolver, GatewayConfig, Severity};
use switchyard_core::Gateway;
use switchyard_store::{ConfigStore, Source, StoreError, StoredProvider};

use super::env_policy::ApiEnvAllowList;
use super::redact;

/// Settings that come from the config file or the command line, not the store.
#[derive(Debug, Clone, Default)]
pub struct BaseSettings {
    pub client: ClientConfig,
    pub default_provider: Option<String>,
    /// `env.NAME` references the API may create (see [`super::env_policy`]).
    pub api_env_allow: ApiEnvAllowList,
    /// Routes (virtual models) from the config file.
    pub routes: std::collections::BTreeMap<String, switchyard_core::config::RouteConfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("the management API is not enabled")]
    Disabled,
    #[error("provider {0:?} not found")]
    NotFound(String),
    #[error("provider {0:?} already exists")]
    Exists(String),
    #[error("provider {0:?} is managed by the config file; edit the file and restart to change it")]
    FileManaged(String),
    #[error("invalid provider")]
    Invalid(Vec<ConfigDiagnostic>),
    #[error("{0}")]
    BadRequest(String),
    /// The HTTP request itself could not be read (too large, too slow, bad path).
    #[error("{1}")]
    Request(u16, String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("cannot apply the configuration: {0}")]
    Apply(String),
}

/// A provider as the API shows it: secrets redacted.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderView {
    pub name: String,
    /// `file` or `api`.
    pub source: &'static str,
    #[serde(flatten)]
    pub config: Value,
}

pub struct ConfigService {
    store: Arc<dyn ConfigStore>,
    gateway: Gateway,
    base: BaseSettings,
    env: Arc<dyn EnvResolver>,
    /// Serialises edits so that validate → persist → swap is atomic.
    write: Mutex<()>,
}

/// Builds the gateway configuration from the base settings and every stored provider.
pub fn build_config(
    base: &BaseSettings,
    store: &dyn ConfigStore,
    env: &dyn EnvResolver,
) -> Result<GatewayConfig, AdminError> {
    let mut config = GatewayConfig {
        client: base.client.clone(),
        default_provider: base.default_provider.clone(),
        routes: base.routes.clone(),
        ..Default::default()
    };
    let mut problems = Vec::new();
    for stored in store.list_providers()? {
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
    // A route may not lose its targets: deleting a provider a route names is refused.
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
    if problems.iter().any(|d| d.severity == Severity::Error) {
        return Err(AdminError::Invalid(problems));
    }
    Ok(config)
}

impl ConfigService {
    pub fn new(store: Arc<dyn ConfigStore>, gateway: Gateway, base: BaseSettings, env: Arc<dyn EnvResolver>) -> Self {
        Self { store, gateway, base, env, write: Mutex::new(()) }
    }

    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    fn view(p: StoredProvider) -> ProviderView {
        ProviderView { name: p.name, source: p.source.as_str(), config: redact::redact(p.config) }
    }

    pub fn list(&self) -> Result<Vec<ProviderView>, AdminError> {
        Ok(self.store.list_providers()?.into_iter().map(Self::view).collect())
    }

    pub fn get(&self, name: &str) -> Result<ProviderView, AdminError> {
        self.store.get_provider(name)?.map(Self::view).ok_or_else(|| AdminError::NotFound(name.to_string()))
    }

    /// Validates one provider's JSON (name checked too); returns it normalised.
    fn validate(&self, name: &str, value: &Value) -> Result<(Value, Vec<ConfigDiagnostic>), AdminError> {
        let refused = self.base.api_env_allow.check(value);
        if !refused.is_empty() {
            return Err(AdminError::Invalid(refused));
        }
        let (provider, warnings) = GatewayConfig::parse_provider(name, value, self.env.as_ref())
            .map_err(|e| AdminError::Invalid(e.diagnostics))?;
        let normalised = serde_json::to_value(&provider).map_err(|e| AdminError::BadRequest(e.to_string()))?;
        Ok((normalised, warnings))
    }

    /// Persists `after` (or deletes when `None`) and swaps the gateway config;
    /// on failure to apply, the store is put back as it was.
    fn commit(
        &self,
        name: &str,
        before: Option<StoredProvider>,
        after: Option<StoredProvider>,
    ) -> Result<(), AdminError> {
        match &after {
            Some(p) => self.store.upsert_provider(p)?,
            None => {
                self.store.delete_provider(name)?;
            }
        }
        let applied = build_config(&self.base, self.store.as_ref(), self.env.as_ref())
            .and_then(|config| self.gateway.reload(config).map_err(|e| AdminError::Apply(e.to_string())));
        if let Err(e) = applied {
            match before {
                Some(p) => self.store.upsert_provider(&p)?,
                None => {
                    self.store.delete_provider(name)?;
                }
            }
            return Err(e);
        }
        Ok(())
    }

    pub fn create(&self, body: Value) -> Result<(ProviderView, Vec<ConfigDiagnostic>), AdminError> {
        let Value::Object(mut map) = body else {
            return Err(AdminError::BadRequest(
                "the body must be a JSON object with the provider's \"name\" and fields".into(),
            ));
        };
        let name = match map.remove("name") {
            Some(Value::String(n)) => n,
            _ => {
                return Err(AdminError::Invalid(vec![ConfigDiagnostic {
                    severity: Severity::Error,
                    path: "name".into(),
                    message: "is required".into(),
                    hint: Some("the provider's name, used as the model prefix: <name>/<model>".into()),
                }]))
            }
        };
        let _guard = self.write.lock().map_err(|_| AdminError::Apply("lock poisoned".into()))?;
        if self.store.get_provider(&name)?.is_some() {
            return Err(AdminError::Exists(name));
        }
        let (config, warnings) = self.validate(&name, &Value::Object(map))?;
        let stored = StoredProvider { name: name.clone(), source: Source::Api, config };
        self.commit(&name, None, Some(stored.clone()))?;
        Ok((Self::view(stored), warnings))
    }

    pub fn update(&self, name: &str, body: Value) -> Result<(ProviderView, Vec<ConfigDiagnostic>), AdminError> {
        let Value::Object(mut map) = body else {
            return Err(AdminError::BadRequest("the body must be a JSON object with the provider's fields".into()));
        };
        if let Some(v) = map.remove("name") {
            if v.as_str() != Some(name) {
                return Err(AdminError::BadRequest(
                    "renaming a provider is not supported; create a new one and delete this one".into(),
                ));
            }
        }
        map.remove("source");
        let _guard = self.write.lock().map_err(|_| AdminError::Apply("lock poisoned".into()))?;
        let before = self.store.get_provider(name)?.ok_or_else(|| AdminError::NotFound(name.to_string()))?;
        if before.source == Source::File {
            return Err(AdminError::FileManaged(name.to_string()));
        }
        let restored = redact::restore(Value::Object(map), &before.config).map_err(|field| {
            AdminError::BadRequest(format!("{field} is redacted but no stored secret matches it; send the real value"))
        })?;
        let (config, warnings) = self.validate(name, &restored)?;
        let stored = StoredProvider { name: name.to_string(), source: Source::Api, config };
        self.commit(name, Some(before), Some(stored.clone()))?;
        Ok((Self::view(stored), warnings))
    }

    pub fn delete(&self, name: &str) -> Result<(), AdminError> {
        let _guard = self.write.lock().map_err(|_| AdminError::Apply("lock poisoned".into()))?;
        let before = self.store.get_provider(name)?.ok_or_else(|| AdminError::NotFound(name.to_string()))?;
        if before.source == Source::File {
            return Err(AdminError::FileManaged(name.to_string()));
        }
        self.commit(name, Some(before), None)
    }
}
