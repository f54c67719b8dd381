//! The governance tables: records round-trip as the core reads them, the
//! schema refuses what the service must never write (a key of a missing
//! team, two policies of one scope), and counters checkpoint and reload.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use switchyard_core::governance::policy::Policy;
use switchyard_core::governance::records::{CounterRow, GovernanceStore, KeyRecord, Price, Team};
use switchyard_core::governance::virtual_key::Pepper;
use switchyard_store::SqliteStore;

fn key(id_from: &Pepper, team: Option<&str>) -> KeyRecord {
    let new = id_from.generate();
    KeyRecord {
        id: new.id,
        name: "ci".into(),
        team: team.map(str::to_string),
        models: vec!["db/*".into()],
        expires_at: Some(1_900_000_000),
        enabled: true,
        revoked_at: None,
        tags: BTreeMap::from([("env".into(), "ci".into())]),
        hash: new.hash,
        previous: None,
        created_at: 1_800_000_000,
        rotated_at: None,
        log_payloads: Some(true),
    }
}

fn policy(id: &str, scope: &str) -> Policy {
    serde_json::from_value(serde_json::json!({"id": id, "name": id, "scope": scope,
        "limits": [{"metric": "requests", "per": "minute", "amount": 5}]}))
    .unwrap()
}

#[tokio::test]
async fn records_round_trip_and_the_schema_keeps_them_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open_dir(dir.path()).await.unwrap();
    let pepper = Pepper::from_bytes(&[7; 32]);

    let orphan = key(&pepper, Some("ml"));
    assert!(s.put_key(&orphan).await.is_err(), "a key of a team that does not exist");
    s.put_team(&Team { name: "ml".into(), models: vec![], tags: BTreeMap::new(), created_at: 1, log_payloads: None })
        .await
        .unwrap();
    s.put_key(&orphan).await.unwrap();
    assert_eq!(s.list_keys().await.unwrap(), std::slice::from_ref(&orphan));
    assert!(s.delete_team("ml").await.is_err(), "a team with keys stays");

    s.put_policy(&policy("a", "global")).await.unwrap();
    assert!(s.put_policy(&policy("b", "global")).await.is_err(), "one policy per scope");
    assert_eq!(s.list_policies().await.unwrap(), [policy("a", "global")]);

    let price = Price { model: "db/*".into(), input: 1.0, output: 3.0, cache_read: Some(0.1), cache_write: None };
    s.replace_prices(std::slice::from_ref(&price)).await.unwrap();
    assert_eq!(s.list_prices().await.unwrap(), [price]);
    s.replace_prices(&[]).await.unwrap();
    assert!(s.list_prices().await.unwrap().is_empty());

    let rows = [CounterRow { key: "a/0/requests.minute/".into(), state: "{}".into() }];
    s.save_counters(&rows, &[]).await.unwrap();
    s.close().await;
    let s = SqliteStore::open_dir(dir.path()).await.unwrap();
    assert_eq!(s.load_counters().await.unwrap(), rows);
    s.save_counters(&[], &["a/0/requests.minute/".into()]).await.unwrap();
    assert!(s.load_counters().await.unwrap().is_empty());
    assert!(s.delete_key(&orphan.id).await.unwrap());
    assert!(s.delete_team("ml").await.unwrap());
}
