//! The binary's own log lines on stderr: JSON objects that carry their
//! request's id (also when logged at a stream's end), text without colour
//! codes when stderr is not a terminal, durations without float noise.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::{json, Value};
use switchyard_testkit::FakeUpstream;

async fn chat(base: &str, request_id: &str, model: &str, stream: bool) -> (u16, String) {
    let resp = common::http()
        .post(format!("{base}/v1/chat/completions"))
        .header("x-request-id", request_id)
        .json(&json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap())
}

/// The request id of a JSON line's span (`span.request_id`), if any.
fn span_request_id(line: &Value) -> Option<&str> {
    line["span"]["request_id"].as_str()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_lines_parse_and_name_their_request() {
    let fake = FakeUpstream::start().await.unwrap();
    let mut gw = common::Gateway::start(&fake, &["--log-format", "json", "--log", "info,switchyard_core=debug"], &[]);
    let (status, body) = chat(&gw.base, "req-json-stream", "oa/gpt-4o", true).await;
    assert_eq!(status, 200);
    assert!(body.contains("[DONE]"), "{body}");
    // Fails upstream (503, no retries): the server logs the error while serving.
    let (status, _) = chat(&gw.base, "req-json-fail", "oa/fault-503-always", false).await;
    assert_eq!(status, 503);
    assert!(gw.stop().success());

    let stderr = gw.stderr();
    let lines: Vec<Value> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let of = |id: &str, message: &str| -> Vec<&Value> {
        lines.iter().filter(|l| l["message"] == message && span_request_id(l) == Some(id)).collect()
    };
    for message in ["request", "sending", "settled"] {
        assert_eq!(of("req-json-stream", message).len(), 1, "{message:?} line of the stream:\n{stderr}");
    }
    // The stream settles after the handler returned, while hyper writes its body.
    assert_eq!(of("req-json-stream", "settled")[0]["end"], "completed");
    let failed: Vec<&Value> =
        lines.iter().filter(|l| span_request_id(l) == Some("req-json-fail") && l["level"] == "WARN").collect();
    assert!(!failed.is_empty(), "the upstream error is logged with its request id:\n{stderr}");
    // Every line logged inside a request names one.
    for line in &lines {
        if line["target"].as_str().is_some_and(|t| t.starts_with("switchyard_core::call")) {
            assert!(span_request_id(line).is_some(), "{line}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_lines_have_no_colour_codes_off_a_terminal_and_round_durations() {
    let fake = FakeUpstream::start().await.unwrap();
    let mut gw = common::Gateway::start(&fake, &["--log", "info,switchyard_core=debug"], &[]);
    let (status, _) = chat(&gw.base, "req-text-1", "oa/gpt-4o", false).await;
    assert_eq!(status, 200);
    // A route whose first candidate fails: a warning mid-request.
    let (status, _) = chat(&gw.base, "req-text-2", "smart", true).await;
    assert_eq!(status, 200);
    assert!(gw.stop().success());

    let stderr = gw.stderr();
    assert!(!stderr.contains("\x1b["), "ANSI codes in piped stderr:\n{stderr}");
    let request_lines: Vec<&str> = stderr.lines().filter(|l| l.contains("latency_ms=")).collect();
    assert!(request_lines.len() >= 2, "{stderr}");
    assert!(request_lines.iter().any(|l| l.contains("req-text-1")), "{stderr}");
    assert!(stderr.lines().any(|l| l.contains("req-text-2") && l.contains("candidate failed")), "{stderr}");
    for line in stderr.lines() {
        for (i, _) in line.match_indices("_ms=") {
            let value: String = line[i + 4..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == 'e' || *c == '-')
                .collect();
            let decimals = value.split_once('.').map_or(0, |(_, d)| d.len());
            assert!(!value.contains('e') && decimals <= 3, "a duration with a long tail: {value} in {line}");
        }
    }
}
