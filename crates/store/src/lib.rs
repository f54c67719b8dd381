//! Persistence behind a trait. SQLite (WAL, `synchronous=FULL` for config
//! writes, which are rare) is the embedded default.
//!
//! Precedence with a config file: providers named in the file are
//! *file-managed*. At every start the file's version replaces the stored one,
//! and file-managed providers no longer in the file are removed. Providers
//! created by other means (the management API) are never touched by the file.

mod sqlite;

pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot create data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("stored provider {name} is not valid JSON: {source}")]
    Corrupt { name: String, source: serde_json::Error },
    #[error("store lock poisoned")]
    Poisoned,
}

/// Where a provider's definition comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    File,
    Api,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Api => "api",
        }
    }
    fn parse(s: &str) -> Self {
        if s == "file" {
            Self::File
        } else {
            Self::Api
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredProvider {
    pub name: String,
    pub source: Source,
    /// The provider exactly as in the config file format (`env.NAME` kept unresolved).
    pub config: serde_json::Value,
}

pub trait ConfigStore: Send + Sync {
    fn list_providers(&self) -> Result<Vec<StoredProvider>, StoreError>;
    fn get_provider(&self, name: &str) -> Result<Option<StoredProvider>, StoreError>;
    fn upsert_provider(&self, provider: &StoredProvider) -> Result<(), StoreError>;
    fn delete_provider(&self, name: &str) -> Result<bool, StoreError>;
    /// Makes the file-managed providers exactly `providers`, in one transaction.
    fn sync_file_providers(&self, providers: &[(String, serde_json::Value)]) -> Result<(), StoreError>;
}
