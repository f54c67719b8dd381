use std::time::Instant;

use switchyard_core::Gateway;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub gateway: Gateway,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    pub started: Instant,
}

impl AppState {
    pub fn new(gateway: Gateway, max_body_bytes: usize) -> Self {
        Self { gateway, max_body_bytes, started: Instant::now() }
    }
}
