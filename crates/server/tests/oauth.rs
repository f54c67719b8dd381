//! A Databricks service principal as a provider's credentials: the fake
//! workspace's OAuth endpoint issues short-lived tokens; Switchyard fetches one
//! for a hundred concurrent requests, refreshes it before it expires (behind
//! the requests), replaces one the upstream refuses, and reports a token
//! endpoint that fails as a clear 502 in each client dialect, never with the secret.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use serde_json::json;
use switchyard_testkit::oauth::FakeOAuth;
use switchyard_testkit::FakeOptions;

fn sp(ttl: Duration) -> FakeOptions {
    FakeOptions {
        oauth: Some(FakeOAuth { client_id: "sp-app-1".into(), client_secret: "sp-secret-1".into(), token_ttl: ttl }),
        ..FakeOptions::default()
    }
}

fn provider(secret: &str, client_auth: &str) -> String {
    format!(
        r#"{{"dbx": {{
      "network_config": {{"base_url": "{{gw}}/mlflow", "max_retries": 0,
        "oauth": {{"token_url": "{{ws}}/oidc/v1/token", "client_id": "sp-app-1", "client_secret": "{secret}",
                   "scope": "all-apis", "client_auth": "{client_auth}"}}}},
      "custom_provider_config": {{"base_provider_type": "openai", "is_key_less": true,
        "request_path_overrides": {{"list_models": "{{ws}}/api/2.1/unity-catalog/models"}}}}}}}}"#
    )
}

fn chat() -> serde_json::Value {
    json!({"model": "dbx/databricks-claude", "messages": [{"role": "user", "content": "hi"}]})
}

fn token_requests(h: &common::Harness) -> Vec<switchyard_testkit::RecordedRequest> {
    h.fake.requests().into_iter().filter(|r| r.path == "/oidc/v1/token").collect()
}

