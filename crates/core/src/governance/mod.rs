//! Governance: who may call, and how much.
//!
//! - [`virtual_key`]: the `sk-sy-<id>-<secret>` format and how secrets are kept.
//! - [`records`]: keys, teams and prices as stored, and [`GovernanceStore`].
//! - [`policy`]: limits and budgets with a scope; [`validate`] reads them from JSON.
//! - [`limiter`]: the counters (GCRA rates, slots, budgets) behind [`LimitStore`].
//! - [`period`]: calendar UTC periods.
//! - [`prices`]: the price table (unknown is never zero).
//! - [`directory`]: the compiled view a request reads, and the settings.
//! - [`gate`]: [`Governance`], the lifecycle hook (identify, admit, settle).
//! - [`headers`]: the rate-limit headers of each dialect.
//! - [`alerts`]: budget alert webhooks, off the request path.
//! - [`service`]: [`GovernanceService`]: edits validated, persisted, applied; counter checkpoints.

pub mod alerts;
pub mod directory;
pub mod gate;
pub mod headers;
pub mod limiter;
pub mod period;
pub mod policy;
pub mod prices;
pub mod records;
pub mod service;
pub mod validate;
pub mod virtual_key;

pub use gate::Governance;
pub use limiter::LimitStore;
pub use records::GovernanceStore;
pub use service::GovernanceService;
