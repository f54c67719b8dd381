//! `GET /api/logs` and `GET /api/logs/{request_id}`: the request log, newest
//! first, filtered and paged by cursor.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use switchyard_core::observability::{LogFilter, LogStore};

use super::api::{name, Name};
use super::error::{error, AdminError};

type Logs = State<Arc<dyn LogStore>>;

pub fn routes<S: Clone + Send + Sync + 'static>(store: Option<Arc<dyn LogStore>>) -> Router<S> {
    match store {
        Some(store) => {
            Router::new().route("/api/logs", get(list)).route("/api/logs/{request_id}", get(one)).with_state(store)
        }
        None => Router::new()
            .route("/api/logs", get(super::api::disabled))
            .route("/api/logs/{request_id}", get(super::api::disabled)),
    }
}

async fn list(State(store): Logs, query: Result<Query<LogFilter>, QueryRejection>) -> Result<Response, AdminError> {
    let Query(filter) = query.map_err(|r| AdminError::Request(StatusCode::BAD_REQUEST, r.body_text()))?;
    let bad = |m: String| AdminError::Request(StatusCode::BAD_REQUEST, m);
    if let Some(Err(m)) = filter.status_class() {
        return Err(bad(m));
    }
    LogFilter::bound(filter.since.as_deref(), "since").map_err(bad)?;
    LogFilter::bound(filter.until.as_deref(), "until").map_err(bad)?;
    if filter.cursor.as_deref().is_some_and(|c| c.parse::<i64>().is_err()) {
        return Err(bad("cursor: pass the next_cursor of the previous page as it is".into()));
    }
    let page = store
        .query(&filter)
        .await
        .map_err(|e| AdminError::Request(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(page).into_response())
}

async fn one(State(store): Logs, path: Name) -> Result<Response, AdminError> {
    let id = name(path)?;
    match store.get(&id).await {
        Ok(Some(row)) => Ok(Json(row).into_response()),
        Ok(None) => Ok(error(StatusCode::NOT_FOUND, format!("no request {id:?} in the log"))),
        Err(e) => Err(AdminError::Request(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
    }
}
