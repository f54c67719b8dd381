//! Shared setup: a fake upstream and an in-process Switchyard on port 0.

#![allow(dead_code)]

use std::collections::HashMap;
use std::future::pending;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use switchyard_core::config::GatewayConfig;
use switchyard_core::Gateway;
use switchyard_server::AppState;
use switchyard_testkit::{FakeOptions, FakeUpstream};

pub struct Harness {
    pub fake: FakeUpstream,
    pub base: String,
    pub gateway: Gateway,
    pub http: reqwest::Client,
    /// Set by [`start_governed`].
    pub governance: Option<Arc<switchyard_core::governance::GovernanceService>>,
    /// The request log's writer and the directory of its file (set by [`start_governed`]).
    pub log_writer: Option<Arc<switchyard_core::observability::LogWriter>>,
    pub log_dir: Option<Arc<tempfile::TempDir>>,
}

pub fn env() -> HashMap<String, String> {
    [
        ("DBX_TOKEN".to_string(), "dapi-test-token".to_string()),
        ("OPENAI_KEY_A".to_string(), "sk-a".to_string()),
        ("DBX_CLIENT_SECRET".to_string(), "sp-secret-1".to_string()),
    ]
    .into()
}

/// `providers_json` may use `{gw}` (fake AI Gateway base) and `{ws}` (fake workspace base).
pub async fn start(providers_json: &str) -> Harness {
    start_with(providers_json, FakeOptions::default(), None).await
}

pub async fn start_with(providers_json: &str, opts: FakeOptions, max_body_mb: Option<u64>) -> Harness {
    let fake = FakeUpstream::start_with(opts).await.expect("fake upstream starts");
    let text = providers_json.replace("{gw}", &fake.url("")).replace("{ws}", &fake.workspace_url(""));
    let text = format!(
        "{{\"providers\": {text}, \"client\": {{\"max_request_body_size_mb\": {}}}}}",
        max_body_mb.unwrap_or(32)
    );
    start_from_config_text(fake, &text).await
}

/// Starts Switchyard on a whole config file text, in front of `fake`.
pub async fn start_from_config_text(fake: FakeUpstream, text: &str) -> Harness {
    let (config, _) = GatewayConfig::parse(text, &env()).unwrap_or_else(|e| panic!("test config invalid: {e}"));
    let max_body = config.max_request_body_bytes();
    let gateway = Gateway::with_env(config, Arc::new(env())).expect("gateway builds");
    let app = switchyard_server::router(AppState::new(gateway.clone(), max_body));
    let listener = switchyard_server::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(switchyard_server::serve(listener, app, pending(), Duration::from_secs(1)));
    Harness { fake, base, gateway, http: reqwest::Client::new(), governance: None, log_writer: None, log_dir: None }
}

/// The seed's Unified provider: keyless, Authorization as an extra header,
/// list models on the workspace host's Unity Catalog API.
pub const DATABRICKS_MLFLOW: &str = r#"{
  "databricks-mlflow": {
    "network_config": {
      "base_url": "{gw}/mlflow",
      "extra_headers": {"Authorization": "Bearer env.DBX_TOKEN"},
      "max_retries": 2, "retry_backoff_initial": 10, "retry_backoff_max": 50
    },
    "custom_provider_config": {
      "base_provider_type": "openai",
      "is_key_less": true,
      "request_path_overrides": {"list_models": "{ws}/api/2.1/unity-catalog/models"}
    }
  }
}"#;

impl Harness {
    pub async fn post(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http.post(format!("{}{path}", self.base)).json(body).send().await.expect("request sent")
    }

    pub async fn post_raw(&self, path: &str, body: &'static str) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).send().await.expect("request sent")
    }

    /// Chat requests the fake upstream received.
    pub fn chat_requests(&self) -> Vec<switchyard_testkit::RecordedRequest> {
        self.fake.requests().into_iter().filter(|r| r.path.ends_with("/chat/completions")).collect()
    }
}

/// One management API call: its status and JSON body (`null` when empty, the text when not JSON).
pub async fn api(
    h: &Harness,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = h.http.request(method, format!("{}{path}", h.base));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body read");
    let body = if text.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
    };
    (status, body)
}

