//! The [`ConfigStore`] queries. Providers and routes are stored alike (name,
//! source, config JSON), each in a table of its own; [`Table`] holds one
//! table's statements, so both go through the same few functions.

use serde_json::Value;
use switchyard_core::config_service::{ConfigStore, Source, StoreError, StoredProvider, StoredRoute};

use crate::SqliteStore;

/// SQLite's primary result code for "database or disk is full".
const SQLITE_FULL: i32 = 13;

/// One table's statements. Table names cannot be bound as parameters, so each
/// statement is spelt out whole, once, at compile time.
struct Table {
    /// What a row is, for errors: "provider", "route".
    what: &'static str,
    list: &'static str,
    get: &'static str,
    upsert: &'static str,
    delete: &'static str,
    file_names: &'static str,
}

macro_rules! table {
    ($what:literal, $table:literal) => {
        Table {
            what: $what,
            list: concat!("SELECT name, source, config FROM ", $table, " ORDER BY name"),
            get: concat!("SELECT name, source, config FROM ", $table, " WHERE name = ?1"),
            upsert: concat!(
                "INSERT INTO ",
                $table,
                " (name, source, config, updated_at) VALUES (?1, ?2, ?3, unixepoch())
     ON CONFLICT(name) DO UPDATE SET source = excluded.source, config = excluded.config, updated_at = excluded.updated_at"
            ),
            delete: concat!("DELETE FROM ", $table, " WHERE name = ?1"),
            file_names: concat!("SELECT name FROM ", $table, " WHERE source = 'file'"),
        }
    };
}

const PROVIDERS: Table = table!("provider", "providers");
const ROUTES: Table = table!("route", "routes");

type Row = (String, String, String);

/// A row read back: name, source, config.
type Parsed = (String, Source, Value);

fn parse_row(what: &'static str, (name, source, config): Row) -> Result<Parsed, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { what, name: name.clone(), reason };
    let source = Source::parse(&source).ok_or_else(|| corrupt(format!("unknown source {source:?}")))?;
    let config = serde_json::from_str(&config).map_err(|e| corrupt(format!("config is not valid JSON: {e}")))?;
    Ok((name, source, config))
}

fn provider((name, source, config): Parsed) -> StoredProvider {
    StoredProvider { name, source, config }
}

fn route((name, source, config): Parsed) -> StoredRoute {
    StoredRoute { name, source, config }
}

/// Sorts a full disk (nothing was written; the caller may say so) from the rest.
pub(crate) fn store_error(e: sqlx::Error) -> StoreError {
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

impl SqliteStore {
    async fn list(&self, t: &Table) -> Result<Vec<Parsed>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(t.list).fetch_all(&self.read).await.map_err(store_error)?;
        rows.into_iter().map(|r| parse_row(t.what, r)).collect()
    }

    async fn get(&self, t: &Table, name: &str) -> Result<Option<Parsed>, StoreError> {
        let row: Option<Row> =
            sqlx::query_as(t.get).bind(name).fetch_optional(&self.read).await.map_err(store_error)?;
        row.map(|r| parse_row(t.what, r)).transpose()
    }

    async fn upsert(&self, t: &Table, name: &str, source: Source, config: &Value) -> Result<(), StoreError> {
        sqlx::query(t.upsert)
            .bind(name)
            .bind(source.as_str())
            .bind(config.to_string())
            .execute(&self.write)
            .await
            .map_err(store_error)?;
        Ok(())
    }

    async fn delete(&self, t: &Table, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(t.delete).bind(name).execute(&self.write).await.map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }

    async fn sync_file(&self, t: &Table, rows: &[(String, Value)]) -> Result<(), StoreError> {
        // IMMEDIATE: take the write lock up front, so another process's writer
        // makes this wait (busy timeout) rather than fail halfway.
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await.map_err(store_error)?;
        let existing: Vec<String> = sqlx::query_scalar(t.file_names).fetch_all(&mut *tx).await.map_err(store_error)?;
        for name in existing.iter().filter(|n| !rows.iter().any(|(r, _)| r == *n)) {
            sqlx::query(t.delete).bind(name).execute(&mut *tx).await.map_err(store_error)?;
        }
        for (name, config) in rows {
            sqlx::query(t.upsert)
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

#[async_trait::async_trait]
impl ConfigStore for SqliteStore {
    async fn list_providers(&self) -> Result<Vec<StoredProvider>, StoreError> {
        Ok(self.list(&PROVIDERS).await?.into_iter().map(provider).collect())
    }

    async fn get_provider(&self, name: &str) -> Result<Option<StoredProvider>, StoreError> {
        Ok(self.get(&PROVIDERS, name).await?.map(provider))
    }

    async fn upsert_provider(&self, p: &StoredProvider) -> Result<(), StoreError> {
        self.upsert(&PROVIDERS, &p.name, p.source, &p.config).await
    }

    async fn delete_provider(&self, name: &str) -> Result<bool, StoreError> {
        self.delete(&PROVIDERS, name).await
    }

    async fn sync_file_providers(&self, providers: &[(String, Value)]) -> Result<(), StoreError> {
        self.sync_file(&PROVIDERS, providers).await
    }

    async fn list_routes(&self) -> Result<Vec<StoredRoute>, StoreError> {
        Ok(self.list(&ROUTES).await?.into_iter().map(route).collect())
    }

    async fn get_route(&self, name: &str) -> Result<Option<StoredRoute>, StoreError> {
        Ok(self.get(&ROUTES, name).await?.map(route))
    }

    async fn upsert_route(&self, r: &StoredRoute) -> Result<(), StoreError> {
        self.upsert(&ROUTES, &r.name, r.source, &r.config).await
    }

    async fn delete_route(&self, name: &str) -> Result<bool, StoreError> {
        self.delete(&ROUTES, name).await
    }

    async fn sync_file_routes(&self, routes: &[(String, Value)]) -> Result<(), StoreError> {
        self.sync_file(&ROUTES, routes).await
    }
}

/// Counts as SQLite integers (saturating: a count never wraps negative).
pub(crate) fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}
