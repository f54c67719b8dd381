//! Persistence for Switchyard: the core [`ConfigStore`] over an embedded
//! SQLite database, through `sqlx`.
//!
//! - [`SqliteStore`]: the pools and how the database file is opened (WAL,
//!   `synchronous=FULL`, one writer).
//! - `migrate`: the schema, as files under `crates/store/migrations/`
//!   embedded at build time, and the adoption of databases made by the
//!   pre-sqlx store.
//! - `queries`: the [`ConfigStore`] queries, providers and routes alike.
//! - `governance`: the core `GovernanceStore`: keys, teams, policies, prices, counters.
//! - [`SqliteLogStore`]: the request log, in a file of its own (`logs.db`, migrations in `log_migrations/`);
//!   `segment`: its storage unit (a writer batch's rows as one stored row, with zone maps);
//!   `log_write`: its writes, on the connection `writer_thread` owns (rusqlite);
//!   `usage`: its hourly rollups as read.
//!
//! A migration, once released, is never edited (sqlx checks each applied
//! migration's checksum at every start): a change is a new file.
//!
//! [`ConfigStore`]: switchyard_core::config_service::ConfigStore

mod governance;
mod log_write;
mod logs;
mod migrate;
mod queries;
mod segment;
mod sqlite;
mod usage;
mod writer_thread;

pub use logs::SqliteLogStore;
pub use sqlite::SqliteStore;
pub use writer_thread::WriterError;

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir { path: String, source: std::io::Error },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot migrate the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot open the request log's writer connection: {0}")]
    LogWriter(#[from] writer_thread::WriterError),
    /// `PRAGMA user_version` beyond what the pre-sqlx store ever wrote.
    #[error("the database has schema version {0}, which no Switchyard release wrote; refusing to touch it")]
    UnknownLegacyVersion(i64),
}
