//! Governance end to end over HTTP: virtual keys through `/api/keys`, limits
//! answered in each dialect with the headers SDKs read, reserve-then-settle,
//! budgets, revocation, rotation, and counters that survive a restart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{api, start_governed, Harness};
use serde_json::{json, Value};
use switchyard_testkit::FakeUpstream;

const FILE: &str = r#"{"providers": {"db": {"network_config": {"base_url": "{gw}/mlflow"},
    "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}},
  "flaky": {"network_config": {"base_url": "{gw}/mlflow", "max_retries": 0},
    "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}},
  "dba": {"network_config": {"base_url": "{gw}/anthropic"},
    "custom_provider_config": {"base_provider_type": "anthropic", "is_key_less": true}}},
  "governance": {"prices": {"db/*": {"input": 1.0, "output": 3.0}}}}"#;

async fn governed(file: &str) -> Harness {
    start_governed(FakeUpstream::start().await.unwrap(), file, None).await
}

async fn create_key(h: &Harness, body: Value) -> (String, String) {
    let (status, created) = api(h, reqwest::Method::POST, "/api/keys", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    (created["id"].as_str().unwrap().to_string(), created["key"].as_str().unwrap().to_string())
}

fn chat_body(model: &str, max_tokens: Option<u64>) -> Value {
    let mut b = json!({"model": model, "messages": [{"role": "user", "content": "one two three"}]});
    if let Some(m) = max_tokens {
        b["max_tokens"] = json!(m);
    }
    b
}

async fn chat(h: &Harness, key: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = h.http.post(format!("{}/v1/chat/completions", h.base)).json(body);
    if let Some(k) = key {
        req = req.bearer_auth(k);
    }
    req.send().await.unwrap()
}

async fn messages(h: &Harness, key: &str, model: &str) -> reqwest::Response {
    let body = json!({"model": model, "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]});
    h.http.post(format!("{}/anthropic/v1/messages", h.base)).header("x-api-key", key).json(&body).send().await.unwrap()
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn a_key_is_shown_once_and_its_rate_limit_answers_in_each_dialect() {
    let h = governed(FILE).await;
    let (id, key) = create_key(
        &h,
        json!({"name": "ci", "models": ["db/*", "dba/*"],
        "rate_limit": {"requests_per_minute": 2}}),
    )
    .await;
    assert!(key.starts_with(&format!("sk-sy-{id}-")));

    let (_, listed) = api(&h, reqwest::Method::GET, "/api/keys", None).await;
    assert!(!listed.to_string().contains(&key[18..]), "the secret is never shown again");
    assert!(!listed.to_string().contains("hash"), "nor its hash");
    assert_eq!(listed["data"][0]["rate_limit"]["requests_per_minute"], 2);

    let ok = chat(&h, Some(&key), &chat_body("db/m", None)).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(header(&ok, "x-ratelimit-limit-requests"), Some("2"));
    assert_eq!(header(&ok, "x-ratelimit-remaining-requests"), Some("1"));
    let sent = h.chat_requests().pop().unwrap();
    assert!(sent.header("authorization").is_none(), "the virtual key never goes upstream");

    let ok = messages(&h, &key, "dba/claude").await;
    assert_eq!(ok.status(), 200);
    assert_eq!(header(&ok, "anthropic-ratelimit-requests-remaining"), Some("0"));

    let refused = chat(&h, Some(&key), &chat_body("db/m", None)).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(header(&refused, "retry-after"), Some("30"));
    assert_eq!(header(&refused, "x-switchyard-limit"), Some(format!("key-{id}; source=local").as_str()));
    assert_eq!(header(&refused, "x-ratelimit-remaining-requests"), Some("0"));
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded", "{body}");
    assert_eq!(body["error"]["type"], "rate_limit_error");

    let refused = messages(&h, &key, "dba/claude").await;
    assert_eq!(refused.status(), 429);
    assert!(header(&refused, "anthropic-ratelimit-requests-reset").is_some());
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "rate_limit_error", "{body}");
    assert_eq!(h.chat_requests().len(), 1, "refused requests never reach the upstream");
}

#[tokio::test]
async fn unknown_revoked_and_wrong_model_keys_are_refused_in_the_callers_dialect() {
    let h = governed(FILE).await;
    let (id, key) = create_key(&h, json!({"name": "narrow", "models": ["db/llama*"]})).await;

    let r = chat(&h, Some("sk-sy-aaaaaaaaaaaa-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), &chat_body("db/llama", None)).await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_api_key");

    let r = chat(&h, Some(&key), &chat_body("db/mixtral", None)).await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "model_not_allowed");
    assert!(body["error"]["message"].as_str().unwrap().contains(&id));
    assert_eq!(chat(&h, Some(&key), &chat_body("db/llama-3", None)).await.status(), 200);
    assert_eq!(chat(&h, None, &chat_body("db/llama-3", None)).await.status(), 200, "keys are optional by default");

    let (status, revoked) = api(&h, reqwest::Method::POST, &format!("/api/keys/{id}/revoke"), None).await;
    assert_eq!((status, revoked["status"].as_str()), (200, Some("revoked")));
    let r = messages(&h, &key, "dba/claude").await;
    assert_eq!(r.status(), 401, "revocation is immediate");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "authentication_error");
    assert!(body["error"]["message"].as_str().unwrap().contains("revoked"));
}

#[tokio::test]
async fn require_virtual_key_refuses_requests_without_one() {
    let file = FILE.replace(r#""governance": {"#, r#""governance": {"require_virtual_key": true, "#);
    let h = governed(&file).await;
    let r = chat(&h, None, &chat_body("db/m", None)).await;
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "missing_api_key");
    assert_eq!(chat(&h, Some("sk-someone-elses"), &chat_body("db/m", None)).await.status(), 401);
    let (_, key) = create_key(&h, json!({"name": "ok"})).await;
    assert_eq!(chat(&h, Some(&key), &chat_body("db/m", None)).await.status(), 200);
    // The admin's Test connection is not a client: it needs no key.
    let (status, tested) = api(&h, reqwest::Method::POST, "/api/providers/db/test", Some(json!({"model": "m"}))).await;
    assert_eq!((status, tested["ok"].as_bool()), (200, Some(true)), "{tested}");
}

#[tokio::test]
async fn rotation_keeps_the_id_and_the_old_secret_for_its_grace_period() {
    let h = governed(FILE).await;
    let (id, old) = create_key(&h, json!({"name": "rotating"})).await;
    let (status, rotated) =
        api(&h, reqwest::Method::POST, &format!("/api/keys/{id}/rotate"), Some(json!({"grace_secs": 3600}))).await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["key"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(rotated["id"], id.as_str());
    assert!(rotated["previous_secret_valid_until"].is_string());
    assert_eq!(chat(&h, Some(&new), &chat_body("db/m", None)).await.status(), 200);
    assert_eq!(chat(&h, Some(&old), &chat_body("db/m", None)).await.status(), 200, "in its grace period");
    let (_, again) =
        api(&h, reqwest::Method::POST, &format!("/api/keys/{id}/rotate"), Some(json!({"grace_secs": 0}))).await;
    let newest = again["key"].as_str().unwrap();
    assert_eq!(chat(&h, Some(&new), &chat_body("db/m", None)).await.status(), 401, "no grace asked");
    assert_eq!(chat(&h, Some(newest), &chat_body("db/m", None)).await.status(), 200);
}

#[tokio::test]
async fn bad_governance_input_names_the_field() {
    let h = governed(FILE).await;
    let (status, body) = api(&h, reqwest::Method::POST, "/api/keys", Some(json!({"name": "x", "team": "nope"}))).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"][0]["path"], "team", "{body}");
    let (status, body) = api(&h, reqwest::Method::POST, "/api/keys",
        Some(json!({"name": "x", "rate_limit": {"requests_per_minute": 0}, "budget": {"max_usd": -5, "period": "month"}}))).await;
    assert_eq!(status, 400);
    let paths: Vec<&str> =
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["rate_limit.requests_per_minute", "budget.max_usd"], "{body}");
    let (status, body) = api(
        &h,
        reqwest::Method::POST,
        "/api/policies",
        Some(json!({"scope": "global", "limits": [{"metric": "requests", "per": "fortnight", "amount": 1}]})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["details"][0]["path"], "limits[0].per", "{body}");
    let (status, _) = api(
        &h,
        reqwest::Method::POST,
        "/api/policies",
        Some(json!({"scope": "global", "limits": [{"metric": "requests", "per": "minute", "amount": 5}]})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, body) = api(
        &h,
        reqwest::Method::POST,
        "/api/policies",
        Some(json!({"scope": "global", "limits": [{"metric": "requests", "per": "hour", "amount": 5}]})),
    )
    .await;
    assert_eq!(status, 400, "duplicate scope");
    assert!(body["error"]["message"].as_str().unwrap().contains("already has scope global"), "{body}");
    let (status, body) =
        api(&h, reqwest::Method::POST, "/api/keys", Some(json!({"name": "x", "expires_at": "soon"}))).await;
    assert_eq!((status, body["error"]["details"][0]["path"].as_str()), (400, Some("expires_at")));
}

async fn state(h: &Harness, policy: &str) -> Value {
    let (status, s) = api(h, reqwest::Method::GET, &format!("/api/policies/{policy}/state"), None).await;
    assert_eq!(status, 200, "{s}");
    s
}

fn counter<'a>(state: &'a Value, slot: &str) -> &'a Value {
    state["counters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slot"] == slot)
        .unwrap_or_else(|| panic!("{slot} in {state}"))
}

#[tokio::test]
async fn tokens_are_reserved_up_front_and_refunded_to_what_was_used() {
    let h = governed(FILE).await;
    let (id, key) = create_key(&h, json!({"name": "tpm", "rate_limit": {"tokens_per_minute": 3000}})).await;
    // Each reserves its input estimate plus max_tokens = 1000.
    let body = chat_body("db/m", Some(1000));
    let held: Vec<_> = futures::future::join_all((0..2).map(|_| chat(&h, Some(&key), &body))).await;
    assert!(held.iter().all(|r| r.status() == 200));
    // The fake upstream used a handful of tokens each: the rest came back.
    let s = state(&h, &format!("key-{id}")).await;
    let used = counter(&s, "total_tokens.minute")["used"].as_f64().unwrap();
    assert!(used > 0.0 && used < 100.0, "settled to the reported usage, not the 2,000 reserved: {s}");
    // A request larger than the limit can ever allow is told so.
    let r = chat(&h, Some(&key), &chat_body("db/m", Some(5000))).await;
    assert_eq!(r.status(), 429);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("lower max_tokens"), "{body}");
    assert!(r_retry_absent(&h, &key).await);
}