#[tokio::test]
async fn one_token_fetch_serves_a_hundred_concurrent_requests_and_the_next_ones() {
    let h = common::start_with(&provider("env.DBX_CLIENT_SECRET", "basic"), sp(Duration::from_secs(3600)), None).await;
    let body = chat();
    let sends: Vec<_> = (0..100).map(|_| h.post("/v1/chat/completions", &body)).collect();
    for resp in futures::future::join_all(sends).await {
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(h.fake.oauth_fetches(), 1, "one token request however many wait");
    for _ in 0..5 {
        assert_eq!(h.post("/v1/chat/completions", &chat()).await.status(), 200);
    }
    assert_eq!(h.fake.oauth_fetches(), 1, "the cached token is reused");
    let chats = h.chat_requests();
    assert_eq!(chats.len(), 105);
    assert!(chats.iter().all(|r| r.header("authorization") == Some("Bearer fake-sp-token-1")));

    let t = &token_requests(&h)[0];
    assert_eq!(t.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert!(t.header("authorization").is_some_and(|a| a.starts_with("Basic ")), "Databricks' form: HTTP Basic");
    let body = t.body.as_str().unwrap();
    assert!(body.contains("grant_type=client_credentials") && body.contains("scope=all-apis"), "{body}");
    assert!(!body.contains("sp-secret-1"), "with Basic, the secret is not in the body");

    // The workspace's model list takes the same token.
    let (status, models) = common::json(h.get("/v1/models").await).await;
    assert_eq!(status, 200, "{models}");
    assert!(models["data"].as_array().unwrap().iter().any(|m| m["id"] == "dbx/main.default.llama"), "{models}");
    assert_eq!(h.fake.oauth_fetches(), 1);
}

#[tokio::test]
async fn the_token_is_refreshed_before_it_expires_behind_the_requests() {
    let h = common::start_with(&provider("env.DBX_CLIENT_SECRET", "basic"), sp(Duration::from_secs(2)), None).await;
    assert_eq!(h.post("/v1/chat/completions", &chat()).await.status(), 200);
    // Past four fifths of its life: this request still uses it and starts a refresh.
    tokio::time::sleep(Duration::from_millis(1_750)).await;
    assert_eq!(h.post("/v1/chat/completions", &chat()).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(h.fake.oauth_fetches(), 2, "refreshed once, ahead of the expiry");
    // The first token has expired by now; the request carries the new one.
    assert_eq!(h.post("/v1/chat/completions", &chat()).await.status(), 200);
    let last = h.chat_requests().pop().unwrap();
    assert_eq!(last.header("authorization"), Some("Bearer fake-sp-token-2"));
    assert_eq!(h.fake.oauth_refused(), 0, "no request ever carried an expired token");
}

#[tokio::test]
async fn a_token_the_upstream_refuses_is_replaced_once_and_the_request_retried() {
    let h = common::start_with(&provider("env.DBX_CLIENT_SECRET", "body"), sp(Duration::from_secs(3600)), None).await;
    assert_eq!(h.post("/v1/chat/completions", &chat()).await.status(), 200);
    h.fake.revoke_oauth_tokens();
    let resp = h.post("/v1/chat/completions", &chat()).await;
    assert_eq!(resp.status(), 200, "a new token, the same request");
    assert_eq!((h.fake.oauth_fetches(), h.fake.oauth_refused()), (2, 1));
    let body = token_requests(&h)[1].body.as_str().unwrap().to_string();
    assert!(body.contains("client_id=sp-app-1") && body.contains("client_secret=sp-secret-1"), "body form: {body}");
    assert!(token_requests(&h)[1].header("authorization").is_none());
}

#[tokio::test]
async fn a_failing_token_endpoint_is_a_clear_502_in_each_dialect_without_the_secret() {
    let h = common::start_with(&provider("wrong-secret-xyz", "basic"), sp(Duration::from_secs(3600)), None).await;
    let (status, body) = common::json(h.post("/v1/chat/completions", &chat()).await).await;
    assert_eq!(status, 502, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("\"dbx\"") && message.contains("invalid_client: Client authentication failed"),
        "{message}"
    );
    assert!(message.contains("/oidc/v1/token"), "names the token endpoint: {message}");
    assert_eq!(body["error"]["code"], "upstream_auth_failed");
    assert!(!body.to_string().contains("wrong-secret-xyz"));

    let anthropic =
        json!({"model": "dbx/databricks-claude", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]});
    let (status, body) = common::json(h.post("/anthropic/v1/messages", &anthropic).await).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["type"], "error");
    assert!(body["error"]["message"].as_str().unwrap().contains("invalid_client"), "{body}");
    assert!(h.chat_requests().is_empty(), "nothing reached the upstream without a token");

    // An identity provider that is down: the same answer shape, its status named.
    let h = common::start_with(&provider("env.DBX_CLIENT_SECRET", "basic"), sp(Duration::from_secs(3600)), None).await;
    h.fake.set_oauth_down(true);
    let (status, body) = common::json(h.post("/v1/chat/completions", &chat()).await).await;
    assert_eq!(status, 502);
    assert!(body["error"]["message"].as_str().unwrap().contains("HTTP 503"), "{body}");
    // Requests right after share that failure instead of asking again each.
    let one = chat();
    let burst: Vec<_> = (0..20).map(|_| h.post("/v1/chat/completions", &one)).collect();
    futures::future::join_all(burst).await;
    assert!(h.fake.oauth_fetches() <= 3, "a down identity provider is not hammered: {}", h.fake.oauth_fetches());
    h.fake.set_oauth_down(false);
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(h.post("/v1/chat/completions", &chat()).await.status(), 200, "recovers by itself");
}

/// Test connection fetches the token first and names the step that failed;
/// the stored provider shows its client secret masked.
#[tokio::test]
async fn test_connection_checks_the_token_first_and_says_which_step_failed() {
    use reqwest::Method;
    let fake = switchyard_testkit::FakeUpstream::start_with(sp(Duration::from_secs(3600))).await.unwrap();
    let file = format!(r#"{{"providers": {}}}"#, provider("env.DBX_CLIENT_SECRET", "basic"));
    let h = common::start_admin_on(fake, &file, None, None, switchyard_server::ConnLimits::default()).await;
    let (status, r) = common::api(&h, Method::POST, "/api/providers/dbx/test", Some(json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(
        (r["ok"].as_bool(), r["kind"].as_str(), r["count"].as_u64()),
        (Some(true), Some("list_models"), Some(3)),
        "{r}"
    );
    assert_eq!(r["token"]["ok"], true, "{r}");
    assert!(r["token"]["expires_in_s"].as_u64().unwrap() > 3_500);

    // The same service principal with a wrong secret, added through the API.
    let mut bad: serde_json::Value = serde_json::from_str(
        &provider("wrong-secret-xyz", "basic")
            .replace("{gw}", &h.fake.url(""))
            .replace("{ws}", &h.fake.workspace_url("")),
    )
    .unwrap();
    let mut bad = bad["dbx"].take();
    bad["name"] = json!("dbx-bad");
    let (status, created) = common::api(&h, Method::POST, "/api/providers", Some(bad)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["network_config"]["oauth"]["client_secret"], "********", "never returned in clear: {created}");
    let (_, shown) = common::api(&h, Method::GET, "/api/providers/dbx-bad", None).await;
    assert!(!shown.to_string().contains("wrong-secret-xyz"), "{shown}");
    let (_, r) = common::api(&h, Method::POST, "/api/providers/dbx-bad/test", Some(json!({}))).await;
    assert_eq!((r["ok"].as_bool(), r["step"].as_str()), (Some(false), Some("token")), "{r}");
    assert!(r["error"].as_str().unwrap().contains("invalid_client: Client authentication failed"), "{r}");
    assert!(!r.to_string().contains("wrong-secret-xyz"));

    // A token, but the upstream step fails: that step is named.
    let (_, r) = common::api(&h, Method::POST, "/api/providers/dbx/test", Some(json!({"model": "error-400"}))).await;
    assert_eq!(
        (r["ok"].as_bool(), r["step"].as_str(), r["token"]["ok"].as_bool()),
        (Some(false), Some("chat"), Some(true)),
        "{r}"
    );
}

/// A provider that is not keyless authenticates with its token alone: no key is asked for.
#[tokio::test]
async fn a_keyed_provider_kind_with_oauth_needs_no_key() {
    let keyed = provider("env.DBX_CLIENT_SECRET", "basic").replace(r#""is_key_less": true"#, r#""is_key_less": false"#);
    assert!(keyed.contains(r#""is_key_less": false"#));
    let h = common::start_with(&keyed, sp(Duration::from_secs(3600)), None).await;
    let (status, body) = common::json(h.post("/v1/chat/completions", &chat()).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(h.chat_requests()[0].header("authorization"), Some("Bearer fake-sp-token-1"));
}
