//! Budgets and policies end to end: alert webhooks fire once per threshold
//! (and their URLs never come back in clear), shadow policies count without
//! refusing, and a stream that uses less than it reserved gives the rest back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::{Json, Router};
use common::{api, start_governed, Harness};
use serde_json::{json, Value};
use switchyard_testkit::FakeUpstream;

const FILE: &str = r#"{"providers": {"db": {"network_config": {"base_url": "{gw}/mlflow"},
    "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}}}}"#;

async fn chat(h: &Harness, key: &str, body: Value) -> reqwest::Response {
    h.http.post(format!("{}/v1/chat/completions", h.base)).bearer_auth(key).json(&body).send().await.unwrap()
}

fn ask(max_tokens: u64) -> Value {
    json!({"model": "db/m", "max_tokens": max_tokens, "messages": [{"role": "user", "content": "one two three"}]})
}

/// A webhook receiver on loopback: what it was sent.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let store = seen.clone();
    let app = Router::new().route(
        "/hooks/T000/B000/secret-part",
        post(move |Json(v): Json<Value>| {
            let store = store.clone();
            async move {
                store.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/T000/B000/secret-part", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn a_budget_alerts_once_per_threshold_and_never_shows_its_webhook() {
    let h = start_governed(FakeUpstream::start().await.unwrap(), FILE, None).await;
    let (url, seen) = receiver().await;
    let (status, created) = api(
        &h,
        reqwest::Method::POST,
        "/api/keys",
        Some(json!({"name": "alerted",
        "budget": {"max_tokens": 60, "period": "day", "alert_at": [0.5, 1.0], "webhook": url}})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (id, key) = (created["id"].as_str().unwrap().to_string(), created["key"].as_str().unwrap().to_string());
    assert!(!created.to_string().contains("secret-part"), "the webhook's path is a secret: {created}");

    // Each request reserves ~31 tokens (its estimated input plus max_tokens 10) and uses ~11:
    // three fit (33 spent, past half of 60), the fourth's reservation does not.
    let mut admitted = 0;
    for _ in 0..6 {
        if chat(&h, &key, ask(10)).await.status() == 200 {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 3);
    for _ in 0..100 {
        if !seen.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // A second alert, if there were one, would follow the first at once.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let alerts = seen.lock().unwrap().clone();
    let thresholds: Vec<f64> = alerts.iter().map(|a| a["threshold"].as_f64().unwrap()).collect();
    assert_eq!(thresholds, [0.5], "once, for the one threshold passed: {alerts:?}");
    let a = &alerts[0];
    assert_eq!(a["type"], "budget.threshold");
    assert_eq!(a["policy"]["id"], format!("key-{id}"));
    assert_eq!(a["unit"], "tokens");
    assert_eq!(a["max"], 60.0);

    // Sent back as shown, the webhook keeps its real URL: the next threshold still reaches it.
    // Alert-only from now on, so spend can pass the whole budget.
    let (_, view) = api(&h, reqwest::Method::GET, &format!("/api/keys/{id}"), None).await;
    let mut budget = view["budget"].clone();
    assert!(budget["webhook"].as_str().unwrap().ends_with("/********"), "{budget}");
    budget["on_exceed"] = json!("alert");
    let (status, _) = api(&h, reqwest::Method::PUT, &format!("/api/keys/{id}"), Some(json!({"budget": budget}))).await;
    assert_eq!(status, 200);
    for _ in 0..3 {
        assert_eq!(chat(&h, &key, ask(10)).await.status(), 200, "an alert-only budget never refuses");
    }
    for _ in 0..100 {
        if seen.lock().unwrap().len() > 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let thresholds: Vec<f64> = seen.lock().unwrap().iter().map(|a| a["threshold"].as_f64().unwrap()).collect();
    assert_eq!(thresholds, [0.5, 1.0]);
}

#[tokio::test]
async fn a_shadow_policy_counts_without_refusing() {
    let h = start_governed(FakeUpstream::start().await.unwrap(), FILE, None).await;
    let (_, created) = api(&h, reqwest::Method::POST, "/api/keys", Some(json!({"name": "k"}))).await;
    let key = created["key"].as_str().unwrap().to_string();
    let (status, p) = api(
        &h,
        reqwest::Method::POST,
        "/api/policies",
        Some(json!({"name": "trial cap", "scope": "global",
        "mode": "shadow", "limits": [{"metric": "requests", "per": "day", "amount": 2}]})),
    )
    .await;
    assert_eq!(status, 201, "{p}");
    for _ in 0..4 {
        assert_eq!(chat(&h, &key, ask(10)).await.status(), 200, "shadow never refuses");
    }
    let (_, state) =
        api(&h, reqwest::Method::GET, &format!("/api/policies/{}/state", p["id"].as_str().unwrap()), None).await;
    assert_eq!(state["counters"][0]["remaining"], 0.0, "but it counted: {state}");
    // Switched to enforce, the same counter refuses at once.
    let mut body = p.clone();
    body["mode"] = json!("enforce");
    let (status, _) =
        api(&h, reqwest::Method::PUT, &format!("/api/policies/{}", p["id"].as_str().unwrap()), Some(body)).await;
    assert_eq!(status, 200);
    assert_eq!(chat(&h, &key, ask(10)).await.status(), 429);
}

#[tokio::test]
async fn a_stream_that_uses_less_than_it_reserved_gives_the_rest_back() {
    let h = start_governed(FakeUpstream::start().await.unwrap(), FILE, None).await;
    let (_, created) = api(
        &h,
        reqwest::Method::POST,
        "/api/keys",
        Some(json!({"name": "s", "rate_limit": {"tokens_per_day": 100000}})),
    )
    .await;
    let (id, key) = (created["id"].as_str().unwrap().to_string(), created["key"].as_str().unwrap().to_string());
    let mut body = ask(5000);
    body["stream"] = json!(true);
    let resp = chat(&h, &key, body).await;
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    assert!(text.contains("[DONE]"));
    assert!(!text.contains("\"usage\""), "usage Switchyard asked for is not shown to a client that did not: {text}");
    let (_, state) = api(&h, reqwest::Method::GET, &format!("/api/policies/key-{id}/state"), None).await;
    let used = state["counters"][0]["used"].as_f64().unwrap();
    assert!(used > 0.0 && used < 100.0, "settled to the stream's reported usage, not 5,000: {state}");
}