async fn r_retry_absent(h: &Harness, key: &str) -> bool {
    let r = chat(h, Some(key), &chat_body("db/m", Some(5000))).await;
    r.headers().get("retry-after").is_none()
}

#[tokio::test]
async fn a_thousand_concurrent_requests_against_a_hundred_admit_exactly_a_hundred() {
    let h = governed(FILE).await;
    // Per day: the counter earns one request back every 864 s, none while the burst runs.
    let (_, key) = create_key(&h, json!({"name": "burst", "rate_limit": {"requests_per_day": 100}})).await;
    let body = chat_body("db/m", None);
    let results = futures::future::join_all((0..1000).map(|_| chat(&h, Some(&key), &body))).await;
    let ok = results.iter().filter(|r| r.status() == 200).count();
    let limited = results.iter().filter(|r| r.status() == 429).count();
    assert_eq!((ok, limited), (100, 900));
    assert_eq!(h.chat_requests().len(), 100);
}

#[tokio::test]
async fn a_budget_blocks_at_admission_and_only_a_reset_zeroes_it() {
    let h = governed(FILE).await;
    // $1 in / $3 out per million; 1000 max_tokens reserve ≈ $0.003.
    let (id, key) = create_key(&h, json!({"name": "capped", "budget": {"max_usd": 0.005, "period": "month"}})).await;
    assert_eq!(chat(&h, Some(&key), &chat_body("db/m", Some(1000))).await.status(), 200);
    // Spent is tiny, but the next reservation is weighed in full.
    assert_eq!(chat(&h, Some(&key), &chat_body("db/m", Some(1000))).await.status(), 200);
    let r = chat(&h, Some(&key), &chat_body("db/m", Some(2000))).await;
    assert_eq!(r.status(), 429, "$0.006 reserved does not fit");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "insufficient_quota");
    assert_eq!(body["error"]["type"], "insufficient_quota");
    let policy = format!("key-{id}");
    let spent = counter(&state(&h, &policy).await, "budget")["used"].as_f64().unwrap();
    assert!(spent > 0.0);
    // Editing the budget keeps what was spent.
    let (status, _) = api(
        &h,
        reqwest::Method::PUT,
        &format!("/api/keys/{id}"),
        Some(json!({"budget": {"max_usd": 1.0, "period": "month"}})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(counter(&state(&h, &policy).await, "budget")["used"].as_f64().unwrap(), spent);
    let (status, after) = api(&h, reqwest::Method::POST, &format!("/api/policies/{policy}/reset"), None).await;
    assert_eq!(status, 200);
    assert_eq!(counter(&after, "budget")["used"], 0.0);
}

#[tokio::test]
async fn an_unpriced_model_under_a_usd_budget_is_refused_never_free() {
    let h = governed(FILE).await;
    let (_, key) = create_key(&h, json!({"name": "usd", "budget": {"max_usd": 10, "period": "day"}})).await;
    let r = messages(&h, &key, "dba/claude").await;
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("has no price"), "{body}");
    let (status, _) =
        api(&h, reqwest::Method::POST, "/api/prices", Some(json!({"model": "dba/*", "input": 3, "output": 15}))).await;
    assert_eq!(status, 200);
    assert_eq!(messages(&h, &key, "dba/claude").await.status(), 200);
}

