//! The core [`GovernanceStore`] over the same SQLite file: each record as
//! its JSON beside the columns that index it (a key's team, a policy's
//! scope, which is unique).
//!
//! [`GovernanceStore`]: switchyard_core::governance::GovernanceStore

use serde::de::DeserializeOwned;
use serde::Serialize;
use switchyard_core::config_service::StoreError;
use switchyard_core::governance::policy::Policy;
use switchyard_core::governance::records::{CounterRow, GovernanceStore, KeyRecord, Price, Team};

use crate::queries::store_error;
use crate::SqliteStore;

fn encode<T: Serialize>(what: &'static str, name: &str, value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
        what,
        name: name.to_string(),
        reason: format!("cannot encode: {e}"),
    })
}

fn decode<T: DeserializeOwned>(what: &'static str, (name, record): (String, String)) -> Result<T, StoreError> {
    serde_json::from_str(&record).map_err(|e| StoreError::Corrupt { what, name, reason: e.to_string() })
}

impl SqliteStore {
    async fn records<T: DeserializeOwned>(&self, what: &'static str, sql: &'static str) -> Result<Vec<T>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(sql).fetch_all(&self.read).await.map_err(store_error)?;
        rows.into_iter().map(|r| decode(what, r)).collect()
    }

    async fn remove(&self, sql: &'static str, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(sql).bind(id).execute(&self.write).await.map_err(store_error)?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait::async_trait]
impl GovernanceStore for SqliteStore {
    async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        self.records("virtual key", "SELECT id, record FROM virtual_keys ORDER BY id").await
    }

    async fn put_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO virtual_keys (id, team, record, updated_at) VALUES (?1, ?2, ?3, unixepoch())
             ON CONFLICT(id) DO UPDATE SET team = excluded.team, record = excluded.record, updated_at = excluded.updated_at",
        )
        .bind(&key.id)
        .bind(&key.team)
        .bind(encode("virtual key", &key.id, key)?)
        .execute(&self.write)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn delete_key(&self, id: &str) -> Result<bool, StoreError> {
        self.remove("DELETE FROM virtual_keys WHERE id = ?1", id).await
    }

    async fn list_teams(&self) -> Result<Vec<Team>, StoreError> {
        self.records("team", "SELECT name, record FROM teams ORDER BY name").await
    }

    async fn put_team(&self, team: &Team) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO teams (name, record, updated_at) VALUES (?1, ?2, unixepoch())
             ON CONFLICT(name) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at",
        )
        .bind(&team.name)
        .bind(encode("team", &team.name, team)?)
        .execute(&self.write)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn delete_team(&self, name: &str) -> Result<bool, StoreError> {
        self.remove("DELETE FROM teams WHERE name = ?1", name).await
    }

    async fn list_policies(&self) -> Result<Vec<Policy>, StoreError> {
        self.records("policy", "SELECT id, record FROM policies ORDER BY id").await
    }

    async fn put_policy(&self, policy: &Policy) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO policies (id, scope, record, updated_at) VALUES (?1, ?2, ?3, unixepoch())
             ON CONFLICT(id) DO UPDATE SET scope = excluded.scope, record = excluded.record, updated_at = excluded.updated_at",
        )
        .bind(&policy.id)
        .bind(policy.scope.to_string())
        .bind(encode("policy", &policy.id, policy)?)
        .execute(&self.write)
        .await
        .map_err(store_error)?;
        Ok(())
    }

    async fn delete_policy(&self, id: &str) -> Result<bool, StoreError> {
        self.remove("DELETE FROM policies WHERE id = ?1", id).await
    }

    async fn list_prices(&self) -> Result<Vec<Price>, StoreError> {
        self.records("price", "SELECT model, record FROM prices ORDER BY model").await
    }

    async fn replace_prices(&self, prices: &[Price]) -> Result<(), StoreError> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await.map_err(store_error)?;
        sqlx::query("DELETE FROM prices").execute(&mut *tx).await.map_err(store_error)?;
        for p in prices {
            sqlx::query("INSERT INTO prices (model, record) VALUES (?1, ?2)")
                .bind(&p.model)
                .bind(encode("price", &p.model, p)?)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }

    async fn load_counters(&self) -> Result<Vec<CounterRow>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT key, state FROM limit_counters").fetch_all(&self.read).await.map_err(store_error)?;
        Ok(rows.into_iter().map(|(key, state)| CounterRow { key, state }).collect())
    }

    async fn save_counters(&self, rows: &[CounterRow], removed: &[String]) -> Result<(), StoreError> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await.map_err(store_error)?;
        for key in removed {
            sqlx::query("DELETE FROM limit_counters WHERE key = ?1")
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        for r in rows {
            sqlx::query(
                "INSERT INTO limit_counters (key, state, updated_at) VALUES (?1, ?2, unixepoch())
                 ON CONFLICT(key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            )
            .bind(&r.key)
            .bind(&r.state)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        tx.commit().await.map_err(store_error)
    }
}
