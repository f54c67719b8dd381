use std::sync::Arc;
use std::time::Instant;

use switchyard_core::Gateway;

use crate::admin::auth::AdminAuth;
use crate::admin::service::ConfigService;

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
}

impl AppState {
    pub fn new(gateway: Gateway, max_body_bytes: usize) -> Self {
        Self { gateway, max_body_bytes, started: Instant::now(), admin: None, admin_auth: AdminAuth::open() }
    }

    /// Enables `/api` and the UI on top of `service`, guarded by `auth`.
    pub fn with_admin(mut self, service: Arc<ConfigService>, auth: Arc<AdminAuth>) -> Self {
        self.admin = Some(service);
        self.admin_auth = auth;
        self
    }
}
