//! The SQLite store on real files in temporary directories.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use sqlx::{Connection, SqliteConnection};
use switchyard_core::config_service::{ConfigStore, Source, StoreError, StoredProvider, StoredRoute};
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
    assert_eq!(applied, [(1, true), (2, true), (3, true)]);
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
    assert_eq!(applied, [1, 2, 3], "the first recorded, not run; the later ones applied");
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
    assert!(matches!(&err, StoreError::Corrupt { what: "provider", name, .. } if name == "broken"), "{err}");
    assert!(s.list_providers().await.is_err());
    sqlx::raw_sql("INSERT INTO routes (name, source, config) VALUES ('odd', 'api', '[broken')")
        .execute(&mut c)
        .await
        .unwrap();
    let err = s.list_routes().await.expect_err("corrupt");
    assert!(err.to_string().starts_with("stored route odd is corrupt: config is not valid JSON"), "{err}");
}

fn api_route(name: &str, model: &str) -> StoredRoute {
    StoredRoute {
        name: name.into(),
        source: Source::Api,
        config: json!({"targets": [{"model": model, "weight": 1.0}]}),
    }
}

fn route_names(all: &[StoredRoute]) -> Vec<(&str, Source)> {
    all.iter().map(|r| (r.name.as_str(), r.source)).collect()
}

#[tokio::test]
async fn routes_are_stored_beside_providers_with_the_same_precedence() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open_dir(dir.path()).await.unwrap();
    s.upsert_provider(&api("smart", 1)).await.unwrap();
    s.upsert_route(&api_route("smart", "a/m")).await.unwrap();
    assert_eq!(s.get_route("smart").await.unwrap(), Some(api_route("smart", "a/m")), "a table of its own");
    s.upsert_route(&api_route("smart", "a/n")).await.unwrap();
    assert_eq!(s.get_route("smart").await.unwrap().unwrap().config["targets"][0]["model"], "a/n", "replaced");
    s.upsert_route(&api_route("taken-over", "a/m")).await.unwrap();

    s.sync_file_routes(&[("fast".into(), json!({"v": 1})), ("taken-over".into(), json!({"v": 2}))]).await.unwrap();
    let all = s.list_routes().await.unwrap();
    assert_eq!(route_names(&all), [("fast", Source::File), ("smart", Source::Api), ("taken-over", Source::File)]);
    s.sync_file_routes(&[]).await.unwrap();
    assert_eq!(route_names(&s.list_routes().await.unwrap()), [("smart", Source::Api)], "the file's own removed");
    assert_eq!(names(&s.list_providers().await.unwrap()), [("smart", Source::Api)], "providers untouched");

    assert!(s.delete_route("smart").await.unwrap());
    assert!(!s.delete_route("smart").await.unwrap(), "already gone");
    assert_eq!(s.get_route("smart").await.unwrap(), None);
    s.upsert_route(&api_route("kept", "a/m")).await.unwrap();
    s.close().await;
    let s = SqliteStore::open_dir(dir.path()).await.unwrap();
    assert_eq!(route_names(&s.list_routes().await.unwrap()), [("kept", Source::Api)], "survives reopen");
}

/// A database as the release before routes left it: sqlx, migration 1 only.
#[tokio::test]
async fn a_database_from_before_routes_opens_with_its_providers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("switchyard.db");
    let first = dir.path().join("migrations-v1");
    std::fs::create_dir(&first).unwrap();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(manifest.join("migrations/0001_providers.sql"), first.join("0001_providers.sql")).unwrap();
    {
        let mut c = raw(&path).await;
        sqlx::migrate::Migrator::new(first.as_path()).await.unwrap().run(&mut c).await.unwrap();
        sqlx::raw_sql(
            r#"INSERT INTO providers (name, source, config) VALUES ('old', 'api', '{"keys":[{"value":"sk-old"}]}')"#,
        )
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
    }

    let s = SqliteStore::open(&path).await.unwrap();
    let all = s.list_providers().await.unwrap();
    assert_eq!(names(&all), [("old", Source::Api)]);
    assert_eq!(all[0].config, json!({"keys": [{"value": "sk-old"}]}));
    assert!(s.list_routes().await.unwrap().is_empty());
    s.upsert_route(&api_route("smart", "old/m")).await.unwrap();
    s.close().await;
    let mut c = raw(&path).await;
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations").fetch_all(&mut c).await.unwrap();
    assert_eq!(applied, [1, 2, 3]);
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
