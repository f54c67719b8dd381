//! What the configuration service needs from persistence. The trait lives
//! here, beside its one consumer, and `switchyard-store` implements it
//! (SQLite today; Postgres for many replicas later), so core never depends on
//! a database crate and a store never reaches into the service.
//!
//! The methods are async (`async-trait`): the service holds the store as
//! `Arc<dyn ConfigStore>`, and native `async fn` in traits cannot be called
//! through `dyn` yet. The boxed future per call is nothing next to a database
//! round trip, and it keeps every implementation a plain `async fn`.

use serde_json::Value;

/// The error of a storage backend, whatever it is.
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The disk holding the database has no room: the write did not happen.
    #[error("database or disk is full: {0}")]
    Full(#[source] BackendError),
    /// A stored row that cannot be read back (hand-edited, or a bug).
    #[error("stored {what} {name} is corrupt: {reason}")]
    Corrupt { what: &'static str, name: String, reason: String },
    #[error("database error: {0}")]
    Backend(#[source] BackendError),
}

/// Where a provider's or a route's definition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Named in the config file: the file's version wins at every start.
    File,
    /// Created through the management API or the UI.
    Api,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Api => "api",
        }
    }

    /// The inverse of [`Source::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "file" => Some(Self::File),
            "api" => Some(Self::Api),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredProvider {
    pub name: String,
    pub source: Source,
    /// The provider exactly as in the config file format (`env.NAME` kept unresolved).
    pub config: Value,
}

/// A route (virtual model), stored like a provider.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRoute {
    pub name: String,
    pub source: Source,
    /// The route exactly as in the config file format (`targets`, `fallbacks`).
    pub config: Value,
}

/// Persistence of providers and routes. Precedence with a config file: those
/// named in the file are *file-managed*; [`ConfigStore::sync_file_providers`]
/// and [`ConfigStore::sync_file_routes`] make the stored file-managed sets
/// equal to the file's at every start, and never touch what was created by
/// other means.
#[async_trait::async_trait]
pub trait ConfigStore: Send + Sync {
    /// Every provider, by name.
    async fn list_providers(&self) -> Result<Vec<StoredProvider>, StoreError>;
    async fn get_provider(&self, name: &str) -> Result<Option<StoredProvider>, StoreError>;
    /// Creates or replaces `provider` (its source included).
    async fn upsert_provider(&self, provider: &StoredProvider) -> Result<(), StoreError>;
    /// `false` when there was no such provider.
    async fn delete_provider(&self, name: &str) -> Result<bool, StoreError>;
    /// Makes the file-managed providers exactly `providers`, in one transaction.
    async fn sync_file_providers(&self, providers: &[(String, Value)]) -> Result<(), StoreError>;

    /// Every route, by name.
    async fn list_routes(&self) -> Result<Vec<StoredRoute>, StoreError>;
    async fn get_route(&self, name: &str) -> Result<Option<StoredRoute>, StoreError>;
    /// Creates or replaces `route` (its source included).
    async fn upsert_route(&self, route: &StoredRoute) -> Result<(), StoreError>;
    /// `false` when there was no such route.
    async fn delete_route(&self, name: &str) -> Result<bool, StoreError>;
    /// Makes the file-managed routes exactly `routes`, in one transaction.
    async fn sync_file_routes(&self, routes: &[(String, Value)]) -> Result<(), StoreError>;
}
