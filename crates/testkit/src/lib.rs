//! A fake upstream for tests, behaving like Databricks AI Gateway's Unified
//! (MLflow, OpenAI-compatible) API on one listener and the workspace's Unity
//! Catalog API on a second one (a different host, as in production).
//!
//! Behaviour is chosen by the model name, since that is what passes unchanged
//! through the gateway:
//! - `fault-503-once…` / `fault-429-once…`: the first request for that exact
//!   model fails (503 Databricks body / 429 with `retry-after`), later ones succeed;
//! - `fault-503-always…`: always 503;
//! - `error-400…`: 400 with a Databricks `{"error_code","message"}` body;
//! - `error-openai-404…`: 404 with an OpenAI error body;
//! - `fault-reset…`: streams two chunks, then breaks the connection;
//! - `fault-truncate…`: streams two chunks, then ends cleanly without `[DONE]`;
//! - `hang…`: never answers;
//! - `slow…`: 50 ms between stream chunks;
//! - anything else: a normal answer. With `tools` and a user turn last, the
//!   answer is a call of the first tool; after a `tool` message, the answer
//!   quotes the tool result.
//!
//! Every request is recorded (method, path, headers, JSON body) and readable
//! in-process or at `GET /__fake/requests`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, Default)]
pub struct FakeOptions {
    /// When set, requests must carry `Authorization: Bearer <token>`.
    pub expect_bearer: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordedRequest {
    /// `gateway` or `workspace`.
    pub host: String,
    pub method: String,
    /// Path and query.
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Value,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}

#[derive(Default)]
struct Shared {
    opts: FakeOptions,
    requests: Mutex<Vec<RecordedRequest>>,
    /// Requests seen per model, for the `…-once` faults.
    seen: Mutex<HashMap<String, u32>>,
}

#[derive(Clone)]
struct AppState {
    shared: Arc<Shared>,
    host: &'static str,
}

pub struct FakeUpstream {
    gateway: SocketAddr,
    workspace: SocketAddr,
    shared: Arc<Shared>,
}

impl FakeUpstream {
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(FakeOptions::default()).await
    }

    pub async fn start_with(opts: FakeOptions) -> anyhow::Result<Self> {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_on(opts, any_port, any_port).await
    }

    pub async fn start_on(opts: FakeOptions, gateway: SocketAddr, workspace: SocketAddr) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared { opts, ..Shared::default() });
        let gw = tokio::net::TcpListener::bind(gateway).await?;
        let ws = tokio::net::TcpListener::bind(workspace).await?;
        let gateway = gw.local_addr()?;
        let workspace = ws.local_addr()?;
        let gw_app = Router::new()
            .route("/__fake/requests", get(list_requests).delete(clear_requests))
            .fallback(any(gateway_handler))
            .with_state(AppState { shared: shared.clone(), host: "gateway" });
        let ws_app = Router::new()
            .route("/__fake/requests", get(list_requests).delete(clear_requests))
            .fallback(any(workspace_handler))
            .with_state(AppState { shared: shared.clone(), host: "workspace" });
        tokio::spawn(async move { axum::serve(gw, gw_app).await });
        tokio::spawn(async move { axum::serve(ws, ws_app).await });
        Ok(Self { gateway, workspace, shared })
    }

    /// URL on the AI Gateway host.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.gateway, path)
    }

    /// URL on the workspace host (Unity Catalog).
    pub fn workspace_url(&self, path: &str) -> String {
        format!("http://{}{}", self.workspace, path)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Requests whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<RecordedRequest> {
        self.requests().into_iter().filter(|r| r.path.starts_with(prefix)).collect()
    }
}

async fn list_requests(State(s): State<AppState>) -> Json<Vec<RecordedRequest>> {
    Json(s.shared.requests.lock().map(|r| r.clone()).unwrap_or_default())
}

async fn clear_requests(State(s): State<AppState>) -> StatusCode {
    if let Ok(mut r) = s.shared.requests.lock() {
        r.clear();
    }
    StatusCode::NO_CONTENT
}

fn record(s: &AppState, method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) {
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
    };
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    if let Ok(mut r) = s.shared.requests.lock() {
        r.push(RecordedRequest {
            host: s.host.to_string(),
            method: method.to_string(),
            path: uri.path_and_query().map(|p| p.to_string()).unwrap_or_default(),
            headers,
            body,
        });
    }
}

