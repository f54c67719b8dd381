//! `switchyard serve`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use prometheus_client::registry::Registry;
use switchyard_core::config::{load_file, GovernanceConfig, LoggingConfig, ProcessEnv};
use switchyard_core::config_service::{
    build_config, ApiEnvAllowList, BaseSettings, ConfigError, ConfigService, ConfigStore,
};
use switchyard_core::governance::virtual_key::Pepper;
use switchyard_core::governance::{GovernanceService, GovernanceStore};
use switchyard_core::observability::collectors::{LogWriterCollector, ProcessCollector};
use switchyard_core::observability::hook::Pricer;
use switchyard_core::observability::metrics::{configured_models, RequestMetrics};
use switchyard_core::Gateway;
use switchyard_server::{AppState, ConnLimits};
use switchyard_store::SqliteStore;

use crate::cli::ServeArgs;
use crate::request_log;

pub fn run(args: ServeArgs) -> ExitCode {
    crate::telemetry::init_logs(&args.log, args.telemetry.log_format);
    // On one CPU (or pinned to one) the single-threaded scheduler skips the
    // work-stealing machinery: measurably lower latency per request (bench/).
    let one_cpu = std::thread::available_parallelism().map(|n| n.get() == 1).unwrap_or(false);
    let mut builder = if one_cpu {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The file's settings that live outside the store.
struct FileSettings {
    base: BaseSettings,
    governance: GovernanceConfig,
    logging: LoggingConfig,
}

/// Loads the file (if any) into the store, its providers and routes as
/// file-managed; returns the settings that live outside the store (client
/// limits, default provider, governance settings and prices, logging).
async fn load_file_into_store(args: &ServeArgs, store: &dyn ConfigStore) -> anyhow::Result<FileSettings> {
    let mut base = BaseSettings::default();
    let mut governance = GovernanceConfig::default();
    let mut logging = LoggingConfig::default();
    if let Some(path) = &args.config {
        let (file_config, warnings) =
            load_file(path, &ProcessEnv).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        for w in warnings {
            tracing::warn!("{}: {w}", path.display());
        }
        let providers = file_config
            .providers
            .iter()
            .map(|(name, p)| serde_json::to_value(p).map(|v| (name.clone(), v)))
            .collect::<Result<Vec<_>, _>>()
            .context("encoding providers for the store")?;
        let routes = file_config
            .routes
            .iter()
            .map(|(name, r)| serde_json::to_value(r).map(|v| (name.clone(), v)))
            .collect::<Result<Vec<_>, _>>()
            .context("encoding routes for the store")?;
        store.sync_file_providers(&providers).await.context("saving file providers")?;
        store.sync_file_routes(&routes).await.context("saving file routes")?;
        base.client = file_config.client;
        base.default_provider = file_config.default_provider;
        governance = file_config.governance;
        logging = file_config.logging;
    }
    if let Some(mb) = args.max_body_size_mb {
        base.client.max_request_body_size_mb = Some(mb);
    }
    base.api_env_allow = ApiEnvAllowList::new(args.api_env_allow.iter().cloned());
    Ok(FileSettings { base, governance, logging })
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let token = args.admin_token.as_deref().map(str::trim).filter(|t| !t.is_empty());
    if args.admin_token.is_some() && token.is_none() {
        anyhow::bail!(
            "the admin token is empty or only whitespace: set a real secret, or unset it on a loopback address"
        );
    }
    if std::env::args().any(|a| a == "--admin-token" || a.starts_with("--admin-token=")) {
        tracing::warn!(
            "--admin-token on the command line is visible to every user in `ps`; set SWITCHYARD_ADMIN_TOKEN instead"
        );
    }
    for t in [args.header_read_timeout_secs, args.body_read_timeout_secs, args.idle_timeout_secs] {
        if t == 0 {
            anyhow::bail!("client timeouts must be at least 1 second");
        }
    }
    if !args.host.is_loopback() && token.is_none() {
        anyhow::bail!(
            "listening on {} exposes the admin UI and /api beyond this machine: set --admin-token or SWITCHYARD_ADMIN_TOKEN",
            args.host
        );
    }
    let sqlite = Arc::new(
        SqliteStore::open_dir(&args.data_dir)
            .await
            .with_context(|| format!("opening the store in {}", args.data_dir.display()))?,
    );
    let store: Arc<dyn ConfigStore> = sqlite.clone();
    let FileSettings { base, governance: governance_config, logging } =
        load_file_into_store(&args, store.as_ref()).await?;
    let config = build_config(&base, store.as_ref(), &ProcessEnv).await.map_err(|e| match e {
        ConfigError::Invalid(d) => anyhow::anyhow!(
            "the stored configuration is invalid:\n  {}",
            d.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  ")
        ),
        other => anyhow::anyhow!("{other}"),
    })?;
    let max_body = config.max_request_body_bytes();
    let names: Vec<String> = config.providers.keys().cloned().collect();
    let gateway = Gateway::new(config).context("building providers")?;
    let governance = start_governance(&args, sqlite.clone(), governance_config).await?;
    gateway.add_hooks(governance.governance().clone());
    let checkpoints = governance.spawn_checkpoints();
    let pricing = governance.governance().clone();
    let pricer: Pricer = Arc::new(move |model, usage| pricing.price(model, usage));
    let request_log =
        if args.no_request_log { None } else { Some(request_log::start(&args, logging, pricer, &gateway).await?) };
    let metrics = metrics(&args, &gateway, &governance, request_log.as_ref());
    let traces = crate::telemetry::Traces::start(&args.telemetry)?;
    if let Some(t) = &traces {
        gateway.add_hooks(t.hook());
    }
    let service = Arc::new(ConfigService::new(store, gateway.clone(), base, Arc::new(ProcessEnv)));
    let state = AppState::new(gateway, max_body)
        .with_admin(service, token.map(str::to_string))
        .with_governance(governance.clone())
        .with_metrics(metrics)
        .with_allowed_hosts(args.allowed_hosts.clone());
    let state = match &request_log {
        Some(r) => state.with_logs(r.logs.clone()),
        None => state,
    };
    let app = switchyard_server::router(state);
    let addr = SocketAddr::new(args.host, args.port);
    let listener = switchyard_server::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!(providers = ?names, data_dir = %args.data_dir.display(), "switchyard ready");
    // Tests and scripts read this line to find the port when --port 0 is used.
    println!("switchyard listening on http://{local}");
    let limits = ConnLimits {
        header_read_timeout: Duration::from_secs(args.header_read_timeout_secs),
        body_read_timeout: Duration::from_secs(args.body_read_timeout_secs),
        idle_timeout: Duration::from_secs(args.idle_timeout_secs),
        max_connections: args.max_connections.max(1),
    };
    let grace = Duration::from_secs(args.shutdown_grace_secs);
    switchyard_server::serve_with(listener, app, shutdown_signal(), grace, limits).await?;
    // Requests have settled: the last counters reach the store before exit.
    checkpoints.abort();
    if let Err(e) = governance.checkpoint().await {
        tracing::error!("cannot save the limit counters at shutdown: {e}");
    }
    if let Some(r) = request_log {
        r.stop().await;
    }
    if let Some(t) = &traces {
        t.shutdown().await;
    }
    // The last connection to close folds the WAL into the database file; a
    // query still running after the grace period does not hold up the exit.
    let _ = tokio::time::timeout(Duration::from_secs(2), sqlite.close()).await;
    tracing::info!("stopped");
    Ok(())
}

/// The Prometheus registry of `/metrics`, its request hook on the gateway.
fn metrics(
    args: &ServeArgs,
    gateway: &Gateway,
    governance: &Arc<GovernanceService>,
    request_log: Option<&request_log::Running>,
) -> Arc<Registry> {
    let mut registry = Registry::default();
    let gov = governance.governance().clone();
    let priced: Arc<dyn Fn(&str) -> bool + Send + Sync> = Arc::new(move |m| gov.has_price(m));
    let models = configured_models(gateway.clone(), Some(priced));
    gateway.add_hooks(RequestMetrics::register(&mut registry, models, args.metrics_key_labels));
    registry.register_collector(Box::new(ProcessCollector::default()));
    if let Some(r) = request_log {
        registry.register_collector(Box::new(LogWriterCollector(r.logs.writer.clone())));
    }
    Arc::new(registry)
}

/// Governance over the store: the data directory's pepper, in-memory
/// counters restored from their last checkpoint, budget alerts.
async fn start_governance(
    args: &ServeArgs,
    store: Arc<SqliteStore>,
    config: GovernanceConfig,
) -> anyhow::Result<Arc<GovernanceService>> {
    let pepper = Pepper::load_or_create(&args.data_dir)
        .with_context(|| format!("reading the virtual-key pepper in {}", args.data_dir.display()))?;
    let store: Arc<dyn GovernanceStore> = store;
    GovernanceService::start(store, pepper, config)
        .await
        .map_err(|e| anyhow::anyhow!("loading governance from the store: {e}"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => futures_pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = futures_pending();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

async fn futures_pending() {
    std::future::pending::<()>().await
}
