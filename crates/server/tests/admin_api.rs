//! The management API end to end: CRUD, validation with field paths, secret
//! redaction and kept secrets, file-managed precedence, changes applied
//! without restart, and admin access control.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{api as send, json, start_admin, Harness};
use serde_json::{json, Value};

const FILE: &str = r#"{"from-file": {"network_config": {"base_url": "{gw}/mlflow"},
    "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}}}"#;

fn mlflow(h: &Harness, header: &str) -> Value {
    json!({
        "name": "databricks-mlflow",
        "network_config": {"base_url": h.fake.url("/mlflow"), "extra_headers": {"Authorization": header, "X-Trace": "on"}},
        "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true,
            "allowed_requests": {"list_models": true, "chat_completion": true, "chat_completion_stream": true},
            "request_path_overrides": {"list_models": h.fake.workspace_url("/api/2.1/unity-catalog/models")}}
    })
}

async fn chat(h: &Harness, model: &str) -> u16 {
    let (status, _) = json(
        h.post("/v1/chat/completions", &json!({"model": model, "messages": [{"role": "user", "content": "x"}]})).await,
    )
    .await;
    status
}

#[tokio::test]
async fn create_list_get_update_delete_with_immediate_effect() {
    let h = start_admin(FILE, None).await;
    assert_eq!(chat(&h, "databricks-mlflow/m").await, 404, "not there yet");

    let (status, created) =
        send(&h, reqwest::Method::POST, "/api/providers", Some(mlflow(&h, "Bearer dapi-secret-1"))).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["name"], "databricks-mlflow");
    assert_eq!(created["source"], "api");
    assert_eq!(created["network_config"]["extra_headers"]["Authorization"], "Bearer ********");

    assert_eq!(chat(&h, "databricks-mlflow/m").await, 200, "applies at once, no restart");
    let sent = h.chat_requests();
    assert_eq!(sent.last().unwrap().header("authorization"), Some("Bearer dapi-secret-1"));

    let (status, list) = send(&h, reqwest::Method::GET, "/api/providers", None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["databricks-mlflow", "from-file"]);
    assert!(!list.to_string().contains("dapi-secret-1"), "secrets never returned in clear");

    let (status, mut got) = send(&h, reqwest::Method::GET, "/api/providers/databricks-mlflow", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        got["custom_provider_config"]["request_path_overrides"]["list_models"],
        json!(h.fake.workspace_url("/api/2.1/unity-catalog/models"))
    );

    // PUT back what GET returned, with one change: the redacted secret is kept.
    got["network_config"]["extra_headers"]["X-Trace"] = json!("off");
    let (status, updated) = send(&h, reqwest::Method::PUT, "/api/providers/databricks-mlflow", Some(got.clone())).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(chat(&h, "databricks-mlflow/m").await, 200);
    let last = h.chat_requests().pop().unwrap();
    assert_eq!(last.header("authorization"), Some("Bearer dapi-secret-1"), "kept-secret PUT");
    assert_eq!(last.header("x-trace"), Some("off"));

    // A new value replaces the secret for the next request.
    got["network_config"]["extra_headers"]["Authorization"] = json!("Bearer dapi-secret-2");
    let (status, _) = send(&h, reqwest::Method::PUT, "/api/providers/databricks-mlflow", Some(got)).await;
    assert_eq!(status, 200);
    assert_eq!(chat(&h, "databricks-mlflow/m").await, 200);
    assert_eq!(h.chat_requests().pop().unwrap().header("authorization"), Some("Bearer dapi-secret-2"));

    let (status, _) = send(&h, reqwest::Method::DELETE, "/api/providers/databricks-mlflow", None).await;
    assert_eq!(status, 204);
    assert_eq!(chat(&h, "databricks-mlflow/m").await, 404);
    let (status, _) = send(&h, reqwest::Method::GET, "/api/providers/databricks-mlflow", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn validation_errors_name_the_fields() {
    let h = start_admin(FILE, None).await;
    let mut bad = mlflow(&h, "Bearer x");
    bad["network_config"]["base_url"] = json!("ftp://nope");
    bad["custom_provider_config"]["request_path_overrides"] = json!({"chat": "/x", "list_models": "not a path"});
    let (status, err) = send(&h, reqwest::Method::POST, "/api/providers", Some(bad)).await;
    assert_eq!(status, 400);
    let paths: Vec<&str> =
        err["error"]["details"].as_array().unwrap().iter().map(|d| d["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"network_config.base_url"), "{paths:?}");
    assert!(paths.contains(&"custom_provider_config.request_path_overrides.chat"), "{paths:?}");
    assert!(paths.contains(&"custom_provider_config.request_path_overrides.list_models"), "{paths:?}");
    let hint = err["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == "custom_provider_config.request_path_overrides.chat")
        .unwrap()["hint"]
        .clone();
    assert_eq!(hint, "did you mean `chat_completion`?");

    let (status, err) = send(&h, reqwest::Method::POST, "/api/providers", Some(json!({"network_config": {}}))).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["details"][0]["path"], "name");

    let (status, err) = send(
        &h,
        reqwest::Method::POST,
        "/api/providers",
        Some(json!({"name": "from-file", "network_config": {"base_url": "https://x"},
        "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}})),
    )
    .await;
    assert_eq!(status, 409, "{err}");
    let (status, _) = send(&h, reqwest::Method::POST, "/api/providers", Some(json!({"name": "a/b"}))).await;
    assert_eq!(status, 400);
    let resp = h
        .http
        .post(format!("{}/api/providers", h.base))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn file_managed_providers_are_read_only_here() {
    let h = start_admin(FILE, None).await;
    let (status, p) = send(&h, reqwest::Method::GET, "/api/providers/from-file", None).await;
    assert_eq!((status, p["source"].as_str()), (200, Some("file")));
    let (status, err) = send(&h, reqwest::Method::PUT, "/api/providers/from-file", Some(p)).await;
    assert_eq!(status, 409);
    assert!(err["error"]["message"].as_str().unwrap().contains("config file"));
    let (status, _) = send(&h, reqwest::Method::DELETE, "/api/providers/from-file", None).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn keys_are_redacted_and_kept_by_name() {
    let h = start_admin("{}", None).await;
    let body = json!({"name": "keyed", "keys": [{"name": "a", "value": "sk-aaa", "weight": 1}, {"name": "b", "value": "env.OPENAI_KEY_A", "weight": 2}],
        "network_config": {"base_url": h.fake.url("")}, "custom_provider_config": {"base_provider_type": "openai"}});
    let (status, created) = send(&h, reqwest::Method::POST, "/api/providers", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["keys"][0]["value"], "********");
    assert_eq!(created["keys"][1]["value"], "env.OPENAI_KEY_A", "env references are not secrets");
    let mut edit = created.clone();
    edit["keys"] = json!([{"name": "a", "value": "********", "weight": 1, "models": ["only-a"]}]);
    let (status, _) = send(&h, reqwest::Method::PUT, "/api/providers/keyed", Some(edit)).await;
    assert_eq!(status, 200);
    assert_eq!(chat(&h, "keyed/only-a").await, 200);
    assert_eq!(h.chat_requests().pop().unwrap().header("authorization"), Some("Bearer sk-aaa"));
    let mut bogus = created;
    bogus["keys"] = json!([{"name": "zzz", "value": "********"}, {"name": "y", "value": "********"}, {"name": "x", "value": "********"}]);
    let (status, err) = send(&h, reqwest::Method::PUT, "/api/providers/keyed", Some(bogus)).await;
    assert_eq!(status, 400);
    assert!(err["error"]["message"].as_str().unwrap().contains("keys[0].value"), "{err}");
}

#[tokio::test]
async fn a_stream_in_flight_survives_an_edit() {
    let h = start_admin("{}", None).await;
    send(&h, reqwest::Method::POST, "/api/providers", Some(mlflow(&h, "Bearer one"))).await;
    let resp = h.post("/v1/chat/completions", &json!({"model": "databricks-mlflow/slow", "stream": true, "messages": [{"role": "user", "content": "a b c d e"}]})).await;
    let (status, _) = send(&h, reqwest::Method::DELETE, "/api/providers/databricks-mlflow", None).await;
    assert_eq!(status, 204);
    assert!(resp.text().await.unwrap().ends_with("data: [DONE]\n\n"));
}

#[tokio::test]
async fn test_connection_lists_models_or_reports_the_upstream_error() {
    let h = start_admin("{}", None).await;
    send(&h, reqwest::Method::POST, "/api/providers", Some(mlflow(&h, "Bearer x"))).await;
    let (status, r) = send(&h, reqwest::Method::POST, "/api/providers/databricks-mlflow/test", Some(json!({}))).await;
    assert_eq!(status, 200);
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["kind"], "list_models");
    assert_eq!(r["count"], 3);
    let (_, r) =
        send(&h, reqwest::Method::POST, "/api/providers/databricks-mlflow/test", Some(json!({"model": "error-400"})))
            .await;
    assert_eq!(r["ok"], false);
    assert_eq!(r["status"], 400);
    assert!(r["error"].as_str().unwrap().contains("rejects this input"), "the exact upstream error: {r}");
    let (_, r) =
        send(&h, reqwest::Method::POST, "/api/providers/databricks-mlflow/test", Some(json!({"model": "llama"}))).await;
    assert_eq!(r["ok"], true, "{r}");
    let (status, _) = send(&h, reqwest::Method::POST, "/api/providers/nope/test", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn openapi_and_meta_are_served() {
    let h = start_admin("{}", None).await;
    let (status, spec) = send(&h, reqwest::Method::GET, "/api/openapi.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["paths"]["/api/providers/{name}"]["put"].is_object());
    let (_, meta) = send(&h, reqwest::Method::GET, "/api/meta", None).await;
    assert_eq!(meta["request_types"].as_array().unwrap().len(), 9);
    let ui = h.http.get(format!("{}/ui/", h.base)).send().await.unwrap();
    assert_eq!(ui.status(), 200);
    assert!(ui.text().await.unwrap().contains("/ui/app.js"));
}

/// The embedded UI: each file with its type and `no-cache`, client-side routes
/// answered with the app, an unknown file with 404.
#[tokio::test]
async fn the_ui_is_served_from_the_embedded_folder() {
    let h = start_admin("{}", None).await;
    let get = |path: &'static str| {
        let url = format!("{}{path}", h.base);
        let http = h.http.clone();
        async move { http.get(url).send().await.unwrap() }
    };
    for (path, mime, needle) in [
        ("/ui/app.js", "text/javascript; charset=utf-8", "import"),
        ("/ui/js/pages/keys.js", "text/javascript; charset=utf-8", "page(\"keys\""),
        ("/ui/app.css", "text/css; charset=utf-8", ".sidebar"),
        ("/ui/vendor/uplot/uPlot.esm.js", "text/javascript; charset=utf-8", "export { uPlot as default }"),
        ("/ui/vendor/uplot/uPlot.min.css", "text/css; charset=utf-8", ".uplot"),
        ("/ui/", "text/html; charset=utf-8", "/ui/app.js"),
        ("/ui/logs", "text/html; charset=utf-8", "/ui/app.js"),
        ("/ui/deep/client/route", "text/html; charset=utf-8", "/ui/app.js"),
    ] {
        let r = get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], mime, "{path}");
        assert_eq!(r.headers()["cache-control"], "no-cache", "{path}");
        assert!(r.text().await.unwrap().contains(needle), "{path}");
    }
    for path in ["/ui/nope.js", "/ui/js/pages/nope.js", "/ui/vendor/missing.css"] {
        assert_eq!(get(path).await.status(), 404, "{path}");
    }
    let css = get("/login.css").await;
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
}

#[tokio::test]
async fn with_a_token_the_api_and_ui_need_it() {
    let h = start_admin("{}", Some("admin-s3cret")).await;
    let (status, err) = send(&h, reqwest::Method::GET, "/api/providers", None).await;
    assert_eq!(status, 401);
    assert_eq!(err["error"]["type"], "authentication_error");
    let ui = h.http.get(format!("{}/ui/", h.base)).send().await.unwrap();
    assert_eq!(ui.status(), 303, "the UI redirects to the login page");
    assert_eq!(ui.headers()["location"], "/login");

    let ok = h.http.get(format!("{}/api/providers", h.base)).bearer_auth("admin-s3cret").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let wrong = h.http.get(format!("{}/api/providers", h.base)).bearer_auth("admin-s3cre").send().await.unwrap();
    assert_eq!(wrong.status(), 401);

    // Login page → cookie session; writes with the cookie need the CSRF header.
    let bad = h
        .http
        .post(format!("{}/login", h.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert!(!bad.text().await.unwrap().contains("admin-s3cret"));
    let login = h
        .http
        .post(format!("{}/login", h.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=admin-s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let session = cookie.split(';').next().unwrap().to_string();
    let get = h.http.get(format!("{}/api/providers", h.base)).header("cookie", &session).send().await.unwrap();
    assert_eq!(get.status(), 200);
    let body = mlflow(&h, "Bearer x");
    let no_csrf =
        h.http.post(format!("{}/api/providers", h.base)).header("cookie", &session).json(&body).send().await.unwrap();
    assert_eq!(no_csrf.status(), 403);
    let with_csrf = h
        .http
        .post(format!("{}/api/providers", h.base))
        .header("cookie", &session)
        .header("x-requested-with", "switchyard")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(with_csrf.status(), 201);
    // Model traffic is not behind the admin token.
    assert_eq!(chat(&h, "databricks-mlflow/m").await, 200);
    let logout = h.http.post(format!("{}/logout", h.base)).header("cookie", &session).send().await.unwrap();
    assert_eq!(logout.status(), 303);
    let after = h.http.get(format!("{}/api/providers", h.base)).header("cookie", &session).send().await.unwrap();
    assert_eq!(after.status(), 401);
}
