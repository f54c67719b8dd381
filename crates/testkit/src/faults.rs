//! Model-name driven faults shared by every generating endpoint, and the SSE
//! response helper.

use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;

pub(crate) use crate::api_error::{anthropic_error_body, ApiError, Dialect};
use crate::AppState;

/// How a stream that got past the up-front faults misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamFault {
    None,
    /// `fault-reset…`: the healthy prefix, then the connection breaks.
    Reset,
    /// `fault-truncate…`: the healthy prefix, then a clean end without the terminal event.
    Truncate,
    /// `fault-stream-error…`: the healthy prefix, then the dialect's in-band error event.
    ErrorEvent,
    /// `fault-error-continue…`: the healthy prefix, the error event, then the rest as if nothing happened.
    ErrorThenContinue,
    /// `fault-stall…`: the healthy prefix, then silence with the connection open.
    Stall,
}

/// A request that passed the up-front faults.
pub(crate) struct Turn {
    /// How many requests this model has seen (1 for the first), for unique ids.
    pub count: u32,
    pub stream_fault: StreamFault,
    /// Delay between SSE events (`slow…` and the stream faults).
    pub pace: Duration,
    /// `cached…`: usage reports prompt-cache reads and writes.
    pub cached: bool,
    /// `think…`: the answer starts with a reasoning/thinking part (Anthropic, Responses).
    pub thinking: bool,
}

/// Counts the request for `model` and applies the model-name faults that happen
/// before any answer: `Err` is the response to send instead.
pub(crate) async fn begin(s: &AppState, dialect: Dialect, model: &str) -> Result<Turn, Response> {
    let count = {
        let mut seen = s.shared.seen.lock().unwrap_or_else(|e| e.into_inner());
        let c = seen.entry(model.to_string()).or_insert(0);
        *c += 1;
        *c
    };
    if let Some(r) = crate::raw_faults::respond(dialect, model, count).await {
        return Err(r);
    }
    if model.starts_with("fault-503-always") || (model.starts_with("fault-503-once") && count == 1) {
        return Err(
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable.").render(dialect)
        );
    }
    if model.starts_with("fault-529-always") || (model.starts_with("fault-529-once") && count == 1) {
        let status = StatusCode::from_u16(529).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return Err(ApiError::new(status, "Overloaded").render(dialect));
    }
    if model.starts_with("fault-429-once") && count == 1 {
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded for this endpoint.")
            .openai_code("rate_limit_exceeded");
        e.retry_after = Some("0");
        return Err(e.render(dialect));
    }
    // Databricks' rate limit: its `error_code` body and a wait longer than a
    // gateway retries for, or (`…-bare`) a bare 429 with no body at all.
    if model.starts_with("databricks-limit-bare") {
        return Err(StatusCode::TOO_MANY_REQUESTS.into_response());
    }
    if let Some(e) = databricks_error(model) {
        return Err(e.render(Dialect::Databricks));
    }
    if model.starts_with("databricks-limit") {
        let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "Exceeded workspace QPS limit for this endpoint.");
        e.retry_after = Some("120");
        return Err(e.render(Dialect::Databricks));
    }
    if model.starts_with("error-400") {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("Invalid request: model {model} rejects this input"),
        )
        .render(dialect));
    }
    if model.starts_with("error-openai-404") {
        let e = ApiError::new(StatusCode::NOT_FOUND, format!("The model `{model}` does not exist"))
            .openai_code("model_not_found")
            .param("model");
        // The chat endpoint has always answered this one in OpenAI shape.
        let dialect = if dialect == Dialect::Databricks { Dialect::OpenAi } else { dialect };
        return Err(e.render(dialect));
    }
    if model.starts_with("hang") {
        futures::future::pending::<()>().await;
    }
    let stream_fault = if model.starts_with("fault-reset") {
        StreamFault::Reset
    } else if model.starts_with("fault-truncate") {
        StreamFault::Truncate
    } else if model.starts_with("fault-stream-error") {
        StreamFault::ErrorEvent
    } else if model.starts_with("fault-error-continue") {
        StreamFault::ErrorThenContinue
    } else if model.starts_with("fault-stall") {
        StreamFault::Stall
    } else {
        StreamFault::None
    };
    // Faults are paced so that the healthy part of the stream is flushed to the wire first.
    let pace = if model.starts_with("slow") || stream_fault != StreamFault::None {
        Duration::from_millis(50)
    } else {
        Duration::ZERO
    };
    Ok(Turn { count, stream_fault, pace, cached: model.starts_with("cached"), thinking: model.starts_with("think") })
}

