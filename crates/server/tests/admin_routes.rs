//! Routes (virtual models) through the management API: CRUD served at once,
//! validation errors with the file's paths, a name a route and a provider may
//! not share, file-managed routes read-only, and API routes kept across a
//! restart over the same database file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{start_admin_on, Harness};
use reqwest::Method;
use serde_json::{json, Value};
use switchyard_server::ConnLimits;
use switchyard_testkit::FakeUpstream;

const FILE: &str = r#"{
  "providers": {
    "oa": {"network_config": {"base_url": "{gw}/mlflow"},
           "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}},
    "an": {"network_config": {"base_url": "{gw}/anthropic"},
           "custom_provider_config": {"base_provider_type": "anthropic", "is_key_less": true}}
  },
  "routes": {"from-file": {"targets": [{"model": "oa/file-model"}]}}
}"#;

async fn start(db: Option<&std::path::Path>) -> Harness {
    let fake = FakeUpstream::start().await.expect("fake upstream starts");
    start_admin_on(fake, FILE, db, None, ConnLimits::default()).await
}

async fn send(h: &Harness, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = h.http.request(method, format!("{}{path}", h.base));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
}

/// The status of a chat to `model`, and who served it.
async fn chat(h: &Harness, model: &str) -> (u16, String) {
    let body = json!({"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]});
    let resp = h.post("/v1/chat/completions", &body).await;
    let served = resp.headers().get("x-switchyard-served-by").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (resp.status().as_u16(), served)
}

fn paths(err: &Value) -> Vec<&str> {
    err["error"]["details"].as_array().unwrap().iter().map(|d| d["path"].as_str().unwrap()).collect()
}

fn detail<'a>(err: &'a Value, path: &str) -> &'a Value {
    err["error"]["details"].as_array().unwrap().iter().find(|d| d["path"] == path).unwrap_or(&Value::Null)
}

#[tokio::test]
async fn route_crud_takes_effect_at_once() {
    let h = start(None).await;
    assert_eq!(chat(&h, "smart").await.0, 400, "not a model yet");

    let route = json!({"name": "smart", "targets": [{"model": "oa/big", "weight": 2}], "fallbacks": ["an/backup"]});
    let (status, created) = send(&h, Method::POST, "/api/routes", Some(route.clone())).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created,
        json!({"name": "smart", "source": "api", "targets": [{"model": "oa/big", "weight": 2.0}], "fallbacks": ["an/backup"]})
    );
    assert_eq!(chat(&h, "smart").await, (200, "oa/big".to_string()), "served without a restart");
    assert_eq!(h.chat_requests().pop().unwrap().body["model"], "big", "the target's model goes upstream");
    let (status, _) = send(&h, Method::POST, "/api/routes", Some(route)).await;
    assert_eq!(status, 409, "exists");

    let (status, list) = send(&h, Method::GET, "/api/routes", None).await;
    assert_eq!(status, 200);
    let listed: Vec<(&str, &str)> =
        list.as_array().unwrap().iter().map(|r| (r["name"].as_str().unwrap(), r["source"].as_str().unwrap())).collect();
    assert_eq!(listed, [("from-file", "file"), ("smart", "api")]);
    assert_eq!(list[0]["fallbacks"], json!([]), "always present");

    // PUT back what GET returned, with one change.
    let (status, mut got) = send(&h, Method::GET, "/api/routes/smart", None).await;
    assert_eq!(status, 200);
    got["targets"] = json!([{"model": "an/claude", "weight": 1}]);
    let (status, updated) = send(&h, Method::PUT, "/api/routes/smart", Some(got)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(chat(&h, "smart").await, (200, "an/claude".to_string()));

    let (status, _) = send(&h, Method::DELETE, "/api/routes/smart", None).await;
    assert_eq!(status, 204);
    assert_eq!(chat(&h, "smart").await.0, 400, "no longer a model");
    let (status, err) = send(&h, Method::GET, "/api/routes/smart", None).await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["message"], "route \"smart\" not found");
    assert_eq!(send(&h, Method::DELETE, "/api/routes/smart", None).await.0, 404);
}

#[tokio::test]
async fn route_validation_reports_every_problem_with_its_path() {
    let h = start(None).await;
    let bad = json!({"name": "smart", "targets": [{"model": "opa/big", "weight": -1}, {"model": "no-slash"}],
        "fallbacks": ["an/ok", 7], "fallback": []});
    let (status, err) = send(&h, Method::POST, "/api/routes", Some(bad)).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(
        paths(&err),
        [
            "routes.smart.fallback",
            "routes.smart.targets[0].model",
            "routes.smart.targets[0].weight",
            "routes.smart.targets[1].model",
            "routes.smart.fallbacks[1]",
        ]
    );
    assert_eq!(detail(&err, "routes.smart.targets[0].model")["hint"], "did you mean `oa`?");
    assert_eq!(detail(&err, "routes.smart.fallback")["hint"], "did you mean `fallbacks`?");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("routes.smart.targets[0].weight: must be more than zero"));

    let (status, err) = send(&h, Method::POST, "/api/routes", Some(json!({"name": "empty", "targets": []}))).await;
    assert_eq!((status, paths(&err)), (400, vec!["routes.empty.targets"]));
    let (status, err) = send(&h, Method::POST, "/api/routes", Some(json!({"targets": [{"model": "oa/m"}]}))).await;
    assert_eq!((status, paths(&err)), (400, vec!["name"]));
    let (status, err) =
        send(&h, Method::POST, "/api/routes", Some(json!({"name": "a/b", "targets": [{"model": "oa/m"}]}))).await;
    assert_eq!((status, paths(&err)), (400, vec!["routes.a/b"]));
    let (status, _) = send(&h, Method::POST, "/api/routes", Some(json!([1]))).await;
    assert_eq!(status, 400);
    let resp = h
        .http
        .post(format!("{}/api/routes", h.base))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(send(&h, Method::GET, "/api/routes", None).await.1.as_array().unwrap().len(), 1, "nothing stored");
}

