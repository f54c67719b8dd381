//! The request log's SQLite file: rows round-trip, filters and cursor pages
//! read newest first, a repeated request id keeps both rows, retention prunes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use switchyard_core::observability::{LogFilter, LogRow, LogStore};
use switchyard_store::SqliteLogStore;

fn row(id: &str, at: u64, provider: &str, status: u16) -> LogRow {
    LogRow {
        request_id: id.into(),
        started_at: String::new(),
        started_at_ms: at,
        duration_ms: 12,
        ttft_ms: Some(3),
        inbound: "openai.chat".into(),
        route: None,
        provider: Some(provider.into()),
        model: format!("{provider}/m"),
        served_model: Some("m".into()),
        stream: status == 200,
        attempts: 1,
        status,
        end: "completed".into(),
        error_code: (status >= 400).then(|| "upstream_error".into()),
        input_tokens: 10,
        output_tokens: 20,
        cache_read_tokens: 1,
        cache_write_tokens: 2,
        reasoning_tokens: 3,
        usage_estimated: false,
        cost_usd: Some(0.5),
        key_id: Some("k1".into()),
        key_name: Some("ci".into()),
        team: None,
        user: Some("ana".into()),
        tags: BTreeMap::from([("env".into(), "ci".into())]),
        user_agent: Some("openai-python".into()),
    }
}

fn filter(f: impl FnOnce(&mut LogFilter)) -> LogFilter {
    let mut x = LogFilter::default();
    f(&mut x);
    x
}

#[tokio::test]
async fn rows_round_trip_filter_page_and_prune() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteLogStore::open_dir(dir.path()).await.unwrap();
    let rows: Vec<LogRow> = (0..5)
        .map(|i| row(&format!("r{i}"), 1_000 + i, if i % 2 == 0 { "a" } else { "b" }, if i == 3 { 502 } else { 200 }))
        .collect();
    s.append(&rows).await.unwrap();
    s.append(&[row("r4", 2_000, "a", 200)]).await.unwrap();

    let all = s.query(&LogFilter::default()).await.unwrap();
    assert_eq!(
        all.data.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(),
        ["r4", "r4", "r3", "r2", "r1", "r0"]
    );
    let mut expected = rows[0].clone();
    expected.started_at = "1970-01-01T00:00:01Z".into();
    assert_eq!(all.data[5], expected, "every field round-trips");

    let b = s.query(&filter(|f| f.provider = Some("b".into()))).await.unwrap();
    assert_eq!(b.data.len(), 2);
    let errors = s.query(&filter(|f| f.status = Some("5xx".into()))).await.unwrap();
    assert_eq!(errors.data.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(), ["r3"]);
    let window = s
        .query(&filter(|f| {
            f.since = Some("1001".into());
            f.until = Some("1003".into());
        }))
        .await
        .unwrap();
    assert_eq!(window.data.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(), ["r2", "r1"]);

    // Pages of two, by cursor, cover everything once.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = s
            .query(&filter(|f| {
                f.limit = Some(2);
                f.cursor = cursor.clone();
            }))
            .await
            .unwrap();
        seen.extend(page.data.iter().map(|r| r.started_at_ms));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, [2_000, 1_004, 1_003, 1_002, 1_001, 1_000]);

    assert_eq!(s.get("r4").await.unwrap().unwrap().started_at_ms, 2_000, "the latest of a repeated id");
    assert!(s.get("nope").await.unwrap().is_none());

    assert_eq!(s.prune(1_003, 1).await.unwrap(), 1, "one batch at a time");
    assert_eq!(s.prune(1_003, 100).await.unwrap(), 2);
    assert_eq!(s.query(&LogFilter::default()).await.unwrap().data.len(), 3);
    s.close().await;
    assert!(dir.path().join("logs.db").exists(), "a file of its own");
}
