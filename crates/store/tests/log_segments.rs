//! The request log's segments: a request is found by its id whether the id
//! is Switchyard's own (a UUIDv7, found by its date) or a client's (found in
//! the id table), the newest of a repeated id wins, and a log written in the
//! earlier one-row-per-request layout opens with its rows and payloads.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use switchyard_core::observability::{LogBatch, LogFilter, LogRow, LogStore, StoredPayload};
use switchyard_store::SqliteLogStore;

fn row(id: &str, at: u64) -> LogRow {
    LogRow {
        request_id: id.into(),
        started_at_ms: at,
        inbound: "openai.chat".into(),
        model: "m".into(),
        provider: Some("p".into()),
        status: 200,
        end: "completed".into(),
        attempts: 1,
        ..LogRow::default()
    }
}

fn uuid7(ms: u64, salt: u8) -> String {
    uuid::Builder::from_unix_timestamp_millis(ms, &[salt; 10]).into_uuid().hyphenated().to_string()
}

async fn append(s: &SqliteLogStore, rows: Vec<LogRow>) {
    s.append(Arc::new(LogBatch { rows: rows.into_iter().map(|r| (r, None)).collect(), rollups: vec![] }))
        .await
        .unwrap();
}

#[tokio::test]
async fn every_kind_of_request_id_is_found_and_only_client_ids_take_an_index_entry() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteLogStore::open_dir(dir.path()).await.unwrap();
    let t = 1_800_000_000_000u64;
    let own: Vec<String> = (0..3).map(|i| uuid7(t + i * 3_600_000, i as u8)).collect();
    // A client's v7 id minted a day before the request reached us.
    let stale = uuid7(t - 86_400_000, 9);
    for (i, id) in own.iter().enumerate() {
        let at = t + i as u64 * 3_600_000 + 2;
        append(&s, vec![row(&format!("filler-{i}"), at), row(id, at + 1), row("client-7", at + 2)]).await;
    }
    append(&s, vec![row(&stale, t + 5)]).await;

    for id in &own {
        let (r, _) = s.get(id).await.unwrap().unwrap_or_else(|| panic!("{id} is found by its date"));
        assert_eq!(&r.request_id, id);
        let page = s.query(&LogFilter { request_id: Some(id.clone()), ..LogFilter::default() }).await.unwrap();
        assert_eq!(page.data.len(), 1);
    }
    assert_eq!(s.get(&stale).await.unwrap().unwrap().0.started_at_ms, t + 5, "a v7 id dated far away");
    let repeated = s.get("client-7").await.unwrap().unwrap().0;
    assert_eq!(repeated.started_at_ms, t + 2 * 3_600_000 + 4, "the newest of a repeated id");
    let all = s.query(&LogFilter { request_id: Some("client-7".into()), ..LogFilter::default() }).await.unwrap();
    assert_eq!(all.data.len(), 3, "every row of a repeated id");
    assert!(s.get(&uuid7(t + 1, 1)).await.unwrap().is_none(), "a v7 id never logged");
    s.close().await;

    let db = rusqlite::Connection::open(dir.path().join("logs.db")).unwrap();
    let mut indexed: Vec<String> = db
        .prepare("SELECT request_id FROM log_request_ids")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    indexed.sort();
    let mut expected = vec!["client-7".to_string(); 3];
    expected.extend((0..3).map(|i| format!("filler-{i}")));
    expected.push(stale);
    expected.sort();
    assert_eq!(indexed, expected, "Switchyard's own ids take no index entry");
}

#[tokio::test]
async fn pages_cross_segments_and_a_cursor_inside_one() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteLogStore::open_dir(dir.path()).await.unwrap();
    for b in 0..4u64 {
        append(&s, (0..5).map(|i| row(&format!("r{}", b * 5 + i), 1_000 + b * 5 + i)).collect()).await;
    }
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let f =
            LogFilter { limit: Some(3), cursor: cursor.clone(), since: Some("1002".into()), ..LogFilter::default() };
        let page = s.query(&f).await.unwrap();
        seen.extend(page.data.into_iter().map(|r| r.started_at_ms));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, (1_002..1_020).rev().collect::<Vec<_>>(), "newest first, each row once");
    s.close().await;
}

