//! The service over a store in memory: precedence, routes that keep their
//! providers, route edits, and the store put back when an edit cannot be
//! applied.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::*;
use crate::Gateway;

/// Maps, with a switch that makes every write fail as a full disk would.
#[derive(Default)]
struct MemoryStore {
    rows: Mutex<BTreeMap<String, StoredProvider>>,
    routes: Mutex<BTreeMap<String, StoredRoute>>,
    full: std::sync::atomic::AtomicBool,
}

impl MemoryStore {
    fn check_room(&self) -> Result<(), StoreError> {
        if self.full.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Full("no space left on device".into()));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ConfigStore for MemoryStore {
    async fn list_providers(&self) -> Result<Vec<StoredProvider>, StoreError> {
        Ok(self.rows.lock().unwrap().values().cloned().collect())
    }
    async fn get_provider(&self, name: &str) -> Result<Option<StoredProvider>, StoreError> {
        Ok(self.rows.lock().unwrap().get(name).cloned())
    }
    async fn upsert_provider(&self, p: &StoredProvider) -> Result<(), StoreError> {
        self.check_room()?;
        self.rows.lock().unwrap().insert(p.name.clone(), p.clone());
        Ok(())
    }
    async fn delete_provider(&self, name: &str) -> Result<bool, StoreError> {
        self.check_room()?;
        Ok(self.rows.lock().unwrap().remove(name).is_some())
    }
    async fn sync_file_providers(&self, providers: &[(String, Value)]) -> Result<(), StoreError> {
        self.check_room()?;
        let mut rows = self.rows.lock().unwrap();
        rows.retain(|_, p| p.source == Source::Api);
        for (name, config) in providers {
            rows.insert(
                name.clone(),
                StoredProvider { name: name.clone(), source: Source::File, config: config.clone() },
            );
        }
        Ok(())
    }
    async fn list_routes(&self) -> Result<Vec<StoredRoute>, StoreError> {
        Ok(self.routes.lock().unwrap().values().cloned().collect())
    }
    async fn get_route(&self, name: &str) -> Result<Option<StoredRoute>, StoreError> {
        Ok(self.routes.lock().unwrap().get(name).cloned())
    }
    async fn upsert_route(&self, r: &StoredRoute) -> Result<(), StoreError> {
        self.check_room()?;
        self.routes.lock().unwrap().insert(r.name.clone(), r.clone());
        Ok(())
    }
    async fn delete_route(&self, name: &str) -> Result<bool, StoreError> {
        self.check_room()?;
        Ok(self.routes.lock().unwrap().remove(name).is_some())
    }
    async fn sync_file_routes(&self, routes: &[(String, Value)]) -> Result<(), StoreError> {
        self.check_room()?;
        let mut rows = self.routes.lock().unwrap();
        rows.retain(|_, r| r.source == Source::Api);
        for (name, config) in routes {
            rows.insert(name.clone(), StoredRoute { name: name.clone(), source: Source::File, config: config.clone() });
        }
        Ok(())
    }
}

fn provider(key: &str) -> Value {
    json!({"keys": [{"value": key}], "network_config": {"base_url": "http://127.0.0.1:9"},
        "custom_provider_config": {"base_provider_type": "openai"}})
}

async fn service(store: Arc<MemoryStore>) -> ConfigService {
    let env: Arc<HashMap<String, String>> = Arc::new(HashMap::new());
    let base = BaseSettings::default();
    let config = build_config(&base, store.as_ref(), env.as_ref()).await.unwrap();
    let gateway = Gateway::with_env(config, env.clone()).unwrap();
    ConfigService::new(store, gateway, base, env)
}

fn served(s: &ConfigService) -> Vec<String> {
    s.gateway().snapshot().providers.keys().cloned().collect()
}

#[tokio::test]
async fn an_edit_is_persisted_applied_and_shown_redacted() {
    let store = Arc::new(MemoryStore::default());
    let s = service(store.clone()).await;
    let mut body = provider("sk-secret");
    body["name"] = json!("a");
    let (view, _) = s.create(body.clone()).await.unwrap();
    assert_eq!((view.source, view.config["keys"][0]["value"].as_str()), ("api", Some("********")));
    assert_eq!(served(&s), ["a"]);
    assert_eq!(store.rows.lock().unwrap()["a"].config["keys"][0]["value"], "sk-secret", "stored whole");
    assert!(matches!(s.create(body).await, Err(ConfigError::Exists(Entity::Provider, n)) if n == "a"));

    // Sent back as shown, the secret is kept.
    let (view, _) = s.update("a", s.get("a").await.unwrap().config).await.unwrap();
    assert_eq!(view.config["keys"][0]["value"], "********");
    assert_eq!(store.rows.lock().unwrap()["a"].config["keys"][0]["value"], "sk-secret");
    s.delete("a").await.unwrap();
    assert!(served(&s).is_empty());
    assert!(matches!(s.get("a").await, Err(ConfigError::NotFound(..))));
}

#[tokio::test]
async fn file_managed_providers_are_refused_to_the_api() {
    let store = Arc::new(MemoryStore::default());
    store.sync_file_providers(&[("f".into(), provider("sk-f"))]).await.unwrap();
    let s = service(store).await;
    assert!(matches!(s.update("f", provider("sk-x")).await, Err(ConfigError::FileManaged(..))));
    assert!(matches!(s.delete("f").await, Err(ConfigError::FileManaged(..))));
    assert_eq!(served(&s), ["f"]);
}

#[tokio::test]
async fn a_provider_a_route_names_cannot_be_deleted_and_stays_stored() {
    let store = Arc::new(MemoryStore::default());
    let s = service(store.clone()).await;
    let mut body = provider("sk-a");
    body["name"] = json!("a");
    s.create(body).await.unwrap();
    store.sync_file_routes(&[("smart".into(), json!({"targets": [{"model": "a/m", "weight": 1}]}))]).await.unwrap();
    let s = service(store.clone()).await;
    s.create_route(json!({"name": "mine", "targets": [{"model": "x/m"}], "fallbacks": ["a/n"]})).await.unwrap_err();
    let mut b = provider("sk-b");
    b["name"] = json!("b");
    s.create(b).await.unwrap();
    s.create_route(json!({"name": "mine", "targets": [{"model": "b/m"}], "fallbacks": ["a/n"]})).await.unwrap();
    let Err(err) = s.delete("a").await else { panic!("deleted") };
    assert_eq!(err.errors().map(|d| d.path.as_str()).collect::<Vec<_>>(), ["routes.mine", "routes.smart"]);
    let hints: Vec<_> = err.errors().filter_map(|d| d.hint.as_deref()).collect();
    assert_eq!(hints, ["change or delete route `mine` first", "edit the route in the config file and restart first"]);
    assert!(store.rows.lock().unwrap().contains_key("a"), "put back");
    assert_eq!(served(&s), ["a", "b"]);
}

fn routes_served(s: &ConfigService) -> Vec<String> {
    s.gateway().snapshot().config.routes.keys().cloned().collect()
}

#[tokio::test]
async fn a_route_edit_is_validated_persisted_and_applied() {
    let store = Arc::new(MemoryStore::default());
    let s = service(store.clone()).await;
    let mut body = provider("sk-a");
    body["name"] = json!("a");
    s.create(body).await.unwrap();

    let (view, _) =
        s.create_route(json!({"name": "smart", "targets": [{"model": "a/big", "weight": 3}]})).await.unwrap();
    assert_eq!((view.source, &view.config["fallbacks"]), ("api", &json!([])));
    assert_eq!(routes_served(&s), ["smart"]);
    assert_eq!(store.routes.lock().unwrap()["smart"].config, json!({"targets": [{"model": "a/big", "weight": 3.0}]}));
    assert!(matches!(s.create_route(json!({"name": "smart", "targets": [{"model": "a/x"}]})).await,
        Err(ConfigError::Exists(Entity::Route, n)) if n == "smart"));

    // Every problem at once, each with the file's path.
    let bad = json!({"targets": [{"model": "b/m", "weight": 0}, {"modle": "a/m"}], "fallbacks": ["nope"]});
    let err = s.update_route("smart", bad).await.unwrap_err();
    let paths: Vec<&str> = err.errors().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "routes.smart.targets[0].model",
            "routes.smart.targets[0].weight",
            "routes.smart.targets[1].modle",
            "routes.smart.targets[1].model",
            "routes.smart.fallbacks[0]",
        ]
    );
    let (view, _) = s.get_route("smart").await.map(|v| (v, ())).unwrap();
    assert_eq!(view.config["targets"][0]["weight"], 3.0, "unchanged");

    let mut edit = serde_json::to_value(&view).unwrap();
    edit["targets"][0]["weight"] = json!(1);
    edit["fallbacks"] = json!(["a/small"]);
    s.update_route("smart", edit).await.unwrap();
    assert_eq!(s.gateway().snapshot().config.routes["smart"].fallbacks, ["a/small"]);
    let renamed = s.update_route("smart", json!({"name": "other", "targets": [{"model": "a/m"}]})).await;
    assert!(matches!(renamed, Err(ConfigError::Rejected(_))));

    s.delete_route("smart").await.unwrap();
    assert!(routes_served(&s).is_empty());
    assert!(matches!(s.get_route("smart").await, Err(ConfigError::NotFound(Entity::Route, _))));
    assert!(matches!(s.delete_route("smart").await, Err(ConfigError::NotFound(Entity::Route, _))));
}

