//! A fake upstream for tests, behaving like Databricks AI Gateway on one
//! listener and the workspace's Unity Catalog API on a second one (a different
//! host, as in production).
//!
//! The AI Gateway listener answers, under any path prefix (`/mlflow`, `/anthropic`, …),
//! and so does the workspace listener under `/ai-gateway/` (the Unity AI Gateway layout:
//! `/ai-gateway/mlflow/v1`, `/ai-gateway/anthropic`, `/ai-gateway/codex/v1`), which also
//! lists `GET /api/2.1/unity-catalog/model-services` (a `page_size` required):
//! - `POST …/chat/completions` (and `…/invocations`, Model Serving's): OpenAI Chat Completions (Databricks Unified API);
//! - `POST …/v1/messages` (also `?beta=true`) and `POST …/v1/messages/count_tokens`:
//!   Anthropic Messages, validated like the real API ([`anthropic`]);
//! - `POST …/v1/responses`: OpenAI Responses ([`responses`]);
//! - `POST …/v1/completions`, `POST …/v1/embeddings`: legacy completions and embeddings;
//! - `GET …/models`: an OpenAI model list, or Anthropic's paged list when the
//!   request carries `anthropic-version` (also `GET …/models/{id}`).
//!
//! What the "model" says is scripted in [`agent_script`], the same for chat,
//! messages and responses: coding agents (a `Bash` or `exec_command` tool) get
//! one shell call and then `Agent task complete: <output>`.
//!
//! Behaviour is chosen by the model name, since that is what passes unchanged
//! through the gateway (errors come in the endpoint's own shape: Databricks for
//! chat/completions/embeddings, Anthropic for messages, OpenAI for responses):
//! - `fault-503-once…` / `fault-429-once…` / `fault-529-once…`: the first request for
//!   that exact model fails (503 / 429 with `retry-after` / 529 `overloaded_error`),
//!   later ones succeed;
//! - `fault-503-always…` / `fault-529-always…`: always fails;
//! - `databricks-limit…`: always 429, Databricks' `REQUEST_LIMIT_EXCEEDED` body with
//!   `retry-after: 120`; `databricks-limit-bare…`: always 429 with no body;
//! - `databricks-error-<CODE>…` (`PERMISSION_DENIED`, `RESOURCE_DOES_NOT_EXIST`,
//!   `INVALID_PARAMETER_VALUE`, `BAD_REQUEST`, `TEMPORARILY_UNAVAILABLE`): that
//!   Databricks error body with its status (403, 404, 400, 400, 503);
//! - `error-400…`: 400 (Databricks `{"error_code","message"}` on chat);
//! - `error-openai-404…`: 404 (OpenAI body on chat, Anthropic `not_found_error` on messages);
//! - `fault-reset…`: streams the first events, then breaks the connection;
//! - `fault-truncate…`: streams the first events, then ends cleanly without the
//!   terminal event (`[DONE]`, `message_stop`, `response.completed`);
//! - `fault-stream-error…`: streams the first events, then an in-band error
//!   (Anthropic `event: error` overloaded, Responses `response.failed`);
//! - `hang…`: never answers;
//! - `slow…`: 50 ms between stream events;
//! - `cached…`: usage reports prompt-cache reads (100) and writes (20);
//! - `think…`: Anthropic answers start with a signed `thinking` block, Responses
//!   answers with a `reasoning` item;
//! - anything else: a normal answer.
//!
//! Auth (`FakeOptions::expect_bearer`): `Authorization: Bearer <token>` or
//! `x-api-key: <token>`; with `FakeOptions::oauth`, also the bearer tokens its
//! OAuth endpoint (`POST /oidc/v1/token` on the workspace host, [`oauth`]) issued.
//!
//! Every request is recorded (method, path, headers, JSON body) and readable
//! in-process or at `GET /__fake/requests` (`DELETE` clears it).

pub mod agent_script;
pub mod anthropic;
mod api_error;
mod faults;
pub mod legacy;
pub mod oauth;
mod raw_faults;
pub mod responses;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Value};

use agent_script::{Conversation, Reply};
use faults::{ApiError, Dialect};