/// The layout before segments, made by its own migrations, then opened by today's store.
#[tokio::test]
async fn a_log_in_the_row_per_request_layout_opens_with_its_rows_and_payloads() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old_migrations");
    std::fs::create_dir_all(&old).unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("log_migrations");
    for f in ["0001_request_logs.sql", "0002_payloads_rollups.sql", "0003_partial_key_index.sql"] {
        std::fs::copy(src.join(f), old.join(f)).unwrap();
    }
    let options =
        sqlx::sqlite::SqliteConnectOptions::new().filename(dir.path().join("logs.db")).create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::migrate::Migrator::new(old.as_path()).await.unwrap().run(&pool).await.unwrap();
    for (id, request_id, at, key, payload) in [(1, "old-1", 1_000, Some("k1"), false), (2, "old-2", 2_000, None, true)]
    {
        sqlx::query(
            "INSERT INTO request_logs (id, request_id, started_at_ms, duration_ms, ttft_ms, inbound, route, provider, \
             model, served_model, stream, attempts, status, end_state, error_code, input_tokens, output_tokens, \
             cache_read_tokens, cache_write_tokens, reasoning_tokens, usage_estimated, cost_usd, key_id, key_name, \
             team, user, tags, user_agent, fallback_index, retries, attempt_details, has_payload) VALUES \
             (?1, ?2, ?3, 40, 7, 'anthropic.messages', NULL, 'p', 'p/m', 'm', 1, 2, 429, 'failed', 'rate_limited', \
             10, 20, 1, 2, 3, 1, 0.25, ?4, 'ci', 'ml', 'ana', '{\"env\":\"ci\"}', 'claude-cli', 1, 2, \
             '[{\"candidate\":\"x/y\",\"error\":\"upstream_5xx\"}]', ?5)",
        )
        .bind(id)
        .bind(request_id)
        .bind(at)
        .bind(key)
        .bind(payload)
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO request_payloads (log_id, started_at_ms, request, response, request_truncated, response_truncated) \
         VALUES (2, 2000, '{\"q\":1}', 'forty-two', 0, 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let s = SqliteLogStore::open_dir(dir.path()).await.unwrap();
    let page = s.query(&LogFilter::default()).await.unwrap();
    assert_eq!(page.data.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(), ["old-2", "old-1"]);
    let r = &page.data[1];
    assert_eq!(r.started_at, "1970-01-01T00:00:01Z");
    assert_eq!(
        (r.duration_ms, r.ttft_ms, r.inbound.as_ref(), r.route.as_deref()),
        (40, Some(7), "anthropic.messages", None)
    );
    assert_eq!((r.stream, r.attempts, r.status, r.end.as_ref()), (true, 2, 429, "failed"));
    assert_eq!(
        (r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, r.reasoning_tokens),
        (10, 20, 1, 2, 3)
    );
    assert!(r.usage_estimated);
    assert_eq!(
        (r.cost_usd, r.key_id.as_deref(), r.team.as_deref(), r.user.as_deref()),
        (Some(0.25), Some("k1"), Some("ml"), Some("ana"))
    );
    assert_eq!(r.tags.get("env").map(String::as_str), Some("ci"));
    assert_eq!((r.fallback_index, r.retries, r.attempt_details.len()), (1, 2, 1));
    assert!(!r.has_payload);
    let (two, payload) = s.get("old-2").await.unwrap().unwrap();
    assert!(two.has_payload);
    assert_eq!(
        payload.unwrap(),
        StoredPayload {
            request: "{\"q\":1}".into(),
            response: "forty-two".into(),
            request_truncated: false,
            response_truncated: true
        }
    );
    let by_key = s.query(&LogFilter { key: Some("k1".into()), ..LogFilter::default() }).await.unwrap();
    assert_eq!(by_key.data.len(), 1, "the zone maps were filled from the old columns");
    let searched = s.query(&LogFilter { q: Some("forty".into()), ..LogFilter::default() }).await.unwrap();
    assert_eq!(searched.data.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(), ["old-2"]);
    // New rows land after the migrated ones.
    append(&s, vec![row("new-1", 3_000)]).await;
    assert_eq!(s.query(&LogFilter::default()).await.unwrap().data[0].request_id, "new-1");
    s.close().await;
}
