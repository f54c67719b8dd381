use std::sync::Arc;
use std::time::Instant;

use switchyard_core::Gateway;

use crate::admin::auth::AdminAuth;
use crate::admin::service::ConfigService;
use crate::host_policy::HostPolicy;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub gateway: Gateway,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    pub started: Instant,
    /// The management API and UI, when a store backs the gateway.
    pub admin: Option<Arc<ConfigService>>,
    pub admin_auth: Arc<AdminAuth>,
    /// Which `Host` values are answered (DNS-rebinding defence).
    pub hosts: Arc<HostPolicy>,
}

impl AppState {
    pub fn new(gateway: Gateway, max_body_bytes: usize) -> Self {
        Self {
            gateway,
            max_body_bytes,
            started: Instant::now(),
            admin: None,
            admin_auth: AdminAuth::open(),
            hosts: HostPolicy::new(false, Vec::new()),
        }
    }

    /// Enables `/api` and the UI on top of `service`, guarded by `auth`.
    /// Enables `/api` and the UI; an open admin (no token) also turns on the
    /// `Host` check, with `allowed_hosts` added to the loopback names.
    pub fn with_admin(mut self, service: Arc<ConfigService>, auth: Arc<AdminAuth>) -> Self {
        self.hosts = HostPolicy::new(!auth.required(), Vec::new());
        self.admin = Some(service);
        self.admin_auth = auth;
        self
    }

    /// Host names answered besides the loopback ones (and, with a token, the
    /// only ones, when given).
    pub fn with_allowed_hosts(mut self, allowed: Vec<String>) -> Self {
        self.hosts = HostPolicy::new(!self.admin_auth.required() && self.admin.is_some(), allowed);
        self
    }
}
