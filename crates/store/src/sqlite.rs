use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use crate::{ConfigStore, Source, StoreError, StoredProvider};

/// Schema migrations, applied in order; `PRAGMA user_version` records progress.
const MIGRATIONS: &[&str] = &["CREATE TABLE providers (
        name       TEXT PRIMARY KEY NOT NULL,
        source     TEXT NOT NULL CHECK (source IN ('file', 'api')),
        config     TEXT NOT NULL,
        updated_at INTEGER NOT NULL DEFAULT (unixepoch())
    ) STRICT;"];

pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) `switchyard.db` in `data_dir`.
    pub fn open_dir(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|source| StoreError::DataDir { path: data_dir.display().to_string(), source })?;
        Self::open(&data_dir.join("switchyard.db"))
    }

    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let store = Self { conn: Mutex::new(conn) };
        store.migrate()?;
        Ok(store)
    }

    pub fn in_memory() -> Result<Self, StoreError> {
        let store = Self { conn: Mutex::new(Connection::open_in_memory()?) };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let tx = conn.transaction()?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(i64::MAX))?;
        }
        tx.commit()?;
        Ok(())
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.conn.lock().map_err(|_| StoreError::Poisoned)?;
        f(&mut conn)
    }
}

fn row_to_provider(name: String, source: String, config: String) -> Result<StoredProvider, StoreError> {
    let config = serde_json::from_str(&config).map_err(|source| StoreError::Corrupt { name: name.clone(), source })?;
    Ok(StoredProvider { name, source: Source::parse(&source), config })
}

impl ConfigStore for SqliteStore {
    fn list_providers(&self) -> Result<Vec<StoredProvider>, StoreError> {
        self.with(|conn| {
            let mut stmt = conn.prepare("SELECT name, source, config FROM providers ORDER BY name")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (name, source, config) = row?;
                out.push(row_to_provider(name, source, config)?);
            }
            Ok(out)
        })
    }

    fn get_provider(&self, name: &str) -> Result<Option<StoredProvider>, StoreError> {
        self.with(|conn| {
            let row: Option<(String, String, String)> = conn
                .query_row("SELECT name, source, config FROM providers WHERE name = ?1", [name], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            row.map(|(n, s, c)| row_to_provider(n, s, c)).transpose()
        })
    }

    fn upsert_provider(&self, p: &StoredProvider) -> Result<(), StoreError> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO providers (name, source, config, updated_at) VALUES (?1, ?2, ?3, unixepoch())
                 ON CONFLICT(name) DO UPDATE SET source = excluded.source, config = excluded.config, updated_at = excluded.updated_at",
                params![p.name, p.source.as_str(), p.config.to_string()],
            )?;
            Ok(())
        })
    }

    fn delete_provider(&self, name: &str) -> Result<bool, StoreError> {
        self.with(|conn| Ok(conn.execute("DELETE FROM providers WHERE name = ?1", [name])? > 0))
    }

    fn sync_file_providers(&self, providers: &[(String, serde_json::Value)]) -> Result<(), StoreError> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            {
                let names: Vec<&str> = providers.iter().map(|(n, _)| n.as_str()).collect();
                let mut stale = tx.prepare("SELECT name FROM providers WHERE source = 'file'")?;
                let existing: Vec<String> = stale.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
                for name in existing.iter().filter(|n| !names.contains(&n.as_str())) {
                    tx.execute("DELETE FROM providers WHERE name = ?1", [name])?;
                }
                let mut upsert = tx.prepare(
                    "INSERT INTO providers (name, source, config, updated_at) VALUES (?1, 'file', ?2, unixepoch())
                     ON CONFLICT(name) DO UPDATE SET source = 'file', config = excluded.config, updated_at = excluded.updated_at",
                )?;
                for (name, config) in providers {
                    upsert.execute(params![name, config.to_string()])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(name: &str) -> StoredProvider {
        StoredProvider {
            name: name.into(),
            source: Source::Api,
            config: json!({"custom_provider_config": {"base_provider_type": "openai"}}),
        }
    }

    #[test]
    fn upsert_get_delete() -> Result<(), StoreError> {
        let s = SqliteStore::in_memory()?;
        s.upsert_provider(&api("a"))?;
        assert_eq!(s.get_provider("a")?.map(|p| p.source), Some(Source::Api));
        assert!(s.delete_provider("a")?);
        assert!(!s.delete_provider("a")?);
        assert_eq!(s.get_provider("a")?, None);
        Ok(())
    }

    #[test]
    fn file_sync_replaces_file_providers_and_keeps_api_ones() -> Result<(), StoreError> {
        let s = SqliteStore::in_memory()?;
        s.upsert_provider(&api("from-api"))?;
        s.sync_file_providers(&[("one".into(), json!({"v": 1})), ("two".into(), json!({"v": 2}))])?;
        s.sync_file_providers(&[("two".into(), json!({"v": 3}))])?;
        let all = s.list_providers()?;
        let names: Vec<_> = all.iter().map(|p| (p.name.as_str(), p.source)).collect();
        assert_eq!(names, vec![("from-api", Source::Api), ("two", Source::File)]);
        assert_eq!(all[1].config, json!({"v": 3}));
        Ok(())
    }

    #[test]
    fn survives_reopen_and_migrates_once() -> Result<(), StoreError> {
        let dir = tempfile::tempdir().map_err(|source| StoreError::DataDir { path: "tmp".into(), source })?;
        {
            let s = SqliteStore::open_dir(dir.path())?;
            s.upsert_provider(&api("kept"))?;
        }
        let s = SqliteStore::open_dir(dir.path())?;
        assert_eq!(s.list_providers()?.len(), 1);
        Ok(())
    }
}
