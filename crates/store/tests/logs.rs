//! The request log's SQLite file: rows round-trip, filters and cursor pages
//! read newest first, a repeated request id keeps both rows, retention
//! prunes; payloads beside their rows (searchable, pruned sooner); hourly
//! rollups add up across batches; the size cap prunes the oldest rows; the
//! key filter reads a partial index that keyless rows skip.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;

use switchyard_core::observability::retention::{self, Retention};
use switchyard_core::observability::rollup::{fold, UsageFilter, HOUR_MS};
use switchyard_core::observability::{AttemptDetail, LogBatch, LogFilter, LogRow, LogStore, StoredPayload};
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
        fallback_index: 1,
        retries: 2,
        attempt_details: vec![
            AttemptDetail { candidate: "x/y".into(), error: Some("upstream_5xx".into()) },
            AttemptDetail { candidate: format!("{provider}/m"), error: None },
        ],
        has_payload: false,
    }
}

fn batch(rows: &[LogRow]) -> LogBatch {
    LogBatch { rows: rows.iter().map(|r| (r.clone(), None)).collect(), rollups: fold(rows) }
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
    // Three writer batches (three segments), then a repeated id.
    for part in [&rows[..2], &rows[2..3], &rows[3..]] {
        s.append(Arc::new(batch(part))).await.unwrap();
    }
    s.append(Arc::new(batch(&[row("r4", 2_000, "a", 200)]))).await.unwrap();

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

    assert_eq!(s.get("r4").await.unwrap().unwrap().0.started_at_ms, 2_000, "the latest of a repeated id");
    assert!(s.get("nope").await.unwrap().is_none());

    // Whole segments whose every row is older: r0 and r1 together (one
    // segment, however small the batch), then r2; r3 is older too, but its
    // segment also holds r4, which is not.
    assert_eq!(s.prune(1_004, 1).await.unwrap(), 2, "one segment at a time");
    assert_eq!(s.prune(1_004, 100).await.unwrap(), 1);
    assert_eq!(s.prune(1_004, 100).await.unwrap(), 0);
    assert_eq!(s.query(&LogFilter::default()).await.unwrap().data.len(), 3);
    s.close().await;
    assert!(dir.path().join("logs.db").exists(), "a file of its own");
}

fn payload(request: &str, response: &str) -> StoredPayload {
    StoredPayload {
        request: request.into(),
        response: response.into(),
        request_truncated: false,
        response_truncated: true,
    }
}

