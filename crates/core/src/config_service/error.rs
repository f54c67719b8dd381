//! Why an edit or a load of the configuration failed. Front ends map these to
//! their own terms (the HTTP admin API: a status and its JSON error).

use super::store::StoreError;
use crate::config::{ConfigDiagnostic, Severity};
use crate::provider::ProviderBuildError;

/// What an edit is about: providers and routes (the configuration service),
/// keys, teams, policies and prices (governance).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Provider,
    Route,
    Key,
    Team,
    Policy,
    Price,
}

impl std::fmt::Display for Entity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Provider => "provider",
            Self::Route => "route",
            Self::Key => "virtual key",
            Self::Team => "team",
            Self::Policy => "policy",
            Self::Price => "price",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} {1:?} not found")]
    NotFound(Entity, String),
    #[error("{0} {1:?} already exists")]
    Exists(Entity, String),
    #[error("{0} {1:?} is managed by the config file; edit the file and restart to change it")]
    FileManaged(Entity, String),
    /// The configuration does not validate; every diagnostic at once, errors and warnings.
    #[error("invalid configuration")]
    Invalid(Vec<ConfigDiagnostic>),
    /// An edit the service does not accept as sent (not an object, a rename, a
    /// redacted value with nothing stored behind it).
    #[error("{0}")]
    Rejected(String),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// Valid, persisted, but the gateway could not be built from it (an
    /// environment change since validation); the store was put back.
    #[error("cannot apply the configuration: {0}")]
    Apply(#[from] ProviderBuildError),
}

impl ConfigError {
    /// The error diagnostics of [`ConfigError::Invalid`] (none for other kinds).
    pub fn errors(&self) -> impl Iterator<Item = &ConfigDiagnostic> {
        let all: &[ConfigDiagnostic] = match self {
            Self::Invalid(d) => d,
            _ => &[],
        };
        all.iter().filter(|d| d.severity == Severity::Error)
    }

    /// The disk holding the store is full: nothing was changed.
    pub fn is_storage_full(&self) -> bool {
        matches!(self, Self::Store(StoreError::Full(_)))
    }
}
