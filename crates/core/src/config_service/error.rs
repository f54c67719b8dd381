//! Why an edit or a load of the configuration failed. Front ends map these to
//! their own terms (the HTTP admin API: a status and its JSON error).

use super::store::StoreError;
use crate::config::{ConfigDiagnostic, Severity};
use crate::provider::ProviderBuildError;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("provider {0:?} not found")]
    NotFound(String),
    #[error("provider {0:?} already exists")]
    Exists(String),
    #[error("provider {0:?} is managed by the config file; edit the file and restart to change it")]
    FileManaged(String),
    /// The configuration does not validate; every diagnostic at once, errors and warnings.
    #[error("invalid provider")]
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