pub async fn json(resp: reqwest::Response) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let body = resp.json().await.expect("JSON body");
    (status, body)
}

/// Stores the config file's providers and routes as file-managed, as `serve` does.
async fn sync_file(store: &dyn switchyard_core::config_service::ConfigStore, file: &GatewayConfig) {
    let providers: Vec<(String, serde_json::Value)> =
        file.providers.iter().map(|(n, p)| (n.clone(), serde_json::to_value(p).expect("json"))).collect();
    store.sync_file_providers(&providers).await.expect("sync");
    let routes: Vec<(String, serde_json::Value)> =
        file.routes.iter().map(|(n, r)| (n.clone(), serde_json::to_value(r).expect("json"))).collect();
    store.sync_file_routes(&routes).await.expect("sync");
}

/// A Switchyard with the management API and UI over an in-memory store.
/// `file_providers` (may use `{gw}`/`{ws}`) are stored as file-managed.
pub async fn start_admin(file_providers: &str, token: Option<&str>) -> Harness {
    start_admin_with(file_providers, token, switchyard_server::ConnLimits::default()).await
}

/// [`start_admin`] with the listener's connection limits given.
pub async fn start_admin_with(
    file_providers: &str,
    token: Option<&str>,
    limits: switchyard_server::ConnLimits,
) -> Harness {
    let fake = FakeUpstream::start().await.expect("fake upstream starts");
    start_admin_on(fake, &format!("{{\"providers\": {file_providers}}}"), None, token, limits).await
}

/// A Switchyard with the management API over a store, as `serve` starts it:
/// `file` is a whole config file text (may use `{gw}`/`{ws}`) whose providers
/// and routes are synced into the store as file-managed. The store is the
/// SQLite file `db` (kept, so another start may reopen it) or one in memory.
pub async fn start_admin_on(
    fake: FakeUpstream,
    file: &str,
    db: Option<&std::path::Path>,
    token: Option<&str>,
    limits: switchyard_server::ConnLimits,
) -> Harness {
    use switchyard_core::config_service::{build_config, ApiEnvAllowList, BaseSettings, ConfigService, ConfigStore};
    use switchyard_store::SqliteStore;

    let text = file.replace("{gw}", &fake.url("")).replace("{ws}", &fake.workspace_url(""));
    let (file, _) = GatewayConfig::parse(&text, &env()).expect("valid file config");
    let store: Arc<dyn ConfigStore> = match db {
        Some(path) => Arc::new(SqliteStore::open(path).await.expect("store")),
        None => Arc::new(SqliteStore::in_memory().await.expect("store")),
    };
    sync_file(store.as_ref(), &file).await;
    let base =
        BaseSettings { api_env_allow: ApiEnvAllowList::new(["OPENAI_KEY_*".to_string()]), ..BaseSettings::default() };
    let config = build_config(&base, store.as_ref(), &env()).await.expect("config");
    let max_body = config.max_request_body_bytes();
    let gateway = Gateway::with_env(config, Arc::new(env())).expect("gateway builds");
    let service = Arc::new(ConfigService::new(store, gateway.clone(), base, Arc::new(env())));
    let state = AppState::new(gateway.clone(), max_body).with_admin(service, token.map(str::to_string));
    serve_state(fake, gateway, state, limits, None).await
}

async fn serve_state(
    fake: FakeUpstream,
    gateway: Gateway,
    state: AppState,
    limits: switchyard_server::ConnLimits,
    governance: Option<Arc<switchyard_core::governance::GovernanceService>>,
) -> Harness {
    let app = switchyard_server::router(state);
    let listener = switchyard_server::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(switchyard_server::serve_with(listener, app, pending(), Duration::from_secs(1), limits));
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    Harness { fake, base, gateway, http, governance, log_writer: None, log_dir: None }
}

