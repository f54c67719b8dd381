//! The service over a store in memory: precedence, routes that keep their
//! providers, and the store put back when an edit cannot be applied.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use super::*;
use crate::config::{RouteConfig, RouteTarget};
use crate::Gateway;

/// A map, with a switch that makes every write fail as a full disk would.
#[derive(Default)]
struct MemoryStore {
    rows: Mutex<BTreeMap<String, StoredProvider>>,
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
}

fn provider(key: &str) -> Value {
    json!({"keys": [{"value": key}], "network_config": {"base_url": "http://127.0.0.1:9"},
        "custom_provider_config": {"base_provider_type": "openai"}})
}

async fn service(store: Arc<MemoryStore>, routes: BTreeMap<String, RouteConfig>) -> ConfigService {
    let env: Arc<HashMap<String, String>> = Arc::new(HashMap::new());
    let base = BaseSettings { routes, ..BaseSettings::default() };
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
    let s = service(store.clone(), BTreeMap::new()).await;
    let mut body = provider("sk-secret");
    body["name"] = json!("a");
    let (view, _) = s.create(body.clone()).await.unwrap();
    assert_eq!((view.source, view.config["keys"][0]["value"].as_str()), ("api", Some("********")));
    assert_eq!(served(&s), ["a"]);
    assert_eq!(store.rows.lock().unwrap()["a"].config["keys"][0]["value"], "sk-secret", "stored whole");
    assert!(matches!(s.create(body).await, Err(ConfigError::Exists(n)) if n == "a"));

    // Sent back as shown, the secret is kept.
    let (view, _) = s.update("a", s.get("a").await.unwrap().config).await.unwrap();
    assert_eq!(view.config["keys"][0]["value"], "********");
    assert_eq!(store.rows.lock().unwrap()["a"].config["keys"][0]["value"], "sk-secret");
    s.delete("a").await.unwrap();
    assert!(served(&s).is_empty());
    assert!(matches!(s.get("a").await, Err(ConfigError::NotFound(_))));
}

#[tokio::test]
async fn file_managed_providers_are_refused_to_the_api() {
    let store = Arc::new(MemoryStore::default());
    store.sync_file_providers(&[("f".into(), provider("sk-f"))]).await.unwrap();
    let s = service(store, BTreeMap::new()).await;
    assert!(matches!(s.update("f", provider("sk-x")).await, Err(ConfigError::FileManaged(_))));
    assert!(matches!(s.delete("f").await, Err(ConfigError::FileManaged(_))));
    assert_eq!(served(&s), ["f"]);
}

#[tokio::test]
async fn a_provider_a_route_names_cannot_be_deleted_and_stays_stored() {
    let store = Arc::new(MemoryStore::default());
    let route = RouteConfig { targets: vec![RouteTarget { model: "a/m".into(), weight: 1.0 }], fallbacks: vec![] };
    let s = service(store.clone(), BTreeMap::new()).await;
    let mut body = provider("sk-a");
    body["name"] = json!("a");
    s.create(body).await.unwrap();
    let s = service(store.clone(), [("smart".to_string(), route)].into()).await;
    let Err(err) = s.delete("a").await else { panic!("deleted") };
    assert_eq!(err.errors().map(|d| d.path.as_str()).collect::<Vec<_>>(), ["routes.smart"]);
    assert!(store.rows.lock().unwrap().contains_key("a"), "put back");
    assert_eq!(served(&s), ["a"]);
}

#[tokio::test]
async fn a_full_store_changes_nothing() {
    let store = Arc::new(MemoryStore::default());
    let s = service(store.clone(), BTreeMap::new()).await;
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
    let s = service(store, BTreeMap::new()).await;
    let mut body = provider("env.HOME");
    body["name"] = json!("a");
    let err = s.create(body).await.unwrap_err();
    assert_eq!(err.errors().map(|d| d.path.as_str()).collect::<Vec<_>>(), ["keys[0].value"]);
}