#[tokio::test]
async fn counters_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchyard.db");
    let fake = FakeUpstream::start().await.unwrap();
    let h = start_governed(fake, FILE, Some(&db)).await;
    let (id, key) = create_key(&h, json!({"name": "persist", "rate_limit": {"requests_per_day": 2}})).await;
    assert_eq!(chat(&h, Some(&key), &chat_body("db/m", None)).await.status(), 200);
    assert_eq!(chat(&h, Some(&key), &chat_body("db/m", None)).await.status(), 200);
    h.governance.as_ref().unwrap().checkpoint().await.unwrap();
    drop(h);
    let again = start_governed(FakeUpstream::start().await.unwrap(), FILE, Some(&db)).await;
    let r = chat(&again, Some(&key), &chat_body("db/m", None)).await;
    assert_eq!(r.status(), 429, "a restart does not reset the day's window");
    assert_eq!(counter(&state(&again, &format!("key-{id}")).await, "requests.day")["remaining"], 0.0);
}

#[tokio::test]
async fn an_upstream_429_is_told_apart_from_a_local_one() {
    let h = governed(FILE).await;
    let r = chat(&h, None, &chat_body("flaky/fault-429-once", None)).await;
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "x-switchyard-limit"), Some("upstream; source=upstream"));
}

#[tokio::test]
async fn a_client_that_leaves_mid_stream_is_settled_with_the_usage_read_on_after_it() {
    let h = governed(FILE).await;
    // Per day: the counter gives back barely a token a second, so what it holds is what was charged.
    let (id, key) = create_key(&h, json!({"name": "leaver", "rate_limit": {"tokens_per_day": 100000}})).await;
    let mut body = chat_body("db/slow", Some(2000));
    body["stream"] = json!(true);
    let mut resp = chat(&h, Some(&key), &body).await;
    assert_eq!(resp.status(), 200);
    assert!(resp.chunk().await.unwrap().is_some(), "the first event arrived");
    drop(resp);
    let policy = format!("key-{id}");
    // The reservation was 2,000 + input; the upstream reports a handful of tokens once it ends.
    let mut used = f64::MAX;
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        used = counter(&state(&h, &policy).await, "total_tokens.day")["used"].as_f64().unwrap();
        if used < 100.0 {
            break;
        }
    }
    assert!(used > 0.0 && used < 100.0, "settled with the drained usage, not the reservation: {used}");
}