/// A Switchyard with the management API and governance on, over the SQLite
/// file `db` (kept, so a second start reopens it) or one in memory. `file` is
/// a whole config file text (may use `{gw}`/`{ws}`), its `governance` section included.
pub async fn start_governed(fake: FakeUpstream, file: &str, db: Option<&std::path::Path>) -> Harness {
    use switchyard_core::config_service::{build_config, BaseSettings, ConfigService, ConfigStore};
    use switchyard_core::governance::{virtual_key::Pepper, GovernanceService, GovernanceStore};
    use switchyard_store::SqliteStore;

    let text = file.replace("{gw}", &fake.url("")).replace("{ws}", &fake.workspace_url(""));
    let (file, _) = GatewayConfig::parse(&text, &env()).expect("valid file config");
    let sqlite = Arc::new(match db {
        Some(path) => SqliteStore::open(path).await.expect("store"),
        None => SqliteStore::in_memory().await.expect("store"),
    });
    let store: Arc<dyn ConfigStore> = sqlite.clone();
    sync_file(store.as_ref(), &file).await;
    let base = BaseSettings::default();
    let config = build_config(&base, store.as_ref(), &env()).await.expect("config");
    let max_body = config.max_request_body_bytes();
    let gateway = Gateway::with_env(config, Arc::new(env())).expect("gateway builds");
    let gstore: Arc<dyn GovernanceStore> = sqlite;
    let pepper = Pepper::from_bytes(b"test-pepper-test-pepper-test-pepper!");
    let governance = GovernanceService::start(gstore, pepper, file.governance).await.expect("governance");
    gateway.add_hooks(governance.governance().clone());
    // The request log, as `serve` sets it up: its own file, priced by governance.
    let log_dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    let logs: Arc<dyn switchyard_core::observability::LogStore> =
        Arc::new(switchyard_store::SqliteLogStore::open_dir(log_dir.path()).await.expect("log store"));
    let l = &file.logging;
    let redaction = switchyard_core::observability::redact::Redaction::new(
        &l.redact_paths,
        l.redact_credentials,
        l.payload_max_bytes,
    );
    let writer = Arc::new(switchyard_core::observability::LogWriter::start(logs.clone(), redaction));
    let pricing = governance.governance().clone();
    let pricer: switchyard_core::observability::hook::Pricer = Arc::new(move |m, u| pricing.price(m, u));
    let policy =
        switchyard_core::observability::PayloadPolicy { default_on: l.payloads, max_bytes: l.payload_max_bytes };
    gateway.add_hooks(Arc::new(switchyard_core::observability::RequestLog::new(writer.clone(), Some(pricer), policy)));
    // Metrics, as `serve` sets them up.
    use switchyard_core::observability::{collectors, metrics};
    let mut registry = prometheus_client::registry::Registry::default();
    let gov = governance.governance().clone();
    let priced: Arc<dyn Fn(&str) -> bool + Send + Sync> = Arc::new(move |m| gov.has_price(m));
    let models = metrics::configured_models(gateway.clone(), Some(priced));
    gateway.add_hooks(metrics::RequestMetrics::register(&mut registry, models, true));
    registry.register_collector(Box::new(collectors::ProcessCollector::default()));
    registry.register_collector(Box::new(collectors::LogWriterCollector(writer.clone())));
    let service = Arc::new(ConfigService::new(store, gateway.clone(), base, Arc::new(env())));
    let state = AppState::new(gateway.clone(), max_body)
        .with_admin(service, None)
        .with_governance(governance.clone())
        .with_metrics(Arc::new(registry))
        .with_logs(switchyard_core::observability::Logs { store: logs, writer: writer.clone() });
    let mut h = serve_state(fake, gateway, state, switchyard_server::ConnLimits::default(), Some(governance)).await;
    h.log_writer = Some(writer);
    h.log_dir = Some(log_dir);
    h
}

/// The request log's rows for `query` once `n` are there (the writer flushes every 200 ms).
pub async fn log_rows(h: &Harness, query: &str, n: usize) -> Vec<serde_json::Value> {
    for _ in 0..100 {
        let (status, page) = api(h, reqwest::Method::GET, &format!("/api/logs{query}"), None).await;
        assert_eq!(status, 200, "{page}");
        let data = page["data"].as_array().expect("a page has data").clone();
        if data.len() >= n {
            return data;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} rows for {query}");
}
