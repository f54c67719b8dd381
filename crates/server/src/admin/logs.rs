//! The request log's API: `GET /api/logs` (newest first, filtered, paged by
//! cursor), `GET /api/logs/{request_id}` (a row and its payloads),
//! `GET /api/logs/tail` (new rows as server-sent events), and
//! `GET /api/usage` (from hourly rollups, JSON or CSV).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_core::governance::period::now_ms;
use switchyard_core::observability::rollup::{self, Bucket, GroupBy, UsageFilter, DAY_MS};
use switchyard_core::observability::{LogFilter, LogRow, Logs, StoredPayload};
use tokio::sync::broadcast::error::RecvError;

use super::api::{name, Name};
use super::error::{error, AdminError};

pub fn routes<S: Clone + Send + Sync + 'static>(logs: Option<Logs>) -> Router<S> {
    match logs {
        Some(logs) => Router::new()
            .route("/api/logs", get(list))
            .route("/api/logs/tail", get(tail))
            .route("/api/logs/{request_id}", get(one))
            .route("/api/usage", get(usage))
            .with_state(logs),
        None => Router::new()
            .route("/api/logs", get(super::api::disabled))
            .route("/api/logs/tail", get(super::api::disabled))
            .route("/api/logs/{request_id}", get(super::api::disabled))
            .route("/api/usage", get(super::api::disabled)),
    }
}

fn bad(m: impl Into<String>) -> AdminError {
    AdminError::Request(StatusCode::BAD_REQUEST, m.into())
}

fn failed(e: impl std::fmt::Display) -> AdminError {
    AdminError::Request(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

fn filter_of(query: Result<Query<LogFilter>, QueryRejection>) -> Result<LogFilter, AdminError> {
    let Query(filter) = query.map_err(|r| bad(r.body_text()))?;
    filter.validate().map_err(bad)?;
    Ok(filter)
}

async fn list(
    State(logs): State<Logs>,
    query: Result<Query<LogFilter>, QueryRejection>,
) -> Result<Response, AdminError> {
    let filter = filter_of(query)?;
    let page = logs.store.query(&filter).await.map_err(failed)?;
    Ok(Json(page).into_response())
}

/// A stored body as the API shows it: JSON when it is (whole) JSON, else the text.
fn body_value(text: &str, truncated: bool) -> Value {
    if truncated {
        return Value::String(text.to_string());
    }
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

fn payload_json(p: &StoredPayload) -> Value {
    json!({
        "request": body_value(&p.request, p.request_truncated),
        "response": body_value(&p.response, p.response_truncated),
        "request_truncated": p.request_truncated,
        "response_truncated": p.response_truncated,
    })
}

async fn one(State(logs): State<Logs>, path: Name) -> Result<Response, AdminError> {
    let id = name(path)?;
    match logs.store.get(&id).await.map_err(failed)? {
        Some((row, payload)) => {
            let mut v = serde_json::to_value(&row).map_err(failed)?;
            if let Value::Object(o) = &mut v {
                o.insert("payload".into(), payload.as_ref().map(payload_json).unwrap_or(Value::Null));
            }
            Ok(Json(v).into_response())
        }
        None => Ok(error(StatusCode::NOT_FOUND, format!("no request {id:?} in the log"))),
    }
}

/// New rows as `data:` events; `event: lagged` when the client fell behind.
async fn tail(
    State(logs): State<Logs>,
    query: Result<Query<LogFilter>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AdminError> {
    let filter = filter_of(query)?;
    if filter.cursor.is_some() || filter.limit.is_some() {
        return Err(bad("cursor, limit: a tail has no pages; use GET /api/logs for history"));
    }
    let rx = logs.writer.subscribe();
    let events = futures::stream::unfold((rx, filter), |(mut rx, filter)| async move {
        loop {
            let event = match rx.recv().await {
                Ok(row) if filter.matches(&row) => match Event::default().json_data(with_time(&row)) {
                    Ok(e) => e,
                    Err(_) => continue,
                },
                Ok(_) => continue,
                Err(RecvError::Lagged(n)) => Event::default().event("lagged").data(json!({"missed": n}).to_string()),
                // The writer stopped (shutdown): the tail ends.
                Err(RecvError::Closed) => return None,
            };
            return Some((Ok::<_, Infallible>(event), (rx, filter)));
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)).text("ping")))
}

/// A tailed row with its `started_at` rendered (rows are queued without it).
fn with_time(row: &LogRow) -> LogRow {
    let mut r = row.clone();
    r.started_at = switchyard_core::governance::period::rfc3339(r.started_at_ms);
    r
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageQuery {
    group_by: Option<GroupBy>,
    #[serde(default)]
    bucket: Bucket,
    since: Option<String>,
    until: Option<String>,
    provider: Option<String>,
    model: Option<String>,
    route: Option<String>,
    key: Option<String>,
    team: Option<String>,
    user: Option<String>,
    /// `csv` for a spreadsheet; JSON otherwise.
    format: Option<String>,
}

async fn usage(
    State(logs): State<Logs>,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Result<Response, AdminError> {
    let Query(q) = query.map_err(|r| bad(r.body_text()))?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => return Err(bad(format!("format: {other:?} is neither `json` nor `csv`"))),
    };
    let now = now_ms();
    let until = LogFilter::bound(q.until.as_deref(), "until").map_err(bad)?.unwrap_or(now);
    let since = LogFilter::bound(q.since.as_deref(), "since").map_err(bad)?.unwrap_or(until.saturating_sub(DAY_MS));
    if since >= until {
        return Err(bad("since: must be before until"));
    }
    // Whole buckets: the one `since` falls in, up to the one `until` falls in.
    let filter = UsageFilter {
        since_ms: since - since % q.bucket.ms(),
        until_ms: until,
        provider: q.provider,
        model: q.model,
        route: q.route,
        key: q.key,
        team: q.team,
        user: q.user,
    };
    let rollups = logs.store.usage(&filter).await.map_err(failed)?;
    let report = rollup::report(&rollups, &filter, q.group_by, q.bucket);
    if csv {
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"switchyard-usage.csv\""),
            ],
            rollup::csv(&report),
        )
            .into_response());
    }
    Ok(Json(report).into_response())
}
