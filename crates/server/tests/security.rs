//! The admin API is closed to other sites (CSRF, DNS rebinding), secrets in
//! URLs and environment references are guarded, errors come in the caller's
//! dialect, and wrong admin tokens are throttled.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Harness;
use serde_json::{json, Value};

fn provider(name: &str, base_url: &str) -> Value {
    json!({"name": name, "network_config": {"base_url": base_url},
        "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}})
}

async fn post(h: &Harness, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, Value) {
    let mut req = h.http.post(format!("{}{path}", h.base)).body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn provider_names(h: &Harness) -> Vec<String> {
    let list: Value = h.http.get(format!("{}/api/providers", h.base)).send().await.unwrap().json().await.unwrap();
    list.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let h = common::start_admin("{}", None).await;
    let body = provider("evil", "https://attacker.example").to_string();
    // The CORS "simple" requests a web page can send without a preflight.
    for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let (status, err) = post(&h, "/api/providers", &[("content-type", ct)], &body).await;
        assert_eq!(status, 415, "{ct}: {err}");
        assert!(err["error"]["message"].as_str().unwrap().contains("application/json"), "{err}");
    }
    let json_ct = ("content-type", "application/json");
    for origin in [
        ("origin", "https://attacker.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let (status, err) = post(&h, "/api/providers", &[json_ct, origin], &body).await;
        assert_eq!(status, 403, "{origin:?}: {err}");
        assert!(err["error"]["message"].as_str().unwrap().contains("cross-origin"), "{err}");
    }
    let (status, _) =
        post(&h, "/api/providers/any/test", &[json_ct, ("origin", "http://attacker.example")], "{}").await;
    assert_eq!(status, 403, "connection tests are refused cross-site too");
    assert!(provider_names(&h).await.is_empty(), "nothing was created");
    // The UI's own requests and non-browser clients pass.
    let own_origin = h.base.clone();
    let (status, _) =
        post(&h, "/api/providers", &[json_ct, ("origin", &own_origin), ("sec-fetch-site", "same-origin")], &body).await;
    assert_eq!(status, 201);
    let (status, _) = post(&h, "/api/providers", &[json_ct], &provider("cli", "https://h.example").to_string()).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn other_host_names_are_refused_when_the_admin_is_open() {
    let h = common::start_admin("{}", None).await;
    let port = h.base.rsplit(':').next().unwrap().to_string();
    for host in [format!("attacker.example:{port}"), "attacker.example".into(), format!("127.0.0.1.nip.io:{port}")] {
        let resp = h.http.get(format!("{}/api/providers", h.base)).header("host", &host).send().await.unwrap();
        assert_eq!(resp.status(), 403, "{host}");
        let err: Value = resp.json().await.unwrap();
        assert!(err["error"]["message"].as_str().unwrap().contains("--allowed-host"), "{err}");
        // Inference too: a rebound page must not spend the user's upstream credentials.
        let resp = h
            .http
            .post(format!("{}/anthropic/v1/messages", h.base))
            .header("host", &host)
            .json(&json!({"model": "x/y", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403);
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["type"], "error", "in the Anthropic dialect: {err}");
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}")] {
        let resp = h.http.get(format!("{}/api/providers", h.base)).header("host", &host).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{host}");
    }
}

#[tokio::test]
async fn with_a_token_any_host_is_served() {
    let h = common::start_admin("{}", Some("a-long-admin-token-1234")).await;
    let resp = h
        .http
        .get(format!("{}/api/providers", h.base))
        .header("host", "gateway.internal:8080")
        .bearer_auth("a-long-admin-token-1234")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn env_references_through_the_api_need_the_allow_list() {
    let h = common::start_admin("{}", None).await;
    let mut body = provider("leaky", "https://attacker.example");
    body["network_config"]["extra_headers"] = json!({"X-Steal": "Bearer env.DBX_TOKEN"});
    let (status, err) = post(&h, "/api/providers", &[("content-type", "application/json")], &body.to_string()).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["details"][0]["path"], "network_config.extra_headers.X-Steal");
    assert!(err["error"]["details"][0]["hint"].as_str().unwrap().contains("--api-env-allow DBX_TOKEN"), "{err}");
    // Names on the list (the harness allows OPENAI_KEY_*) pass.
    body["network_config"]["extra_headers"] = json!({"X-Key": "env.OPENAI_KEY_A"});
    let (status, err) = post(&h, "/api/providers", &[("content-type", "application/json")], &body.to_string()).await;
    assert_eq!(status, 201, "{err}");
}

#[tokio::test]
async fn credentials_in_urls_are_redacted_and_kept() {
    let h = common::start_admin("{}", None).await;
    let mut body = provider("withpw", &h.fake.url("/mlflow").replace("http://", "http://svc:pw-secret-1@"));
    body["custom_provider_config"]["request_path_overrides"] =
        json!({"list_models": h.fake.workspace_url("/api/2.1/unity-catalog/models?code=q-secret-2")});
    let (status, created) =
        post(&h, "/api/providers", &[("content-type", "application/json")], &body.to_string()).await;
    assert_eq!(status, 201, "{created}");
    let shown = h.http.get(format!("{}/api/providers/withpw", h.base)).send().await.unwrap().text().await.unwrap();
    assert!(!shown.contains("pw-secret-1") && !shown.contains("q-secret-2"), "{shown}");
    assert!(shown.contains("svc:********@") && shown.contains("code=********"), "{shown}");
    // Sent back as shown, the stored URLs are kept.
    let mut view: Value = serde_json::from_str(&shown).unwrap();
    view["network_config"]["max_retries"] = json!(0);
    let resp = h.http.put(format!("{}/api/providers/withpw", h.base)).json(&view).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp = h
        .post("/v1/chat/completions", &json!({"model": "withpw/m", "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(resp.status(), 200);
    let seen = h.fake.requests();
    let auth = seen.last().unwrap().header("authorization").unwrap_or_default().to_string();
    assert!(auth.starts_with("Basic "), "the stored userinfo still reaches the upstream: {auth:?}");
}

#[tokio::test]
async fn dot_names_are_refused() {
    let h = common::start_admin("{}", None).await;
    for name in [".", "..", "..."] {
        let (status, err) = post(
            &h,
            "/api/providers",
            &[("content-type", "application/json")],
            &provider(name, "https://h.example").to_string(),
        )
        .await;
        assert_eq!(status, 400, "{name}: {err}");
        assert!(err["error"]["details"][0]["hint"].as_str().unwrap().contains("not only dots"), "{err}");
    }
}

#[tokio::test]
async fn errors_come_in_the_dialect_of_their_prefix() {
    let h = common::start_admin("{}", None).await;
    for (method, path) in
        [("GET", "/anthropic/v1/nope"), ("GET", "/anthropic/v1/messages"), ("DELETE", "/anthropic/v1/messages")]
    {
        let resp = h.http.request(method.parse().unwrap(), format!("{}{path}", h.base)).send().await.unwrap();
        assert!(matches!(resp.status().as_u16(), 404 | 405), "{path}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["type"], "error", "{method} {path}: {err}");
        assert!(err["error"]["type"].as_str().unwrap().ends_with("_error"), "{err}");
    }
    let resp = h.http.get(format!("{}/api/nope", h.base)).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["type"], "invalid_request_error", "the admin API uses OpenAI's status table: {err}");
    let resp = h.http.get(format!("{}/api/providers/%FF%FE", h.base)).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(resp.json::<Value>().await.unwrap()["error"]["message"].is_string());
    // 413 on /api is JSON too.
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(40 << 20));
    let resp = h
        .http
        .post(format!("{}/api/providers", h.base))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert!(resp.json::<Value>().await.unwrap()["error"]["message"].as_str().unwrap().contains("too large"));
}

#[tokio::test]
async fn wrong_tokens_are_throttled_and_bearer_is_case_insensitive() {
    let token = "a-long-admin-token-1234";
    let h = common::start_admin("{}", Some(token)).await;
    let list = |auth: String| {
        let req = h.http.get(format!("{}/api/providers", h.base)).header("authorization", auth);
        async move { req.send().await.unwrap() }
    };
    assert_eq!(list(format!("bearer {token}")).await.status(), 200, "scheme is case-insensitive");
    assert_eq!(list(format!("BEARER {token}")).await.status(), 200);
    for _ in 0..5 {
        assert_eq!(list("Bearer wrong".into()).await.status(), 401);
    }
    let throttled = list(format!("Bearer {token}")).await;
    assert_eq!(throttled.status(), 429, "even the right token waits once throttled");
    assert!(throttled.headers().get("retry-after").is_some());
    let resp = h
        .http
        .post(format!("{}/login", h.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429, "the login form shares the throttle");
}

#[tokio::test]
async fn passthrough_checks_cheap_field_types() {
    let h = common::start(common::DATABRICKS_MLFLOW).await;
    let cases = [
        (
            json!({"model": "databricks-mlflow/m", "max_tokens": "ten", "messages": [{"role": "user", "content": "hi"}]}),
            "max_tokens",
        ),
        (
            json!({"model": "databricks-mlflow/m", "max_tokens": -1, "messages": [{"role": "user", "content": "hi"}]}),
            "max_tokens",
        ),
        (
            json!({"model": "databricks-mlflow/m", "messages": [{"role": "user", "content": "hi"}, {"role": 7, "content": "x"}]}),
            "messages[1].role",
        ),
    ];
    for (body, param) in cases {
        let resp = h.post("/v1/chat/completions", &body).await;
        assert_eq!(resp.status(), 400, "{body}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["param"], param, "{err}");
    }
    assert!(h.fake.requests().is_empty(), "nothing went upstream");
}

#[tokio::test]
async fn request_ids_are_kept_generated_forwarded_and_echoed() {
    let h = common::start(common::DATABRICKS_MLFLOW).await;
    let body = json!({"model": "databricks-mlflow/m", "messages": [{"role": "user", "content": "hi"}]});
    let send = |id: Option<String>| {
        let mut req = h.http.post(format!("{}/v1/chat/completions", h.base)).json(&body);
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        async move { req.send().await.unwrap() }
    };
    let resp = send(Some("client-id-42".into())).await;
    assert_eq!(resp.headers()["x-request-id"], "client-id-42");
    assert_eq!(h.fake.requests().last().unwrap().header("x-request-id"), Some("client-id-42"), "forwarded");
    for bad in [None, Some("x".repeat(129)), Some("has space".into())] {
        let resp = send(bad.clone()).await;
        let id = resp.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(uuid::Uuid::parse_str(&id).map(|u| u.get_version_num()).ok(), Some(7), "{bad:?} -> {id}");
        assert_eq!(h.fake.requests().last().unwrap().header("x-request-id"), Some(id.as_str()));
    }
    // Errors carry it too, in every dialect.
    for path in ["/v1/nope", "/anthropic/v1/nope"] {
        let resp = h.http.get(format!("{}{path}", h.base)).header("x-request-id", "err-1").send().await.unwrap();
        assert_eq!(resp.status(), 404);
        assert_eq!(resp.headers()["x-request-id"], "err-1");
    }
}
