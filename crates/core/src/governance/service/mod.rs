//! The one place where keys, teams, policies and prices change at run time
//! (management API, UI, CLI): validated, persisted, then applied by swapping
//! a rebuilt [`Directory`] into the [`Governance`] hook. The counters are
//! checkpointed to the store in the background, so a restart forgets no spend.
//!
//! - `keys`: virtual keys (create → the secret once, rotate, revoke) and teams.
//! - `policies`: policies, their reset and state, and the shorthands keys and teams carry.
//! - `prices`: the price table.

mod keys;
mod policies;
mod prices;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

pub use keys::{KeyBody, KeyView, TeamBody, TeamView};
pub use policies::{PolicyState, PolicyView};
pub use prices::PriceView;

use super::alerts::Alerts;
use super::directory::{Directory, Settings};
use super::gate::Governance;
use super::limiter::{LimitStore, MemoryLimits};
use super::records::{GovernanceStore, Price};
use super::virtual_key::Pepper;
use crate::config::GovernanceConfig;
use crate::config_service::ConfigError;

/// How often changed counters are written to the store.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(2);

pub struct GovernanceService {
    store: Arc<dyn GovernanceStore>,
    gov: Arc<Governance>,
    settings: Settings,
    /// From the config file: shown read-only, and they win over API prices of the same model.
    file_prices: Vec<Price>,
    /// Serialises edits so that validate → persist → swap is atomic.
    write: Mutex<()>,
}

impl GovernanceService {
    /// Loads every record and checkpointed counter and builds the hook's directory.
    pub async fn open(
        store: Arc<dyn GovernanceStore>,
        gov: Arc<Governance>,
        settings: Settings,
        file_prices: Vec<Price>,
    ) -> Result<Self, ConfigError> {
        let counters = store.load_counters().await?;
        gov.limits().restore(&counters);
        let service = Self { store, gov, settings, file_prices, write: Mutex::new(()) };
        service.reload().await?;
        Ok(service)
    }

    /// Governance as a server runs it: in-memory counters restored from the
    /// store's checkpoint, budget alerts sent by a background task (so this
    /// needs a Tokio runtime). Add [`GovernanceService::governance`] to the
    /// gateway's hooks and start [`GovernanceService::spawn_checkpoints`].
    pub async fn start(
        store: Arc<dyn GovernanceStore>,
        pepper: Pepper,
        config: GovernanceConfig,
    ) -> Result<Arc<Self>, ConfigError> {
        let client = reqwest::Client::builder()
            .build()
            .map_err(|e| ConfigError::Rejected(format!("cannot build the alert webhook client: {e}")))?;
        let limits: Arc<dyn LimitStore> = Arc::new(MemoryLimits::new());
        let gov = Arc::new(Governance::new(Directory::default(), pepper, limits, Alerts::start(client)));
        Ok(Arc::new(Self::open(store, gov, config.settings, config.prices).await?))
    }

    pub fn governance(&self) -> &Arc<Governance> {
        &self.gov
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Rebuilds the directory from the store and swaps it in.
    async fn reload(&self) -> Result<(), ConfigError> {
        let keys = self.store.list_keys().await?;
        let teams = self.store.list_teams().await?;
        let policies = self.store.list_policies().await?;
        let prices = self.merged_prices().await?;
        self.gov.replace(Directory::new(keys, teams, policies, &prices, self.settings.clone()));
        Ok(())
    }

    /// File prices, then the API's for models the file does not price.
    async fn merged_prices(&self) -> Result<Vec<Price>, ConfigError> {
        let mut all = self.file_prices.clone();
        for p in self.store.list_prices().await? {
            if !all.iter().any(|f| f.model == p.model) {
                all.push(p);
            }
        }
        Ok(all)
    }

    /// Writes the counters changed since the last call.
    pub async fn checkpoint(&self) -> Result<(), ConfigError> {
        let (rows, removed) = self.gov.limits().checkpoint();
        if rows.is_empty() && removed.is_empty() {
            return Ok(());
        }
        if let Err(e) = self.store.save_counters(&rows, &removed).await {
            self.gov.limits().requeue(&rows, removed);
            return Err(e.into());
        }
        Ok(())
    }

    /// Checkpoints every [`CHECKPOINT_EVERY`] until the service is dropped.
    pub fn spawn_checkpoints(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(service) = weak.upgrade() else { return };
                if let Err(e) = service.checkpoint().await {
                    tracing::error!("cannot checkpoint limit counters (will retry): {e}");
                }
            }
        })
    }
}

/// Unix seconds now.
fn now_secs() -> i64 {
    i64::try_from(super::period::now_ms() / 1000).unwrap_or(i64::MAX)
}