fn databricks_error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"error_code": code, "message": message, "details": []}))).into_response()
}

fn check_auth(s: &AppState, headers: &HeaderMap) -> Option<Response> {
    let expected = s.shared.opts.expect_bearer.as_ref()?;
    let got = headers.get("authorization").and_then(|v| v.to_str().ok());
    if got == Some(format!("Bearer {expected}").as_str()) {
        return None;
    }
    Some(databricks_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "Invalid access token."))
}

async fn gateway_handler(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&s, &method, &uri, &headers, &body);
    if let Some(denied) = check_auth(&s, &headers) {
        return denied;
    }
    let path = uri.path();
    if method == Method::POST && path.ends_with("/chat/completions") {
        return chat(&s, &body).await;
    }
    if method == Method::GET && path.ends_with("/models") {
        return Json(json!({"object": "list", "data": [
            {"id": "fake-llama", "object": "model", "created": 1_700_000_000, "owned_by": "fake"},
            {"id": "fake-gpt", "object": "model", "created": 1_700_000_001, "owned_by": "fake"}
        ]}))
        .into_response();
    }
    databricks_error(StatusCode::NOT_FOUND, "ENDPOINT_NOT_FOUND", &format!("No API found for '{method} {path}'"))
}

#[derive(serde::Deserialize)]
struct UcQuery {
    page_token: Option<String>,
}

/// Unity Catalog `registered_models`, three pages: two models, an empty page
/// that still carries a token, then one model and no token.
async fn workspace_handler(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    q: Query<UcQuery>,
    body: Bytes,
) -> Response {
    record(&s, &method, &uri, &headers, &body);
    if let Some(denied) = check_auth(&s, &headers) {
        return denied;
    }
    if method != Method::GET || uri.path() != "/api/2.1/unity-catalog/models" {
        return databricks_error(StatusCode::NOT_FOUND, "ENDPOINT_NOT_FOUND", "No API found");
    }
    let model = |full: &str| {
        let name = full.rsplit('.').next().unwrap_or(full);
        json!({"name": name, "full_name": full, "catalog_name": "main", "schema_name": "default",
               "owner": "dev@example.com", "created_at": 1_700_000_000_000i64})
    };
    let page = match q.page_token.as_deref() {
        None => {
            json!({"registered_models": [model("main.default.llama"), model("main.default.mixtral")], "next_page_token": "page-2"})
        }
        Some("page-2") => json!({"registered_models": [], "next_page_token": "page-3"}),
        Some("page-3") => json!({"registered_models": [model("system.ai.claude")]}),
        Some(other) => {
            return databricks_error(
                StatusCode::BAD_REQUEST,
                "INVALID_PARAMETER_VALUE",
                &format!("bad page_token {other}"),
            )
        }
    };
    Json(page).into_response()
}

struct ChatPlan {
    text: Option<String>,
    tool_call: Option<(String, String)>,
    prompt_tokens: u64,
}