#[tokio::test]
async fn a_route_and_a_provider_may_not_share_a_name_either_way() {
    let h = start(None).await;
    let (status, err) =
        send(&h, Method::POST, "/api/routes", Some(json!({"name": "oa", "targets": [{"model": "an/m"}]}))).await;
    assert_eq!((status, paths(&err)), (400, vec!["routes.oa"]));
    assert!(detail(&err, "routes.oa")["message"].as_str().unwrap().contains("name of a provider"));

    let (status, _) =
        send(&h, Method::POST, "/api/routes", Some(json!({"name": "smart", "targets": [{"model": "oa/m"}]}))).await;
    assert_eq!(status, 201);
    let provider = json!({"name": "smart", "network_config": {"base_url": h.fake.url("/mlflow")},
        "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}});
    let (status, err) = send(&h, Method::POST, "/api/providers", Some(provider)).await;
    assert_eq!((status, paths(&err)), (400, vec!["name"]), "{err}");
    assert!(detail(&err, "name")["message"].as_str().unwrap().contains("route `smart`"));
    assert_eq!(chat(&h, "smart").await, (200, "oa/m".to_string()), "the route still serves");
}

#[tokio::test]
async fn a_provider_a_route_names_cannot_be_deleted() {
    let h = start(None).await;
    let provider = json!({"name": "extra", "network_config": {"base_url": h.fake.url("/mlflow")},
        "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}});
    assert_eq!(send(&h, Method::POST, "/api/providers", Some(provider)).await.0, 201);
    let route = json!({"name": "smart", "targets": [{"model": "oa/m"}], "fallbacks": ["extra/m"]});
    assert_eq!(send(&h, Method::POST, "/api/routes", Some(route)).await.0, 201);
    let (status, err) = send(&h, Method::DELETE, "/api/providers/extra", None).await;
    assert_eq!((status, paths(&err)), (400, vec!["routes.smart"]), "{err}");
    assert_eq!(detail(&err, "routes.smart")["hint"], "change or delete route `smart` first");
    assert_eq!(chat(&h, "extra/m").await.0, 200, "still served");
    assert_eq!(send(&h, Method::DELETE, "/api/routes/smart", None).await.0, 204);
    assert_eq!(send(&h, Method::DELETE, "/api/providers/extra", None).await.0, 204);
}

#[tokio::test]
async fn file_managed_routes_are_read_only_here() {
    let h = start(None).await;
    let (status, r) = send(&h, Method::GET, "/api/routes/from-file", None).await;
    assert_eq!((status, r["source"].as_str()), (200, Some("file")));
    let (status, err) = send(&h, Method::PUT, "/api/routes/from-file", Some(r)).await;
    assert_eq!(status, 409);
    assert!(err["error"]["message"].as_str().unwrap().contains("config file"), "{err}");
    assert_eq!(send(&h, Method::DELETE, "/api/routes/from-file", None).await.0, 409);
    assert_eq!(chat(&h, "from-file").await, (200, "oa/file-model".to_string()));
}

#[tokio::test]
async fn api_routes_survive_a_restart_over_the_same_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchyard.db");
    let first = start(Some(&db)).await;
    let route = json!({"name": "smart", "targets": [{"model": "oa/big"}]});
    assert_eq!(send(&first, Method::POST, "/api/routes", Some(route)).await.0, 201);

    // Another start: new fake upstream (so new file provider URLs), new service, same file.
    let second = start(Some(&db)).await;
    let (_, list) = send(&second, Method::GET, "/api/routes", None).await;
    let listed: Vec<(&str, &str)> =
        list.as_array().unwrap().iter().map(|r| (r["name"].as_str().unwrap(), r["source"].as_str().unwrap())).collect();
    assert_eq!(listed, [("from-file", "file"), ("smart", "api")]);
    assert_eq!(chat(&second, "smart").await, (200, "oa/big".to_string()));
    assert_eq!(second.chat_requests().len(), 1, "reached the second start's upstream");
}

#[tokio::test]
async fn openapi_describes_the_routes_endpoints() {
    let h = start(None).await;
    let (_, spec) = send(&h, Method::GET, "/api/openapi.json", None).await;
    for (path, methods) in
        [("/api/routes", &["get", "post"][..]), ("/api/routes/{name}", &["get", "put", "delete"][..])]
    {
        for m in methods {
            assert!(spec["paths"][path][m].is_object(), "{m} {path}");
        }
    }
    let route = &spec["components"]["schemas"]["RouteView"];
    assert_eq!(route["required"], json!(["name", "source", "targets", "fallbacks"]));
    // Every $ref points at a schema that exists.
    let text = spec.to_string();
    for r in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &r[..r.find('"').unwrap()];
        assert!(spec["components"]["schemas"][name].is_object(), "dangling $ref {name}");
    }
}
