//! Whole-response faults a careless upstream (or a WAF, proxy or load
//! balancer in front of it) produces, chosen by model-name prefix before any
//! dialect logic runs. The fault matrix (crates/server/tests/fault_matrix.rs)
//! drives every one through every client dialect and path.

use std::io::Write;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::json;

use crate::api_error::{ApiError, Dialect};

fn raw(status: u16, content_type: Option<&'static str>, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Some(ct) = content_type {
        r.headers_mut().insert("content-type", HeaderValue::from_static(ct));
    }
    r
}

/// A valid non-stream answer of the dialect, gzip-compressed (unasked).
fn gzipped(dialect: Dialect, model: &str) -> Response {
    let body = match dialect {
        Dialect::Anthropic => json!({"id": "msg_gz", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": "compressed hello"}], "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 3, "output_tokens": 2}}),
        _ => json!({"id": "chatcmpl-gz", "object": "chat.completion", "created": 1_700_000_000, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "compressed hello"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}),
    };
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = enc.write_all(body.to_string().as_bytes());
    let mut r = raw(200, Some("application/json"), enc.finish().unwrap_or_default());
    r.headers_mut().insert("content-encoding", HeaderValue::from_static("gzip"));
    r
}

/// `fault-huge-<MiB>`: a valid chat answer whose content is that many MiB.
fn huge(model: &str, mib: usize) -> Response {
    let head = format!(
        "{{\"id\":\"chatcmpl-huge\",\"object\":\"chat.completion\",\"created\":1700000000,\"model\":\"{model}\",\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":\""
    );
    let tail =
        "\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";
    let chunk = Bytes::from(vec![b'a'; 1 << 20]);
    let parts = std::iter::once(Bytes::from(head))
        .chain(std::iter::repeat_n(chunk, mib))
        .chain(std::iter::once(Bytes::from_static(tail.as_bytes())));
    let stream = futures::stream::iter(parts.map(Ok::<_, std::io::Error>));
    raw(200, Some("application/json"), Body::from_stream(stream))
}

/// The response for a whole-response fault, or `None` for a normal turn.
pub(crate) async fn respond(dialect: Dialect, model: &str, count: u32) -> Option<Response> {
    let status_always = [("fault-500-always", 500), ("fault-502-always", 502), ("fault-504-always", 504)];
    for (prefix, status) in status_always {
        if model.starts_with(prefix) {
            let s = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Some(ApiError::new(s, format!("upstream says {status}")).render(dialect));
        }
    }
    if model.starts_with("fault-429-date-once") && count == 1 {
        let at = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(1));
        let mut r = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "slow down").render(dialect);
        r.headers_mut().insert("retry-after", HeaderValue::from_str(&at).ok()?);
        return Some(r);
    }
    if model.starts_with("fault-429-ms-once") && count == 1 {
        let mut r = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "slow down").render(dialect);
        r.headers_mut().insert("retry-after-ms", HeaderValue::from_static("20"));
        return Some(r);
    }
    if model.starts_with("fault-slow-headers") {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let r = if model.starts_with("fault-html-200") {
        raw(200, Some("text/html"), "<html><body>Request blocked by policy</body></html>")
    } else if model.starts_with("fault-empty-200") {
        raw(200, None, "")
    } else if model.starts_with("fault-badjson-200") {
        raw(200, Some("application/json"), "{\"id\": \"chatcmpl-x\", \"choices\": [")
    } else if model.starts_with("fault-badsse") {
        raw(200, Some("text/event-stream"), "data: {not json at all\n\ndata: [DONE]\n\n")
    } else if model.starts_with("fault-longline") {
        // One event line of 2 MiB that never ends.
        let line = Bytes::from(format!("data: {{\"x\":\"{}", "y".repeat(2 << 20)));
        raw(200, Some("text/event-stream"), Body::from_stream(futures::stream::iter([Ok::<_, std::io::Error>(line)])))
    } else if let Some(mib) = model.strip_prefix("fault-huge-") {
        huge(model, mib.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()?)
    } else if model.starts_with("fault-gzip") {
        gzipped(dialect, model)
    } else {
        return None;
    };
    Some(r.into_response())
}