fn plan(req: &Value) -> ChatPlan {
    let model = req["model"].as_str().unwrap_or("");
    let messages = req["messages"].as_array().cloned().unwrap_or_default();
    let text_of = |m: &Value| match &m["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join(""),
        _ => String::new(),
    };
    let prompt_tokens = messages.iter().map(|m| text_of(m).split_whitespace().count() as u64).sum::<u64>().max(1);
    let last = messages.last().cloned().unwrap_or(Value::Null);
    let tools = req["tools"].as_array().filter(|t| !t.is_empty());
    if last["role"] == "tool" {
        return ChatPlan { text: Some(format!("The tool said: {}", text_of(&last))), tool_call: None, prompt_tokens };
    }
    if let Some(tools) = tools {
        let name = tools[0]["function"]["name"].as_str().unwrap_or("tool").to_string();
        return ChatPlan { text: None, tool_call: Some((name, r#"{"location":"Paris"}"#.to_string())), prompt_tokens };
    }
    let user = messages.iter().rev().find(|m| m["role"] == "user").map(text_of).unwrap_or_default();
    ChatPlan { text: Some(format!("Hello from {model}! You said: {user}")), tool_call: None, prompt_tokens }
}

async fn chat(s: &AppState, body: &Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return databricks_error(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "Request body is not valid JSON");
    };
    let model = req["model"].as_str().unwrap_or("").to_string();
    let count = {
        let mut seen = s.shared.seen.lock().unwrap_or_else(|e| e.into_inner());
        let c = seen.entry(model.clone()).or_insert(0);
        *c += 1;
        *c
    };
    if model.starts_with("fault-503-always") || (model.starts_with("fault-503-once") && count == 1) {
        return databricks_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "TEMPORARILY_UNAVAILABLE",
            "The service is temporarily unavailable.",
        );
    }
    if model.starts_with("fault-429-once") && count == 1 {
        let mut r = databricks_error(
            StatusCode::TOO_MANY_REQUESTS,
            "REQUEST_LIMIT_EXCEEDED",
            "Rate limit exceeded for this endpoint.",
        );
        r.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("0"));
        return r;
    }
    if model.starts_with("error-400") {
        return databricks_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("Invalid request: model {model} rejects this input"),
        );
    }
    if model.starts_with("error-openai-404") {
        return (StatusCode::NOT_FOUND, Json(json!({"error": {"message": format!("The model `{model}` does not exist"), "type": "invalid_request_error", "param": "model", "code": "model_not_found"}}))).into_response();
    }
    if model.starts_with("hang") {
        futures::future::pending::<()>().await;
    }
    let p = plan(&req);
    let completion_tokens = p.text.as_deref().map(|t| t.split_whitespace().count() as u64).unwrap_or(8);
    let usage = json!({"prompt_tokens": p.prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": p.prompt_tokens + completion_tokens});
    let finish = if p.tool_call.is_some() { "tool_calls" } else { "stop" };
    let id = format!("chatcmpl-fake{count}");
    if req["stream"] != Value::Bool(true) {
        let tool_calls = p.tool_call.as_ref().map(|(name, args)| json!([{"id": "call_fake1", "type": "function", "function": {"name": name, "arguments": args}}]));
        let mut message = json!({"role": "assistant", "content": p.text, "refusal": null});
        if let Some(tc) = tool_calls {
            message["tool_calls"] = tc;
        }
        return Json(json!({"id": id, "object": "chat.completion", "created": 1_700_000_000, "model": model,
            "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}], "usage": usage}))
        .into_response();
    }
    let include_usage = req["stream_options"]["include_usage"] == Value::Bool(true);
    let chunk = |delta: Value, finish: Option<&str>| {
        let mut c = json!({"id": id, "object": "chat.completion.chunk", "created": 1_700_000_000, "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]});
        if include_usage {
            c["usage"] = Value::Null;
        }
        format!("data: {c}\n\n")
    };
    let mut events = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    if let Some(text) = &p.text {
        let words: Vec<&str> = text.split_inclusive(' ').collect();
        for w in words {
            events.push(chunk(json!({"content": w}), None));
        }
    }
    if let Some((name, args)) = &p.tool_call {
        events.push(chunk(json!({"tool_calls": [{"index": 0, "id": "call_fake1", "type": "function", "function": {"name": name, "arguments": ""}}]}), None));
        let (a, b) = args.split_at(args.len() / 2);
        events.push(chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": a}}]}), None));
        events.push(chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": b}}]}), None));
    }
    let fault_reset = model.starts_with("fault-reset");
    let fault_truncate = model.starts_with("fault-truncate");
    if fault_reset || fault_truncate {
        events.truncate(2);
    } else {
        events.push(chunk(json!({}), Some(finish)));
        if include_usage {
            events.push(format!("data: {}\n\n", json!({"id": id, "object": "chat.completion.chunk", "created": 1_700_000_000, "model": model, "choices": [], "usage": usage})));
        }
        events.push("data: [DONE]\n\n".to_string());
    }
    // Faults are paced so that the healthy part of the stream is flushed to the wire first.
    let pace = if model.starts_with("slow") || fault_reset || fault_truncate {
        Duration::from_millis(50)
    } else {
        Duration::ZERO
    };
    let stream =
        futures::stream::unfold((events.into_iter(), fault_reset, false), move |(mut it, reset, failed)| async move {
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
