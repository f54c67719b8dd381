use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

use crate::OpenError;

/// How long a statement waits for another process holding the database lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Read connections at most; config reads are few and short.
const READERS: u32 = 4;

/// Providers in one SQLite file (`switchyard.db`).
///
/// Two pools over the file. Writes go through a pool of **one** connection:
/// SQLite admits one writer at a time anyway, so writers queue here, in
/// order, instead of meeting `SQLITE_BUSY`; that connection commits with
/// `synchronous=FULL` (an acknowledged config write survives power loss;
/// writes are rare, so the fsync costs nothing that matters). Reads go
/// through a small pool of `query_only` connections that WAL lets run beside
/// the writer, so a listing never waits for a commit's fsync.
pub struct SqliteStore {
    pub(crate) write: SqlitePool,
    pub(crate) read: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) `switchyard.db` in `data_dir`.
    pub async fn open_dir(data_dir: &Path) -> Result<Self, OpenError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| OpenError::DataDir { path: data_dir.display().to_string(), source })?;
        Self::open(&data_dir.join("switchyard.db")).await
    }

    /// Opens (creating if needed) the database at `path` and brings its schema
    /// up to date, adopting a database made by the pre-sqlx store.
    pub async fn open(path: &Path) -> Result<Self, OpenError> {
        let file = SqliteConnectOptions::new().filename(path).busy_timeout(BUSY_TIMEOUT).foreign_keys(true);
        let writer = file
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        // The writer stays open for the life of the store: it keeps the WAL
        // and its index in place for the readers.
        let write = one_connection().connect_with(writer).await?;
        crate::migrate::run(&write).await?;
        let read =
            SqlitePoolOptions::new().max_connections(READERS).connect_with(file.pragma("query_only", "ON")).await?;
        Ok(Self { write, read })
    }

    /// A private database in memory (tests, embedding): one connection for
    /// reads and writes, since each connection would see a database of its own.
    pub async fn in_memory() -> Result<Self, OpenError> {
        let pool = one_connection().connect_with(SqliteConnectOptions::new().in_memory(true)).await?;
        crate::migrate::run(&pool).await?;
        Ok(Self { write: pool.clone(), read: pool })
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// A pool that holds exactly one connection, opened now and kept.
fn one_connection() -> SqlitePoolOptions {
    SqlitePoolOptions::new().max_connections(1).min_connections(1).idle_timeout(None).max_lifetime(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_writer_that_syncs_fully_and_readers_that_cannot_write() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open_dir(dir.path()).await.unwrap();
        assert_eq!(s.write.options().get_max_connections(), 1);
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&s.write).await.unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&s.read).await.unwrap();
        assert_eq!(mode, "wal");
        assert!(sqlx::query("DELETE FROM providers").execute(&s.read).await.is_err(), "query_only");
    }
}
