//! The configuration service: providers and routes edited at run time (management API,
//! UI), validated, persisted through a [`ConfigStore`], then applied by
//! swapping the gateway's snapshot.
//!
//! - [`store`]: the persistence trait the service needs, and its row types.
//! - [`build`]: the gateway configuration from base settings plus the store.
//! - [`service`]: providers: create, update, delete, list; validate → persist → swap.
//! - [`routes`]: the same for routes (virtual models).
//! - [`env_policy`]: which `env.NAME` references an API caller may write.
//! - [`redact`]: secrets masked on the way out, restored when sent back.
//! - [`error`]: why an edit failed, for front ends to render.

pub mod build;
pub mod env_policy;
pub mod error;
pub mod redact;
pub mod routes;
pub mod service;
pub mod store;

pub use build::{build_config, BaseSettings};
pub use env_policy::ApiEnvAllowList;
pub use error::{ConfigError, Entity};
pub use routes::{RouteView, SavedRoute};
pub use service::{ConfigService, ProviderView, Saved};
pub use store::{BackendError, ConfigStore, Source, StoreError, StoredProvider, StoredRoute};

#[cfg(test)]
mod tests;