/// Applies the turn's stream fault to a complete event list: keeps the first
/// `healthy` events and then breaks, ends, or appends `error_event`.
pub(crate) fn sse_response(mut events: Vec<String>, turn: &Turn, healthy: usize, error_event: String) -> Response {
    match turn.stream_fault {
        StreamFault::None => {}
        StreamFault::Reset | StreamFault::Truncate => events.truncate(healthy),
        StreamFault::ErrorEvent => {
            events.truncate(healthy);
            events.push(error_event);
        }
        StreamFault::ErrorThenContinue => events.insert(healthy.min(events.len()), error_event),
        StreamFault::Stall => {
            events.truncate(healthy);
            let head = sse_body(events, turn.pace, false).into_body().into_data_stream();
            let stream = head.chain(futures::stream::pending());
            return Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
    }
    sse_body(events, turn.pace, turn.stream_fault == StreamFault::Reset)
}

/// Streams `events` (already framed), `pace` apart; `reset` breaks the
/// connection after the last one instead of ending cleanly.
pub(crate) fn sse_body(events: Vec<String>, pace: Duration, reset: bool) -> Response {
    let stream =
        futures::stream::unfold((events.into_iter(), reset, false), move |(mut it, reset, failed)| async move {
            if failed {
                return None;
            }
            if !pace.is_zero() {
                tokio::time::sleep(pace).await;
            }
            match it.next() {
                Some(e) => Some((Ok::<Bytes, std::io::Error>(Bytes::from(e)), (it, reset, false))),
                None if reset => {
                    Some((Err(std::io::Error::other("fake upstream connection reset")), (it, reset, true)))
                }
                None => None,
            }
        });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// `event: <name>\ndata: <json>\n\n`.
pub(crate) fn named_event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// Splits a string into at least two fragments (word by word when it has
/// several words, else in halves), which concatenate back to it.
pub(crate) fn fragments(s: &str) -> Vec<String> {
    let words: Vec<String> = s.split_inclusive(' ').map(str::to_string).collect();
    if words.len() >= 2 {
        return words;
    }
    let mut mid = s.len() / 2;
    while !s.is_char_boundary(mid) {
        mid += 1;
    }
    let (a, b) = s.split_at(mid);
    vec![a.to_string(), b.to_string()]
}

/// `databricks-error-<CODE>…`: Databricks' own error body for that code, with the status Databricks gives it.
fn databricks_error(model: &str) -> Option<ApiError> {
    let rest = model.strip_prefix("databricks-error-")?;
    let (code, status, message): (&'static str, u16, &str) = [
        ("PERMISSION_DENIED", 403, "User does not have permission 'CAN QUERY' on endpoint."),
        ("RESOURCE_DOES_NOT_EXIST", 404, "The given endpoint does not exist."),
        ("INVALID_PARAMETER_VALUE", 400, "Invalid parameter: temperature must be between 0 and 2."),
        ("BAD_REQUEST", 400, "Malformed request: messages must not be empty."),
        ("TEMPORARILY_UNAVAILABLE", 503, "The endpoint is scaling up; try again shortly."),
    ]
    .into_iter()
    .find(|(code, _, _)| rest.starts_with(code))?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    Some(ApiError::new(status, message).databricks_code(code))
}

#[cfg(test)]
mod tests {
    use super::fragments;

    #[test]
    fn fragments_concatenate_back() {
        for s in ["", "a", "ab", "héllo", "one two three", r#"{"cmd":"echo x"}"#] {
            let f = fragments(s);
            assert!(f.len() >= 2, "{s:?}");
            assert_eq!(f.concat(), s);
        }
    }
}