#[tokio::test]
async fn every_governance_endpoint_is_in_the_openapi_document() {
    let h = governed(FILE).await;
    let (_, spec) = api(&h, reqwest::Method::GET, "/api/openapi.json", None).await;
    let served = [
        ("/api/governance", "get"),
        ("/api/keys", "get"),
        ("/api/keys", "post"),
        ("/api/keys/{id}", "get"),
        ("/api/keys/{id}", "put"),
        ("/api/keys/{id}", "patch"),
        ("/api/keys/{id}", "delete"),
        ("/api/keys/{id}/rotate", "post"),
        ("/api/keys/{id}/revoke", "post"),
        ("/api/teams", "get"),
        ("/api/teams", "post"),
        ("/api/teams/{name}", "get"),
        ("/api/teams/{name}", "put"),
        ("/api/teams/{name}", "patch"),
        ("/api/teams/{name}", "delete"),
        ("/api/policies", "get"),
        ("/api/policies", "post"),
        ("/api/policies/{id}", "get"),
        ("/api/policies/{id}", "put"),
        ("/api/policies/{id}", "delete"),
        ("/api/policies/{id}/reset", "post"),
        ("/api/policies/{id}/state", "get"),
        ("/api/prices", "get"),
        ("/api/prices", "post"),
        ("/api/prices", "delete"),
    ];
    for (path, method) in served {
        assert!(spec["paths"][path][method].is_object(), "{method} {path} is not documented");
        // And really served: anything but the router's own 404/405.
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let concrete = path.replace("{id}", "nope").replace("{name}", "nope");
        let (status, body) = api(&h, m, &concrete, Some(json!({}))).await;
        assert_ne!(status, 405, "{method} {path}: {body}");
        assert!(
            status != 404 || body["error"]["message"].as_str().unwrap_or("").contains("not found"),
            "{method} {path}: {body}"
        );
    }
    assert!(spec["components"]["schemas"]["NewKey"].is_object());
}
