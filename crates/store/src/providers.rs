//! The [`ConfigStore`] queries.

use serde_json::Value;
use switchyard_core::config_service::{ConfigStore, Source, StoreError, StoredProvider};

use crate::SqliteStore;

/// SQLite's primary result code for "database or disk is full".
const SQLITE_FULL: i32 = 13;

const UPSERT: &str = "INSERT INTO providers (name, source, config, updated_at) VALUES (?1, ?2, ?3, unixepoch())
     ON CONFLICT(name) DO UPDATE SET source = excluded.source, config = excluded.config, updated_at = excluded.updated_at";

type Row = (String, String, String);

fn row_to_provider((name, source, config): Row) -> Result<StoredProvider, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { name: name.clone(), reason };
    let source = Source::parse(&source).ok_or_else(|| corrupt(format!("unknown source {source:?}")))?;
    let config = serde_json::from_str(&config).map_err(|e| corrupt(format!("config is not valid JSON: {e}")))?;
    Ok(StoredProvider { name, source, config })
}

/// Sorts a full disk (nothing was written; the caller may say so) from the rest.
fn store_error(e: sqlx::Error) -> StoreError {
    let full = match &e {
        sqlx::Error::Database(d) => {
            d.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| c & 0xff == SQLITE_FULL)
        }
        sqlx::Error::Io(io) => io.kind() == std::io::ErrorKind::StorageFull,
        _ => false,
    };
    if full {
        StoreError::Full(Box::new(e))
    } else {
        StoreError::Backend(Box::new(e))
    }
}

#[async_trait::async_trait]
impl ConfigStore for SqliteStore {
    async fn list_providers(&self) -> Result<Vec<StoredProvider>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as("SELECT name, source, config FROM providers ORDER BY name")
            .fetch_all(&self.read)
            .await
            .map_err(store_error)?;
        rows.into_iter().map(row_to_provider).collect()
    }

    async fn get_provider(&self, name: &str) -> Result<Option<StoredProvider>, StoreError> {
        let row: Option<Row> = sqlx::query_as("SELECT name, source, config FROM providers WHERE name = ?1")
            .bind(name)
            .fetch_optional(&self.read)
            .await
            .map_err(store_error)?;
        row.map(row_to_provider).transpose()
    }

    async fn upsert_provider(&self, p: &StoredProvider) -> Result<(), StoreError> {
        sqlx::query(UPSERT)
            .bind(&p.name)
            .bind(p.source.as_str())
            .bind(p.config.to_string())
            .execute(&self.write)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn delete_provider(&self, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM providers WHERE name = ?1")
            .bind(name)
            .execute(&self.write)
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn sync_file_providers(&self, providers: &[(String, Value)]) -> Result<(), StoreError> {
        // IMMEDIATE: take the write lock up front, so another process's writer
        // makes this wait (busy timeout) rather than fail halfway.
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await.map_err(store_error)?;
        let existing: Vec<String> = sqlx::query_scalar("SELECT name FROM providers WHERE source = 'file'")
            .fetch_all(&mut *tx)
            .await
            .map_err(store_error)?;
        for name in existing.iter().filter(|n| !providers.iter().any(|(p, _)| p == *n)) {
            sqlx::query("DELETE FROM providers WHERE name = ?1")
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        for (name, config) in providers {
            sqlx::query(UPSERT)
                .bind(name)
                .bind(Source::File.as_str())
                .bind(config.to_string())
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }
}
