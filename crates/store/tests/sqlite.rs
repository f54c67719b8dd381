//! The SQLite store on real files in temporary directories.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use sqlx::{Connection, SqliteConnection};
use switchyard_core::config_service::{ConfigStore, Source, StoreError, StoredProvider};
use switchyard_store::{OpenError, SqliteStore};

fn api(name: &str, rev: u32) -> StoredProvider {
    StoredProvider {
        name: name.into(),
        source: Source::Api,
        config: json!({"custom_provider_config": {"base_provider_type": "openai"}, "rev": rev}),
    }
}

fn names(all: &[StoredProvider]) -> Vec<(&str, Source)> {
    all.iter().map(|p| (p.name.as_str(), p.source)).collect()
}

/// A connection of its own to the file, as another program would have.
async fn raw(path: &Path) -> SqliteConnection {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    SqliteConnection::connect(&url).await.expect("raw connection")
}

#[tokio::test]
async fn create_read_replace_delete_on_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open_dir(&dir.path().join("nested/data")).await.unwrap();
    s.upsert_provider(&api("b", 1)).await.unwrap();
    s.upsert_provider(&api("a", 1)).await.unwrap();
    assert_eq!(s.get_provider("a").await.unwrap(), Some(api("a", 1)));
    s.upsert_provider(&api("a", 2)).await.unwrap();
    assert_eq!(s.get_provider("a").await.unwrap().map(|p| p.config["rev"].clone()), Some(json!(2)), "replaced");
    assert_eq!(names(&s.list_providers().await.unwrap()), [("a", Source::Api), ("b", Source::Api)], "by name");
    assert!(s.delete_provider("a").await.unwrap());
    assert!(!s.delete_provider("a").await.unwrap(), "already gone");
    assert_eq!(s.get_provider("a").await.unwrap(), None);
    assert!(dir.path().join("nested/data/switchyard.db").exists());
}

#[tokio::test]
async fn file_sync_replaces_file_providers_and_keeps_api_ones() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open_dir(dir.path()).await.unwrap();
    s.upsert_provider(&api("from-api", 1)).await.unwrap();
    s.upsert_provider(&api("taken-over", 1)).await.unwrap();
    s.sync_file_providers(&[("one".into(), json!({"v": 1})), ("two".into(), json!({"v": 2}))]).await.unwrap();
    s.sync_file_providers(&[("two".into(), json!({"v": 3})), ("taken-over".into(), json!({"v": 4}))]).await.unwrap();
    let all = s.list_providers().await.unwrap();
    assert_eq!(names(&all), [("from-api", Source::Api), ("taken-over", Source::File), ("two", Source::File)]);
    assert_eq!(all[2].config, json!({"v": 3}));
    s.sync_file_providers(&[]).await.unwrap();
    assert_eq!(names(&s.list_providers().await.unwrap()), [("from-api", Source::Api)], "an empty file removes its own");
}

#[tokio::test]
async fn survives_reopen_and_migrates_once() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = SqliteStore::open_dir(dir.path()).await.unwrap();
        s.upsert_provider(&api("kept", 1)).await.unwrap();
        s.close().await;
    }
    let s = SqliteStore::open_dir(dir.path()).await.unwrap();
    assert_eq!(names(&s.list_providers().await.unwrap()), [("kept", Source::Api)]);
    s.close().await;
    let mut c = raw(&dir.path().join("switchyard.db")).await;
    let applied: Vec<(i64, bool)> =
        sqlx::query_as("SELECT version, success FROM _sqlx_migrations").fetch_all(&mut c).await.unwrap();
    assert_eq!(applied, [(1, true)]);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&mut c).await.unwrap();
    assert_eq!(mode, "wal");
}

