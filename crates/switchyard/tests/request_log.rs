//! The request log of the real binary: SIGTERM writes every row still
//! queued before the process exits; `/metrics` counts what was served;
//! `--no-request-log` turns the log (and its API) off.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{http, Gateway};
use serde_json::{json, Value};
use switchyard_core::observability::{LogFilter, LogStore};
use switchyard_testkit::FakeUpstream;

#[tokio::test]
async fn sigterm_writes_every_queued_row_before_exit() {
    let fake = FakeUpstream::start().await.unwrap();
    let mut gw = Gateway::start(&fake, &["--log-payloads"], &[]);
    let client = http();
    let n = 200;
    let sent = futures::future::join_all((0..n).map(|i| {
        let client = client.clone();
        let url = format!("{}/v1/chat/completions", gw.base);
        async move {
            let body = json!({"model": "oa/gpt-4o", "messages": [{"role": "user", "content": format!("row {i}")}]});
            client.post(url).json(&body).send().await.unwrap().status()
        }
    }))
    .await;
    assert!(sent.iter().all(|s| s.is_success()));
    let metrics = client.get(format!("{}/metrics", gw.base)).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(&format!("switchyard_requests_total{{inbound=\"openai.chat\",provider=\"oa\",model=\"oa/gpt-4o\",status_class=\"2xx\"}} {n}")),
        "{metrics}"
    );
    // Straight after the answers: most rows are still in the writer's queue or batch.
    assert!(gw.stop().success(), "{}", gw.stderr());
    let store = switchyard_store::SqliteLogStore::open_dir(&gw.data_dir()).await.unwrap();
    let mut seen = 0;
    let mut cursor = None;
    loop {
        let page =
            store.query(&LogFilter { limit: Some(500), cursor: cursor.clone(), ..LogFilter::default() }).await.unwrap();
        seen += page.data.len();
        assert!(page.data.iter().all(|r| r.has_payload), "--log-payloads stores every payload");
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, n, "every acknowledged request has its row after SIGTERM");
    let (row, payload) =
        store.get(&store.query(&LogFilter::default()).await.unwrap().data[0].request_id).await.unwrap().unwrap();
    let request: Value = serde_json::from_str(&payload.unwrap().request).unwrap();
    assert_eq!(request["model"], "oa/gpt-4o");
    assert_eq!(row.provider.as_deref(), Some("oa"));
    store.close().await;
}

#[tokio::test]
async fn no_request_log_means_no_rows_and_no_log_api() {
    let fake = FakeUpstream::start().await.unwrap();
    let mut gw = Gateway::start(&fake, &["--no-request-log"], &[]);
    let client = http();
    let body = json!({"model": "oa/gpt-4o", "messages": [{"role": "user", "content": "unlogged"}]});
    let ok = client.post(format!("{}/v1/chat/completions", gw.base)).json(&body).send().await.unwrap();
    assert!(ok.status().is_success());
    let logs = client.get(format!("{}/api/logs", gw.base)).send().await.unwrap();
    assert_eq!(logs.status(), 404, "the log API says it is off");
    let text = logs.text().await.unwrap();
    assert!(text.contains("not enabled"), "{text}");
    assert!(gw.stop().success());
    assert!(!gw.data_dir().join("logs.db").exists(), "no log file is even created");
}
