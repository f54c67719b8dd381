//! The one place where providers and routes change at run time. An edit is
//! validated, persisted, then applied by swapping a new gateway snapshot: new
//! requests see it at once, requests in flight finish on the snapshot they
//! started with. This file holds the providers and the commit every edit ends
//! in; [`super::routes`] the routes.
//!
//! Precedence: providers and routes from the config file are file-managed.
//! The file's version wins at every start, so edits to them here are refused
//! ([`ConfigError::FileManaged`]) with a hint to edit the file instead.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::Mutex;

use super::build::{build_config, BaseSettings};
use super::error::{ConfigError, Entity};
use super::redact;
use super::store::{ConfigStore, Source, StoredProvider, StoredRoute};
use crate::config::{ConfigDiagnostic, EnvResolver, GatewayConfig, Severity};
use crate::Gateway;

/// A provider as the management API shows it: secrets redacted.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderView {
    pub name: String,
    /// `file` or `api`.
    pub source: &'static str,
    #[serde(flatten)]
    pub config: Value,
}

impl ProviderView {
    fn of(p: StoredProvider) -> Self {
        Self { name: p.name, source: p.source.as_str(), config: redact::redact(p.config) }
    }
}

/// A provider saved, with the warnings its validation produced.
pub type Saved = (ProviderView, Vec<ConfigDiagnostic>);

pub struct ConfigService {
    pub(super) store: Arc<dyn ConfigStore>,
    gateway: Gateway,
    base: BaseSettings,
    env: Arc<dyn EnvResolver>,
    /// Serialises edits so that validate → persist → swap is atomic.
    pub(super) write: Mutex<()>,
}

/// One stored row as it should be after (or was before) an edit; `None`: absent.
pub(super) enum Row {
    Provider(String, Option<StoredProvider>),
    Route(String, Option<StoredRoute>),
}

impl ConfigService {
    pub fn new(store: Arc<dyn ConfigStore>, gateway: Gateway, base: BaseSettings, env: Arc<dyn EnvResolver>) -> Self {
        Self { store, gateway, base, env, write: Mutex::new(()) }
    }

    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    pub async fn list(&self) -> Result<Vec<ProviderView>, ConfigError> {
        Ok(self.store.list_providers().await?.into_iter().map(ProviderView::of).collect())
    }

    pub async fn get(&self, name: &str) -> Result<ProviderView, ConfigError> {
        self.store
            .get_provider(name)
            .await?
            .map(ProviderView::of)
            .ok_or_else(|| ConfigError::NotFound(Entity::Provider, name.to_string()))
    }

    /// Creates an api-managed provider from `{"name": …, <fields>}`.
    pub async fn create(&self, body: Value) -> Result<Saved, ConfigError> {
        let (name, map) = split_name(
            body,
            "the body must be a JSON object with the provider's \"name\" and fields",
            "the provider's name, used as the model prefix: <name>/<model>",
        )?;
        let _guard = self.write.lock().await;
        if self.store.get_provider(&name).await?.is_some() {
            return Err(ConfigError::Exists(Entity::Provider, name));
        }
        if self.store.get_route(&name).await?.is_some() {
            return Err(ConfigError::Invalid(vec![ConfigDiagnostic {
                severity: Severity::Error,
                path: "name".into(),
                message: format!("route `{name}` has this name"),
                hint: Some("a model name must mean one thing: pick another name, or rename the route".into()),
            }]));
        }
        let (config, warnings) = self.validate(&name, &Value::Object(map))?;
        let stored = StoredProvider { name: name.clone(), source: Source::Api, config };
        self.commit(Row::Provider(name, Some(stored.clone())), Row::Provider(stored.name.clone(), None)).await?;
        Ok((ProviderView::of(stored), warnings))
    }

