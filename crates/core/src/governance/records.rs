//! What governance keeps: virtual keys, teams and prices as stored (the
//! policies are in [`super::policy`]), and the persistence they need.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::policy::Policy;
use super::virtual_key::SecretHash;
use crate::config_service::StoreError;

/// A virtual key as stored: never its secret, only the secret's hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The public id (`sk-sy-<id>-…`).
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Globs over `<provider>/<model>` and route names; empty = every model (the team's list still applies).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    /// Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub enabled: bool,
    /// Unix seconds; a revoked key never works again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    pub hash: SecretHash,
    /// The secret before the last rotation, and until when it still works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<PreviousSecret>,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<i64>,
    /// Store this key's request and response payloads in the request log
    /// (`None`: as its team, else as the global setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_payloads: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviousSecret {
    pub hash: SecretHash,
    /// Unix seconds.
    pub until: i64,
}

/// A team: its keys share its model list, tags and policies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    pub created_at: i64,
    /// Store payloads of the team's requests (`None`: as the global setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_payloads: Option<bool>,
}

pub use crate::config::Price;

/// One limit counter as checkpointed: which counter, and its state as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct CounterRow {
    pub key: String,
    pub state: String,
}

/// Persistence of governance records. Implemented by `switchyard-store`
/// (SQLite now, Postgres with many replicas) beside [`crate::config_service::ConfigStore`].
#[async_trait::async_trait]
pub trait GovernanceStore: Send + Sync {
    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError>;
    async fn put_key(&self, key: &KeyRecord) -> Result<(), StoreError>;
    async fn delete_key(&self, id: &str) -> Result<bool, StoreError>;

    async fn list_teams(&self) -> Result<Vec<Team>, StoreError>;
    async fn put_team(&self, team: &Team) -> Result<(), StoreError>;
    async fn delete_team(&self, name: &str) -> Result<bool, StoreError>;

    async fn list_policies(&self) -> Result<Vec<Policy>, StoreError>;
    async fn put_policy(&self, policy: &Policy) -> Result<(), StoreError>;
    async fn delete_policy(&self, id: &str) -> Result<bool, StoreError>;

    async fn list_prices(&self) -> Result<Vec<Price>, StoreError>;
    /// Makes the stored price table exactly `prices`, in one transaction.
    async fn replace_prices(&self, prices: &[Price]) -> Result<(), StoreError>;

    /// Every checkpointed counter.
    async fn load_counters(&self) -> Result<Vec<CounterRow>, StoreError>;
    /// Upserts `rows` and deletes the counters named in `removed`, in one transaction.
    async fn save_counters(&self, rows: &[CounterRow], removed: &[String]) -> Result<(), StoreError>;
}