#[derive(Debug, Clone, Default)]
pub struct FakeOptions {
    /// When set, requests must carry `Authorization: Bearer <token>` or `x-api-key: <token>`.
    pub expect_bearer: Option<String>,
    /// A service principal: the token endpoint issues tokens, the hosts accept them.
    pub oauth: Option<oauth::FakeOAuth>,
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
pub(crate) struct Shared {
    opts: FakeOptions,
    requests: Mutex<Vec<RecordedRequest>>,
    /// Requests seen per model, for the `…-once` faults.
    pub(crate) seen: Mutex<HashMap<String, u32>>,
    /// TCP connections accepted on the AI Gateway host (pool reuse is visible here).
    connections: std::sync::atomic::AtomicU64,
    oauth: Mutex<oauth::OAuthState>,
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) shared: Arc<Shared>,
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
            .route("/__fake/oauth", get(oauth_stats))
            .route("/__fake/oauth/{action}", axum::routing::post(oauth_control))
            .fallback(any(gateway_handler))
            .with_state(AppState { shared: shared.clone(), host: "gateway" });
        let ws_app = Router::new()
            .route("/__fake/requests", get(list_requests).delete(clear_requests))
            .fallback(any(workspace_handler))
            .with_state(AppState { shared: shared.clone(), host: "workspace" });
        let counted = shared.clone();
        let gw = axum::serve::ListenerExt::tap_io(gw, move |_| {
            counted.connections.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
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

    /// Connections accepted so far on the AI Gateway host.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Token requests the OAuth endpoint received.
    pub fn oauth_fetches(&self) -> u64 {
        self.shared.oauth.lock().map(|s| s.fetches).unwrap_or(0)
    }

    /// Upstream requests refused for an expired or revoked OAuth token.
    pub fn oauth_refused(&self) -> u64 {
        self.shared.oauth.lock().map(|s| s.refused).unwrap_or(0)
    }

    /// Every token issued so far stops working (a revoked secret, a rotated key).
    pub fn revoke_oauth_tokens(&self) {
        oauth::revoke(&self.shared.oauth);
    }

    /// The token endpoint answers 503 while down.
    pub fn set_oauth_down(&self, down: bool) {
        if let Ok(mut s) = self.shared.oauth.lock() {
            s.down = down;
        }
    }
}

async fn oauth_stats(State(s): State<AppState>) -> Json<Value> {
    let (fetches, refused) = s.shared.oauth.lock().map(|o| (o.fetches, o.refused)).unwrap_or_default();
    Json(json!({"fetches": fetches, "refused": refused}))
}

/// `POST /__fake/oauth/{revoke|down|up}`.
async fn oauth_control(
    State(s): State<AppState>,
    axum::extract::Path(action): axum::extract::Path<String>,
) -> StatusCode {
    let Ok(mut o) = s.shared.oauth.lock() else { return StatusCode::INTERNAL_SERVER_ERROR };
    match action.as_str() {
        "revoke" => {
            drop(o);
            oauth::revoke(&s.shared.oauth);
        }
        "down" => o.down = true,
        "up" => o.down = false,
        _ => return StatusCode::NOT_FOUND,
    }
    StatusCode::NO_CONTENT
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

fn check_auth(s: &AppState, headers: &HeaderMap, dialect: Dialect) -> Option<Response> {
    let opts = &s.shared.opts;
    if opts.expect_bearer.is_none() && opts.oauth.is_none() {
        return None;
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(expected) = &opts.expect_bearer {
        if header("authorization") == Some(format!("Bearer {expected}").as_str())
            || header("x-api-key") == Some(expected)
        {
            return None;
        }
    }
    if opts.oauth.is_some() && oauth::accepts(&s.shared.oauth, header("authorization")) {
        return None;
    }
    let message = match dialect {
        Dialect::Anthropic => "invalid x-api-key",
        Dialect::OpenAi => "Incorrect API key provided.",
        Dialect::Databricks => "Invalid access token.",
    };
    let mut e = ApiError::new(StatusCode::UNAUTHORIZED, message);
    if dialect == Dialect::OpenAi {
        e = e.openai_code("invalid_api_key");
    }
    Some(e.render(dialect))
}

async fn gateway_handler(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    record(&s, &method, &uri, &headers, &body);
    let path = uri.path();
    let anthropic_version = headers.contains_key("anthropic-version");
    let dialect = if path.contains("/v1/messages") || anthropic_version {
        Dialect::Anthropic
    } else if path.ends_with("/v1/responses") {
        Dialect::OpenAi
    } else {
        Dialect::Databricks
    };
    if let Some(denied) = check_auth(&s, &headers, dialect) {
        return denied;
    }
    // Databricks' Unified (MLflow) API is chat only: no Responses or legacy completions there.
    if (path.starts_with("/mlflow/") || path.starts_with("/ai-gateway/mlflow/"))
        && (path.ends_with("/v1/responses") || path.ends_with("/v1/completions"))
    {
        return databricks_error(
            StatusCode::NOT_FOUND,
            "ENDPOINT_NOT_FOUND",
            &format!("No API found for '{method} {path}'"),
        );
    }
    if method == Method::POST {
        // `…/invocations`: Databricks Model Serving's endpoint, chat-shaped for chat models.
        if path.ends_with("/chat/completions") || path.ends_with("/invocations") {
            return chat(&s, &body, path.starts_with("/mlflow/") || path.starts_with("/ai-gateway/mlflow/")).await;
        }
        if path.ends_with("/v1/messages") {
            return anthropic::messages(&s, &body).await;
        }
        if path.ends_with("/v1/messages/count_tokens") {
            return anthropic::count_tokens(&body).await;
        }
        if path.ends_with("/v1/responses") {
            return responses::create(&s, &body).await;
        }
        if path.ends_with("/v1/completions") {
            return legacy::completions(&s, &body).await;
        }
        if path.ends_with("/v1/embeddings") {
            return legacy::embeddings(&s, &body).await;
        }
    }
    if method == Method::GET && path.ends_with("/models") {
        if anthropic_version {
            return anthropic::list_models(uri.query());
        }
        return Json(json!({"object": "list", "data": OPENAI_MODELS.iter().map(openai_model).collect::<Vec<_>>()}))
            .into_response();
    }
    if let (true, Some((_, id))) = (method == Method::GET, path.rsplit_once("/v1/models/")) {
        if anthropic_version {
            return anthropic::get_model(id);
        }
        return match OPENAI_MODELS.iter().find(|m| m.0 == id) {
            Some(m) => Json(openai_model(m)).into_response(),
            None => ApiError::new(StatusCode::NOT_FOUND, format!("The model `{id}` does not exist"))
                .openai_code("model_not_found")
                .param("model")
                .render(Dialect::OpenAi),
        };
    }
    let message = format!("No API found for '{method} {path}'");
    match dialect {
        Dialect::Databricks => databricks_error(StatusCode::NOT_FOUND, "ENDPOINT_NOT_FOUND", &message),
        other => ApiError::new(StatusCode::NOT_FOUND, message).render(other),
    }
}

const OPENAI_MODELS: [(&str, u64); 2] = [("fake-llama", 1_700_000_000), ("fake-gpt", 1_700_000_001)];

fn openai_model((id, created): &(&str, u64)) -> Value {
    json!({"id": id, "object": "model", "created": created, "owned_by": "fake"})
}

#[derive(serde::Deserialize)]
struct UcQuery {
    page_token: Option<String>,
    page_size: Option<u32>,
    catalog_name: Option<String>,
    schema_name: Option<String>,
}

/// Unity Catalog `registered_models`, three pages: two models, an empty page
/// that still carries a token, then one model and no token; `catalog_name`
/// and `schema_name` narrow each page (a schema needs its catalog, as in UC).
async fn workspace_handler(
    State(s): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    q: Query<UcQuery>,
    body: Bytes,
) -> Response {
    // Unity AI Gateway: the gateway's APIs on the workspace host, under /ai-gateway.
    if uri.path().starts_with("/ai-gateway/") {
        return gateway_handler(State(s), method, uri, headers, body).await;
    }
    record(&s, &method, &uri, &headers, &body);
    if let (true, "/oidc/v1/token", Some(cfg)) = (method == Method::POST, uri.path(), &s.shared.opts.oauth) {
        return oauth::token(cfg, &s.shared.oauth, &headers, &body).await;
    }
    if let Some(denied) = check_auth(&s, &headers, Dialect::Databricks) {
        return denied;
    }
    if method == Method::GET && uri.path() == "/api/2.1/unity-catalog/model-services" {
        return model_services(&q);
    }
    if method != Method::GET || uri.path() != "/api/2.1/unity-catalog/models" {
        return databricks_error(StatusCode::NOT_FOUND, "ENDPOINT_NOT_FOUND", "No API found");
    }
    if q.schema_name.is_some() && q.catalog_name.is_none() {
        return databricks_error(
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETER_VALUE",
            "catalog_name is required when schema_name is given",
        );
    }
    let wanted = |full: &str| {
        let mut parts = full.split('.');
        let (catalog, schema) = (parts.next(), parts.next());
        q.catalog_name.as_deref().is_none_or(|c| Some(c) == catalog)
            && q.schema_name.as_deref().is_none_or(|s| Some(s) == schema)
    };
    let model = |full: &str| {
        let name = full.rsplit('.').next().unwrap_or(full);
        json!({"name": name, "full_name": full, "catalog_name": "main", "schema_name": "default",
               "owner": "dev@example.com", "created_at": 1_700_000_000_000i64})
    };
    let models = |names: &[&str]| names.iter().filter(|n| wanted(n)).map(|n| model(n)).collect::<Vec<_>>();
    let page = match q.page_token.as_deref() {
        None => {
            json!({"registered_models": models(&["main.default.llama", "main.default.mixtral"]), "next_page_token": "page-2"})
        }
        Some("page-2") => json!({"registered_models": [], "next_page_token": "page-3"}),
        Some("page-3") => json!({"registered_models": models(&["system.ai.claude"])}),
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

/// Unity AI Gateway's `model-services` list, two pages (a service repeated
/// across them); without `page_size` it fails as the real one does (HTTP 499).
fn model_services(q: &UcQuery) -> Response {
    if q.page_size.is_none() {
        let status = StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST);
        return databricks_error(status, "INVALID_PARAMETER_VALUE", "page_size is required");
    }
    let service = |name: &str| json!({"name": format!("model-services/{name}")});
    Json(match q.page_token.as_deref() {
        None => json!({"model_services": [service("system.ai.claude-sonnet-4-5"), service("system.ai.gpt-5")],
            "next_page_token": "services-2"}),
        _ => json!({"model_services": [service("system.ai.gpt-5"), service("main.default.support-bot")]}),
    })
    .into_response()
}

async fn chat(s: &AppState, body: &Bytes, mlflow: bool) -> Response {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return databricks_error(StatusCode::BAD_REQUEST, "MALFORMED_REQUEST", "Request body is not valid JSON");
    };
    // Databricks' Unified (MLflow) route rejects these OpenAI fields (protocols.md §6.3).
    if mlflow {
        let strict = req["tools"].as_array().is_some_and(|t| t.iter().any(|t| t["function"].get("strict").is_some()));
        if req.get("store").is_some() || strict {
            let field = if strict { "tools[].function.strict" } else { "store" };
            return databricks_error(
                StatusCode::BAD_REQUEST,
                "INVALID_PARAMETER_VALUE",
                &format!("Invalid request: unsupported field {field}"),
            );
        }
    }
    let model = req["model"].as_str().unwrap_or("").to_string();
    let turn = match faults::begin(s, Dialect::Databricks, &model).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let count = turn.count;
    let (text, tool_call) = match agent_script::reply(&Conversation::from_chat(&req)) {
        Reply::Text(t) => (Some(t), None),
        Reply::ToolCall { name, arguments } => (None, Some((name, arguments))),
    };
    let prompt_tokens = req["messages"]
        .as_array()
        .map(|m| m.iter().map(|m| agent_script::text_of(&m["content"]).split_whitespace().count() as u64).sum())
        .unwrap_or(0u64)
        .max(1);
    let completion_tokens = text.as_deref().map(|t| t.split_whitespace().count() as u64).unwrap_or(8);
    let mut usage = json!({"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens});
    if turn.cached {
        usage["prompt_tokens"] = json!(prompt_tokens + 100);
        usage["total_tokens"] = json!(prompt_tokens + 100 + completion_tokens);
        usage["prompt_tokens_details"] = json!({"cached_tokens": 100});
    }
    let finish = if tool_call.is_some() { "tool_calls" } else { "stop" };
    let id = format!("chatcmpl-fake{count}");
    if req["stream"] != Value::Bool(true) {
        let tool_calls = tool_call.as_ref().map(|(name, args)| json!([{"id": format!("call_fake{count}"), "type": "function", "function": {"name": name, "arguments": args}}]));
        let mut message = json!({"role": "assistant", "content": text, "refusal": null});
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
    if let Some(text) = &text {
        let words: Vec<&str> = text.split_inclusive(' ').collect();
        for w in words {
            events.push(chunk(json!({"content": w}), None));
        }
    }
    if let Some((name, args)) = &tool_call {
        events.push(chunk(json!({"tool_calls": [{"index": 0, "id": format!("call_fake{count}"), "type": "function", "function": {"name": name, "arguments": ""}}]}), None));
        let (a, b) = args.split_at(args.len() / 2);
        events.push(chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": a}}]}), None));
        events.push(chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": b}}]}), None));
    }
    events.push(chunk(json!({}), Some(finish)));
    if include_usage {
        events.push(format!("data: {}\n\n", json!({"id": id, "object": "chat.completion.chunk", "created": 1_700_000_000, "model": model, "choices": [], "usage": usage})));
    }
    events.push("data: [DONE]\n\n".to_string());
    let error = format!(
        "data: {}\n\n",
        json!({"error": {"message": "The model failed to generate a response.", "type": "server_error"}})
    );
    faults::sse_response(events, &turn, 2, error)
}