    /// Replaces an api-managed provider; redacted values sent back keep what is stored.
    pub async fn update(&self, name: &str, body: Value) -> Result<Saved, ConfigError> {
        let Value::Object(mut map) = body else {
            return Err(ConfigError::Rejected("the body must be a JSON object with the provider's fields".into()));
        };
        if let Some(v) = map.remove("name") {
            if v.as_str() != Some(name) {
                return Err(ConfigError::Rejected(
                    "renaming a provider is not supported; create a new one and delete this one".into(),
                ));
            }
        }
        map.remove("source");
        let _guard = self.write.lock().await;
        let before = self.editable(name).await?;
        let restored = redact::restore(Value::Object(map), &before.config).map_err(|field| {
            ConfigError::Rejected(format!("{field} is redacted but no stored secret matches it; send the real value"))
        })?;
        let (config, warnings) = self.validate(name, &restored)?;
        let stored = StoredProvider { name: name.to_string(), source: Source::Api, config };
        self.commit(Row::Provider(name.into(), Some(stored.clone())), Row::Provider(name.into(), Some(before))).await?;
        Ok((ProviderView::of(stored), warnings))
    }

    /// Refused while a route sends requests to the provider: a route may not
    /// lose its targets.
    pub async fn delete(&self, name: &str) -> Result<(), ConfigError> {
        let _guard = self.write.lock().await;
        let before = self.editable(name).await?;
        let users = self.routes_naming(name).await?;
        if !users.is_empty() {
            return Err(ConfigError::Invalid(users));
        }
        self.commit(Row::Provider(name.into(), None), Row::Provider(name.into(), Some(before))).await
    }

    /// The stored provider `name`, if the API may change it.
    async fn editable(&self, name: &str) -> Result<StoredProvider, ConfigError> {
        let stored = self
            .store
            .get_provider(name)
            .await?
            .ok_or_else(|| ConfigError::NotFound(Entity::Provider, name.to_string()))?;
        if stored.source == Source::File {
            return Err(ConfigError::FileManaged(Entity::Provider, name.to_string()));
        }
        Ok(stored)
    }

    /// Validates one provider's JSON (name checked too); returns it normalised.
    fn validate(&self, name: &str, value: &Value) -> Result<(Value, Vec<ConfigDiagnostic>), ConfigError> {
        let refused = self.base.api_env_allow.check(value);
        if !refused.is_empty() {
            return Err(ConfigError::Invalid(refused));
        }
        let (provider, warnings) = GatewayConfig::parse_provider(name, value, self.env.as_ref())
            .map_err(|e| ConfigError::Invalid(e.diagnostics))?;
        let normalised = serde_json::to_value(&provider).map_err(|e| ConfigError::Rejected(e.to_string()))?;
        Ok((normalised, warnings))
    }

    /// Persists `after` and swaps the gateway config; on failure to apply,
    /// the store is put back to `before`.
    pub(super) async fn commit(&self, after: Row, before: Row) -> Result<(), ConfigError> {
        self.put(&after).await?;
        if let Err(e) = self.apply().await {
            self.put(&before).await?;
            return Err(e);
        }
        Ok(())
    }

    /// Makes the stored row equal to `row`.
    async fn put(&self, row: &Row) -> Result<(), ConfigError> {
        match row {
            Row::Provider(_, Some(p)) => self.store.upsert_provider(p).await?,
            Row::Provider(name, None) => {
                self.store.delete_provider(name).await?;
            }
            Row::Route(_, Some(r)) => self.store.upsert_route(r).await?,
            Row::Route(name, None) => {
                self.store.delete_route(name).await?;
            }
        }
        Ok(())
    }

    /// Rebuilds the configuration from the store and swaps it in.
    async fn apply(&self) -> Result<(), ConfigError> {
        let config = build_config(&self.base, self.store.as_ref(), self.env.as_ref()).await?;
        self.gateway.reload(config)?;
        Ok(())
    }
}

/// A create body: its `name` and the other members.
pub(super) fn split_name(
    body: Value,
    not_object: &str,
    name_hint: &str,
) -> Result<(String, serde_json::Map<String, Value>), ConfigError> {
    let Value::Object(mut map) = body else {
        return Err(ConfigError::Rejected(not_object.into()));
    };
    match map.remove("name") {
        Some(Value::String(n)) => Ok((n, map)),
        _ => Err(ConfigError::Invalid(vec![ConfigDiagnostic {
            severity: Severity::Error,
            path: "name".into(),
            message: "is required".into(),
            hint: Some(name_hint.into()),
        }])),
    }
}
