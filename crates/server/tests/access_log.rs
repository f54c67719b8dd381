//! The access log: one line per request at `info`, with method, path, status
//! and latency inside the request's span — never a header or a body, which
//! carry secrets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn one_line_per_request_and_no_secret() {
    let logs = Captured::default();
    // Global, for the server's tasks: this test binary holds this one test.
    tracing_subscriber::fmt().with_writer(logs.clone()).with_max_level(tracing::Level::INFO).with_ansi(false).init();
    let h = common::start(common::DATABRICKS_MLFLOW).await;
    let resp = h
        .http
        .post(format!("{}/v1/chat/completions", h.base))
        .bearer_auth("sk-client-secret-7f3a")
        .header("x-request-id", "req-log-1")
        .json(&json!({"model": "databricks-mlflow/m", "messages": [{"role": "user", "content": "a private question"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-request-id"], "req-log-1");
    resp.bytes().await.unwrap();
    assert_eq!(h.get("/health").await.status(), 200);
    assert_eq!(h.get("/v1/nothing-here").await.status(), 404);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("latency_ms=")).collect();
    assert_eq!(lines.len(), 3, "one line per request: {text}");
    let chat = lines.iter().find(|l| l.contains("path=/v1/chat/completions")).expect("the chat request is logged");
    assert!(chat.contains("method=POST") && chat.contains("status=200"), "{chat}");
    assert!(chat.contains("request_id=\"req-log-1\"") || chat.contains("request_id=req-log-1"), "in its span: {chat}");
    assert!(lines.iter().any(|l| l.contains("path=/health") && l.contains("status=200")), "{text}");
    assert!(lines.iter().any(|l| l.contains("path=/v1/nothing-here") && l.contains("status=404")), "{text}");
    for secret in ["sk-client-secret-7f3a", "dapi-test-token", "a private question"] {
        assert!(!text.contains(secret), "{secret:?} was logged: {text}");
    }
}