#[tokio::test]
async fn payloads_live_beside_rows_are_searched_and_pruned_sooner() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteLogStore::open_dir(dir.path()).await.unwrap();
    let mut with = row("p1", 1_000, "a", 200);
    with.has_payload = true;
    let without = row("p2", 5_000, "a", 200);
    let b = LogBatch {
        rows: vec![(with.clone(), Some(payload(r#"{"q":"what is 50% of x_y"}"#, "forty-two"))), (without, None)],
        rollups: vec![],
    };
    s.append(Arc::new(b)).await.unwrap();
    let (got, p) = s.get("p1").await.unwrap().unwrap();
    assert!(got.has_payload);
    assert_eq!(p.unwrap(), payload(r#"{"q":"what is 50% of x_y"}"#, "forty-two"));
    assert!(s.get("p2").await.unwrap().unwrap().1.is_none());

    let q = |t: &str| filter(|f| f.q = Some(t.into()));
    let ids = |p: switchyard_core::observability::LogPage| p.data.into_iter().map(|r| r.request_id).collect::<Vec<_>>();
    assert_eq!(ids(s.query(&q("forty")).await.unwrap()), ["p1"], "the response is searched");
    assert_eq!(ids(s.query(&q("50% of x_y")).await.unwrap()), ["p1"], "the text is matched as typed");
    assert!(ids(s.query(&q("5_% of")).await.unwrap()).is_empty(), "no LIKE wildcards");

    assert_eq!(s.prune_payloads(2_000, 100).await.unwrap(), 1);
    let (got, p) = s.get("p1").await.unwrap().unwrap();
    assert!(p.is_none() && !got.has_payload, "the row stays, without its payload");
    s.close().await;
}

#[tokio::test]
async fn rollups_add_up_across_batches_and_filter_by_dimension() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteLogStore::open_dir(dir.path()).await.unwrap();
    let h = 1_800_000_000_000 - 1_800_000_000_000 % HOUR_MS;
    let mut slow = row("u2", h + 2, "a", 200);
    slow.duration_ms = 4_000;
    s.append(Arc::new(batch(&[row("u1", h + 1, "a", 200), row("u3", h + 3, "b", 502)]))).await.unwrap();
    s.append(Arc::new(batch(&[slow]))).await.unwrap();
    let all = UsageFilter { since_ms: h, until_ms: h + HOUR_MS, ..UsageFilter::default() };
    let got = s.usage(&all).await.unwrap();
    let a = got.iter().find(|r| r.key.provider == "a").unwrap();
    assert_eq!(a.counts.requests, 2, "the second batch added to the first's hour");
    assert_eq!(a.counts.input_tokens, 20);
    assert_eq!(a.counts.duration.count(), 2, "histograms merge");
    assert!(a.counts.duration.quantile(0.99).unwrap() > 2_500);
    assert_eq!(a.key_name, "ci");
    let b = UsageFilter { provider: Some("b".into()), ..all.clone() };
    let got_b = s.usage(&b).await.unwrap();
    assert_eq!(got_b.len(), 1);
    assert_eq!((got_b[0].counts.errors, got_b[0].key.status_class.as_str()), (1, "5xx"));
    let later = UsageFilter { since_ms: h + HOUR_MS, until_ms: h + 2 * HOUR_MS, ..UsageFilter::default() };
    assert!(s.usage(&later).await.unwrap().is_empty());
    assert_eq!(s.prune_rollups(h + HOUR_MS).await.unwrap(), 2);
    s.close().await;
}

#[tokio::test]
async fn the_size_cap_prunes_the_oldest_rows() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteLogStore::open_dir(dir.path()).await.unwrap();
    let now = switchyard_core::governance::period::now_ms();
    let big = "x".repeat(4_000);
    for b in 0..30 {
        let rows: Vec<_> = (b * 10..b * 10 + 10)
            .map(|i| {
                let mut r = row(&format!("s{i}"), now - 300 + i, "a", 200);
                r.user_agent = Some(big.clone());
                (r, None)
            })
            .collect();
        s.append(Arc::new(LogBatch { rows, rollups: vec![] })).await.unwrap();
    }
    let before = s.size_bytes().await.unwrap();
    assert!(before > 1_000_000, "{before}");
    let cap = before / 2;
    let days = std::time::Duration::from_secs(86_400);
    let r = Retention { rows: days, payloads: days, max_bytes: Some(cap) };
    let pruned = retention::prune(&s, &r).await.unwrap();
    assert_eq!(pruned.rows, 0, "nothing is past its age");
    assert!(pruned.rows_for_size > 100, "{pruned:?}");
    assert!(s.size_bytes().await.unwrap() <= cap);
    let left = s.query(&filter(|f| f.limit = Some(500))).await.unwrap().data;
    assert_eq!(left.last().unwrap().request_id, format!("s{}", 300 - left.len()), "the oldest went first");
    s.close().await;
}

/// Appends queued before `close` land; one after it is an error, not a panic
/// or a silent loss; a reopened log has the rows and takes new ones.
#[tokio::test]
async fn close_finishes_queued_writes_and_refuses_later_ones() {
    let dir = tempfile::tempdir().unwrap();
    let s = Arc::new(SqliteLogStore::open_dir(dir.path()).await.unwrap());
    let writes: Vec<_> = (0..20)
        .map(|i| {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.append(Arc::new(batch(&[row(&format!("c{i}"), 1_000 + i, "a", 200)]))).await })
        })
        .collect();
    for w in writes {
        w.await.unwrap().unwrap();
    }
    s.close().await;
    let refused = s.append(Arc::new(batch(&[row("late", 5_000, "a", 200)]))).await;
    assert!(refused.unwrap_err().to_string().contains("closed"));

    let s = SqliteLogStore::open_dir(dir.path()).await.unwrap();
    s.append(Arc::new(batch(&[row("after", 6_000, "a", 200)]))).await.unwrap();
    let all = s.query(&filter(|f| f.limit = Some(100))).await.unwrap();
    assert_eq!(all.data.len(), 21);
    assert_eq!(all.data[0].request_id, "after");
}

#[tokio::test]
async fn zone_maps_let_filters_skip_segments_and_keyless_rows_are_still_logged() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteLogStore::open_dir(dir.path()).await.unwrap();
    let mut keyless = row("open", 1_000, "b", 200);
    keyless.key_id = None;
    keyless.key_name = None;
    keyless.user = None;
    s.append(Arc::new(batch(&[row("keyed", 1_001, "a", 200), row("keyed2", 1_002, "a", 200)]))).await.unwrap();
    s.append(Arc::new(batch(&[keyless]))).await.unwrap();
    let k1 = s.query(&filter(|f| f.key = Some("k1".into()))).await.unwrap();
    assert_eq!(k1.data.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(), ["keyed2", "keyed"]);
    let b = s.query(&filter(|f| f.provider = Some("b".into()))).await.unwrap();
    assert_eq!(b.data.iter().map(|r| r.request_id.as_str()).collect::<Vec<_>>(), ["open"]);
    assert_eq!(s.query(&LogFilter::default()).await.unwrap().data.len(), 3, "a keyless row is still logged");
    s.close().await;

    let db = rusqlite::Connection::open(dir.path().join("logs.db")).unwrap();
    let zones: Vec<(String, String, String, i64)> = db
        .prepare("SELECT providers, keys, users, rows FROM log_segments ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        zones,
        [("\na\n".into(), "\nk1\n".into(), "\nana\n".into(), 2), ("\nb\n".into(), String::new(), String::new(), 1)],
        "each segment lists its distinct values once"
    );
    let plan: String = db
        .query_row("EXPLAIN QUERY PLAN SELECT id FROM log_segments WHERE last_ms >= 5 ORDER BY id DESC", [], |r| {
            r.get(3)
        })
        .unwrap();
    assert!(plan.contains("log_segments"), "{plan}");
}
