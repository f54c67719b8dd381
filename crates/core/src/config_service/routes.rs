//! Routes (virtual models) edited at run time: list, get, create, update,
//! delete, through the same validate → persist → swap as providers.
//!
//! A route's targets and fallbacks must name configured providers, and a
//! route may not share a provider's name (nor a provider a route's: see
//! [`ConfigService::create`]). Diagnostics carry the file's paths,
//! `routes.<name>.targets[0].model`, so an editor shows them where a reader of
//! the config file would look.

use serde::Serialize;
use serde_json::{Map, Value};

use super::error::{ConfigError, Entity};
use super::service::{ConfigService, Row};
use super::store::{Source, StoredRoute};
use crate::config::{ConfigDiagnostic, GatewayConfig, Severity};
use crate::model_id::split_model;

/// A route as the management API shows it: `targets` and `fallbacks` always present.
#[derive(Debug, Clone, Serialize)]
pub struct RouteView {
    pub name: String,
    /// `file` or `api`.
    pub source: &'static str,
    #[serde(flatten)]
    pub config: Value,
}

impl RouteView {
    fn of(r: StoredRoute) -> Self {
        let mut config = r.config;
        if let Value::Object(map) = &mut config {
            map.entry("targets").or_insert_with(|| Value::Array(Vec::new()));
            map.entry("fallbacks").or_insert_with(|| Value::Array(Vec::new()));
        }
        Self { name: r.name, source: r.source.as_str(), config }
    }
}

/// A route saved, with the warnings its validation produced.
pub type SavedRoute = (RouteView, Vec<ConfigDiagnostic>);

/// Every `<provider>/<model>` a stored route sends requests to.
fn route_models(config: &Value) -> impl Iterator<Item = &str> {
    let targets = config.get("targets").and_then(Value::as_array).into_iter().flatten();
    let fallbacks = config.get("fallbacks").and_then(Value::as_array).into_iter().flatten();
    targets.filter_map(|t| t.get("model").and_then(Value::as_str)).chain(fallbacks.filter_map(Value::as_str))
}

impl ConfigService {
    pub async fn list_routes(&self) -> Result<Vec<RouteView>, ConfigError> {
        Ok(self.store.list_routes().await?.into_iter().map(RouteView::of).collect())
    }

    pub async fn get_route(&self, name: &str) -> Result<RouteView, ConfigError> {
        self.store
            .get_route(name)
            .await?
            .map(RouteView::of)
            .ok_or_else(|| ConfigError::NotFound(Entity::Route, name.to_string()))
    }

    /// Creates an api-managed route from `{"name": …, "targets": […], "fallbacks": […]}`.
    pub async fn create_route(&self, body: Value) -> Result<SavedRoute, ConfigError> {
        let (name, map) = super::service::split_name(
            body,
            "the body must be a JSON object with the route's \"name\", \"targets\" and \"fallbacks\"",
            "the model name clients send, e.g. \"claude-sonnet\"",
        )?;
        let _guard = self.write.lock().await;
        if self.store.get_route(&name).await?.is_some() {
            return Err(ConfigError::Exists(Entity::Route, name));
        }
        let (config, warnings) = self.validate_route(&name, &Value::Object(map))?;
        let stored = StoredRoute { name: name.clone(), source: Source::Api, config };
        self.commit(Row::Route(name.clone(), Some(stored.clone())), Row::Route(name, None)).await?;
        Ok((RouteView::of(stored), warnings))
    }

    /// Replaces an api-managed route. `name` and `source` in the body (as GET
    /// returns them) are accepted; a different name is a rename, refused.
    pub async fn update_route(&self, name: &str, body: Value) -> Result<SavedRoute, ConfigError> {
        let Value::Object(mut map) = body else {
            return Err(ConfigError::Rejected("the body must be a JSON object with the route's fields".into()));
        };
        strip_view_fields(&mut map, name)?;
        let _guard = self.write.lock().await;
        let before = self.editable_route(name).await?;
        let (config, warnings) = self.validate_route(name, &Value::Object(map))?;
        let stored = StoredRoute { name: name.to_string(), source: Source::Api, config };
        self.commit(Row::Route(name.into(), Some(stored.clone())), Row::Route(name.into(), Some(before))).await?;
        Ok((RouteView::of(stored), warnings))
    }

    pub async fn delete_route(&self, name: &str) -> Result<(), ConfigError> {
        let _guard = self.write.lock().await;
        let before = self.editable_route(name).await?;
        self.commit(Row::Route(name.into(), None), Row::Route(name.into(), Some(before))).await
    }

    /// One error per stored route that sends requests to provider `provider`.
    pub(super) async fn routes_naming(&self, provider: &str) -> Result<Vec<ConfigDiagnostic>, ConfigError> {
        let routes = self.store.list_routes().await?;
        Ok(routes
            .iter()
            .filter_map(|r| {
                let model = route_models(&r.config).find(|m| split_model(m).is_some_and(|(p, _)| p == provider))?;
                let hint = match r.source {
                    Source::File => "edit the route in the config file and restart first".to_string(),
                    Source::Api => format!("change or delete route `{}` first", r.name),
                };
                Some(ConfigDiagnostic {
                    severity: Severity::Error,
                    path: format!("routes.{}", r.name),
                    message: format!("route `{}` sends requests to `{model}`", r.name),
                    hint: Some(hint),
                })
            })
            .collect())
    }

    /// The stored route `name`, if the API may change it.
    async fn editable_route(&self, name: &str) -> Result<StoredRoute, ConfigError> {
        let stored =
            self.store.get_route(name).await?.ok_or_else(|| ConfigError::NotFound(Entity::Route, name.to_string()))?;
        if stored.source == Source::File {
            return Err(ConfigError::FileManaged(Entity::Route, name.to_string()));
        }
        Ok(stored)
    }

    /// Validates one route against the providers being served; returns it normalised.
    fn validate_route(&self, name: &str, value: &Value) -> Result<(Value, Vec<ConfigDiagnostic>), ConfigError> {
        let snapshot = self.gateway().snapshot();
        let (route, warnings) = GatewayConfig::parse_route(name, value, &snapshot.config.providers)
            .map_err(|e| ConfigError::Invalid(e.diagnostics))?;
        let normalised = serde_json::to_value(&route).map_err(|e| ConfigError::Rejected(e.to_string()))?;
        Ok((normalised, warnings))
    }
}

/// Drops what a view adds (`source`, `warnings`) and the `name`, which must be `name`.
fn strip_view_fields(map: &mut Map<String, Value>, name: &str) -> Result<(), ConfigError> {
    if let Some(v) = map.remove("name") {
        if v.as_str() != Some(name) {
            return Err(ConfigError::Rejected(
                "renaming a route is not supported; create a new one and delete this one".into(),
            ));
        }
    }
    map.remove("source");
    map.remove("warnings");
    Ok(())
}