#[tokio::test]
async fn a_route_and_a_provider_may_not_share_a_name() {
    let store = Arc::new(MemoryStore::default());
    let s = service(store.clone()).await;
    let mut body = provider("sk-a");
    body["name"] = json!("a");
    s.create(body).await.unwrap();
    let err = s.create_route(json!({"name": "a", "targets": [{"model": "a/m"}]})).await.unwrap_err();
    assert_eq!(err.errors().map(|d| d.path.as_str()).collect::<Vec<_>>(), ["routes.a"]);

    s.create_route(json!({"name": "smart", "targets": [{"model": "a/m"}]})).await.unwrap();
    let mut clash = provider("sk-b");
    clash["name"] = json!("smart");
    let err = s.create(clash).await.unwrap_err();
    let d: Vec<_> = err.errors().collect();
    assert_eq!((d.len(), d[0].path.as_str()), (1, "name"));
    assert!(d[0].message.contains("route `smart`"), "{}", d[0].message);
    assert_eq!(served(&s), ["a"]);
}

#[tokio::test]
async fn file_managed_routes_are_refused_to_the_api() {
    let store = Arc::new(MemoryStore::default());
    store.sync_file_providers(&[("f".into(), provider("sk-f"))]).await.unwrap();
    store.sync_file_routes(&[("fr".into(), json!({"targets": [{"model": "f/m"}]}))]).await.unwrap();
    let s = service(store).await;
    assert_eq!(s.get_route("fr").await.unwrap().source, "file");
    let edit = json!({"targets": [{"model": "f/other"}]});
    assert!(matches!(s.update_route("fr", edit).await, Err(ConfigError::FileManaged(Entity::Route, _))));
    assert!(matches!(s.delete_route("fr").await, Err(ConfigError::FileManaged(Entity::Route, _))));
    assert_eq!(routes_served(&s), ["fr"]);
}

#[tokio::test]
async fn a_full_store_changes_nothing() {
    let store = Arc::new(MemoryStore::default());
    let s = service(store.clone()).await;
    store.full.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut body = provider("sk-a");
    body["name"] = json!("a");
    let err = s.create(body).await.unwrap_err();
    assert!(err.is_storage_full(), "{err}");
    assert!(served(&s).is_empty());
}

#[tokio::test]
async fn env_references_need_the_allow_list() {
    let store = Arc::new(MemoryStore::default());
    let s = service(store).await;
    let mut body = provider("env.HOME");
    body["name"] = json!("a");
    let err = s.create(body).await.unwrap_err();
    assert_eq!(err.errors().map(|d| d.path.as_str()).collect::<Vec<_>>(), ["keys[0].value"]);
}
