use std::sync::Arc;
use std::time::Instant;

use axum::extract::FromRef;
use switchyard_core::config_service::ConfigService;
use switchyard_core::governance::GovernanceService;
use switchyard_core::observability::Logs;
use switchyard_core::Gateway;

use crate::admin::auth::AdminAuth;
use crate::host_policy::HostPolicy;

/// Shared by every handler. Handlers that need one part take it alone
/// (`State<Gateway>`, `State<Arc<AdminAuth>>`) through [`FromRef`].
#[derive(Clone)]
pub struct AppState {
    pub gateway: Gateway,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    pub started: Instant,
    /// The management API and UI, when a store backs the gateway.
    pub admin: Option<Arc<ConfigService>>,
    /// `/api/keys`, `/api/teams`, `/api/policies`, `/api/prices`, when governance is on.
    pub governance: Option<Arc<GovernanceService>>,
    /// `/api/logs`, when the request log is on.
    pub logs: Option<Logs>,
    /// `/metrics`, when metrics are on.
    pub metrics: Option<Arc<prometheus_client::registry::Registry>>,
    pub admin_auth: Arc<AdminAuth>,
    /// Which `Host` values are answered (DNS-rebinding defence).
    pub hosts: Arc<HostPolicy>,
}

impl FromRef<AppState> for Gateway {
    fn from_ref(state: &AppState) -> Self {
        state.gateway.clone()
    }
}

impl FromRef<AppState> for Arc<AdminAuth> {
    fn from_ref(state: &AppState) -> Self {
        state.admin_auth.clone()
    }
}

impl AppState {
    pub fn new(gateway: Gateway, max_body_bytes: usize) -> Self {
        Self {
            gateway,
            max_body_bytes,
            started: Instant::now(),
            admin: None,
            governance: None,
            logs: None,
            metrics: None,
            admin_auth: AdminAuth::open(),
            hosts: HostPolicy::new(false, Vec::new()),
        }
    }

    /// Enables `/api` and the UI on top of `service`. `token` guards them
    /// (`None`: open, for a loopback bind); an open admin also turns on the
    /// `Host` check (DNS rebinding).
    pub fn with_admin(mut self, service: Arc<ConfigService>, token: Option<String>) -> Self {
        let auth = match token {
            Some(token) => AdminAuth::with_token(token),
            None => AdminAuth::open(),
        };
        self.hosts = HostPolicy::new(!auth.required(), Vec::new());
        self.admin = Some(service);
        self.admin_auth = auth;
        self
    }

    /// Enables the governance API; its hook must already be on the gateway.
    pub fn with_governance(mut self, service: Arc<GovernanceService>) -> Self {
        self.governance = Some(service);
        self
    }

    /// Enables `/api/logs`, `/api/logs/tail` and `/api/usage` over the request log.
    pub fn with_logs(mut self, logs: Logs) -> Self {
        self.logs = Some(logs);
        self
    }

    /// Serves `registry` at `/metrics` (its hooks must already be on the gateway).
    pub fn with_metrics(mut self, registry: Arc<prometheus_client::registry::Registry>) -> Self {
        self.metrics = Some(registry);
        self
    }

    /// Host names answered besides the loopback ones (and, with a token, the
    /// only ones, when given).
    pub fn with_allowed_hosts(mut self, allowed: Vec<String>) -> Self {
        self.hosts = HostPolicy::new(!self.admin_auth.required() && self.admin.is_some(), allowed);
        self
    }
}