/// The database exactly as the rusqlite store (before sqlx) left it: its one
/// migration run in a transaction that also set `user_version`, then rows
/// written with its upsert.
async fn create_legacy_db(path: &Path, user_version: i64) {
    let mut c = raw(path).await;
    for sql in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "BEGIN"] {
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    }
    sqlx::raw_sql(
        "CREATE TABLE providers (
        name       TEXT PRIMARY KEY NOT NULL,
        source     TEXT NOT NULL CHECK (source IN ('file', 'api')),
        config     TEXT NOT NULL,
        updated_at INTEGER NOT NULL DEFAULT (unixepoch())
    ) STRICT;",
    )
    .execute(&mut c)
    .await
    .unwrap();
    // An integer the test chose: nothing to escape.
    let set_version = sqlx::AssertSqlSafe(format!("PRAGMA user_version = {user_version}"));
    sqlx::raw_sql(set_version).execute(&mut c).await.unwrap();
    sqlx::raw_sql("COMMIT").execute(&mut c).await.unwrap();
    for (name, source, config) in [
        ("from-file", "file", r#"{"custom_provider_config":{"base_provider_type":"anthropic"}}"#),
        ("from-api", "api", r#"{"keys":[{"value":"sk-legacy"}]}"#),
    ] {
        sqlx::query(
            "INSERT INTO providers (name, source, config, updated_at) VALUES (?1, ?2, ?3, unixepoch())
             ON CONFLICT(name) DO UPDATE SET source = excluded.source, config = excluded.config, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(source)
        .bind(config)
        .execute(&mut c)
        .await
        .unwrap();
    }
    c.close().await.unwrap();
}

#[tokio::test]
async fn a_database_from_the_rusqlite_store_opens_with_its_providers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchyard.db");
    create_legacy_db(&path, 1).await;

    let s = SqliteStore::open_dir(dir.path()).await.unwrap();
    let all = s.list_providers().await.unwrap();
    assert_eq!(names(&all), [("from-api", Source::Api), ("from-file", Source::File)]);
    assert_eq!(all[0].config, json!({"keys": [{"value": "sk-legacy"}]}));
    s.upsert_provider(&api("new", 1)).await.unwrap();
    s.close().await;

    // Adopted once: the migration is recorded, not run (the table would already exist).
    let s = SqliteStore::open(&path).await.unwrap();
    assert_eq!(s.list_providers().await.unwrap().len(), 3);
    s.close().await;
    let mut c = raw(&path).await;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations").fetch_all(&mut c).await.unwrap();
    assert_eq!(applied, [1]);
}

#[tokio::test]
async fn a_schema_version_no_release_wrote_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchyard.db");
    create_legacy_db(&path, 7).await;
    let err = SqliteStore::open(&path).await.err().expect("refused");
    assert!(matches!(err, OpenError::UnknownLegacyVersion(7)), "{err}");
}

#[tokio::test]
async fn a_corrupt_row_is_an_error_naming_the_provider() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchyard.db");
    let s = SqliteStore::open(&path).await.unwrap();
    let mut c = raw(&path).await;
    sqlx::raw_sql("INSERT INTO providers (name, source, config) VALUES ('broken', 'api', '{not json')")
        .execute(&mut c)
        .await
        .unwrap();
    let err = s.get_provider("broken").await.expect_err("corrupt");
    assert!(matches!(&err, StoreError::Corrupt { name, .. } if name == "broken"), "{err}");
    assert!(s.list_providers().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_serialize_and_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchyard.db");
    let s = Arc::new(SqliteStore::open(&path).await.unwrap());
    // A second store on the same file stands for another process: its writes
    // meet this one's in SQLite's lock, not in a shared pool.
    let other = Arc::new(SqliteStore::open(&path).await.unwrap());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..40u32 {
        let store = if i % 4 == 0 { other.clone() } else { s.clone() };
        tasks.spawn(async move {
            store.upsert_provider(&api(&format!("p{i:02}"), 0)).await?;
            store.upsert_provider(&api("shared", i)).await?;
            if i % 10 == 0 {
                store.sync_file_providers(&[(format!("file{i}"), json!({"i": i}))]).await?;
            }
            store.upsert_provider(&api(&format!("p{i:02}"), 1)).await
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    let all = s.list_providers().await.unwrap();
    let api_rows: Vec<_> = all.iter().filter(|p| p.name.starts_with('p')).collect();
    assert_eq!(api_rows.len(), 40);
    assert!(api_rows.iter().all(|p| p.config["rev"] == 1), "each task's last write wins for its own row");
    assert_eq!(all.iter().filter(|p| p.source == Source::File).count(), 1, "syncs replaced one another whole");
    assert!(all.iter().any(|p| p.name == "shared"));
}
