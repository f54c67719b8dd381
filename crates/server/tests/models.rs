//! `GET /v1/models` across providers and list formats.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{json, start, DATABRICKS_MLFLOW};
use serde_json::Value;

fn ids(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> =
        body["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn unity_catalog_override_is_paged_to_the_end_and_prefixed() {
    let h = start(DATABRICKS_MLFLOW).await;
    let (status, body) = json(h.get("/v1/models").await).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "list");
    assert_eq!(
        ids(&body),
        vec![
            "databricks-mlflow/main.default.llama",
            "databricks-mlflow/main.default.mixtral",
            "databricks-mlflow/system.ai.claude"
        ]
    );
    let first = &body["data"][0];
    assert_eq!(first["object"], "model");
    assert_eq!(first["created"], 1_700_000_000);
    let uc: Vec<_> = h.fake.requests().into_iter().filter(|r| r.host == "workspace").collect();
    let paths: Vec<&str> = uc.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "/api/2.1/unity-catalog/models",
            "/api/2.1/unity-catalog/models?page_token=page-2",
            "/api/2.1/unity-catalog/models?page_token=page-3"
        ],
        "the empty page's token is followed"
    );
    assert!(
        uc.iter().all(|r| r.header("authorization") == Some("Bearer dapi-test-token")),
        "the extra header reaches the other host too"
    );
    assert!(
        h.fake.requests().iter().all(|r| r.host == "workspace"),
        "the default /v1/models on the AI Gateway host is not called"
    );
}

#[tokio::test]
async fn lists_are_cached_briefly() {
    let h = start(DATABRICKS_MLFLOW).await;
    h.get("/v1/models").await;
    h.get("/v1/models").await;
    assert_eq!(h.fake.requests().len(), 3, "second call served from cache");
}

#[tokio::test]
async fn openai_format_lists_merge_and_failing_or_disabled_providers_are_left_out() {
    let h = start(
        r#"{
          "plain": {"network_config": {"base_url": "{gw}"}, "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}},
          "broken": {"network_config": {"base_url": "http://127.0.0.1:9", "max_retries": 0}, "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}},
          "nolist": {"network_config": {"base_url": "{gw}/nolist"}, "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true, "allowed_requests": {"chat_completion": true}}},
          "uc": {"network_config": {"base_url": "{gw}/mlflow"}, "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true, "request_path_overrides": {"list_models": "{ws}/api/2.1/unity-catalog/models"}}}
        }"#,
    )
    .await;
    let resp = h.get("/v1/models").await;
    assert_eq!(resp.headers().get("x-switchyard-unavailable-providers").unwrap(), "broken");
    let (status, body) = json(resp).await;
    assert_eq!(status, 200);
    assert_eq!(
        ids(&body),
        vec![
            "plain/fake-gpt",
            "plain/fake-llama",
            "uc/main.default.llama",
            "uc/main.default.mixtral",
            "uc/system.ai.claude"
        ]
    );
    assert!(!h.fake.requests().iter().any(|r| r.path.starts_with("/nolist")), "list_models disabled: never asked");
}

#[tokio::test]
async fn an_unrecognised_list_body_fails_only_that_provider() {
    // A JSON array is neither an OpenAI/Anthropic `data[]` list nor Unity Catalog's.
    let h = start(
        r#"{"odd": {"network_config": {"base_url": "{gw}"}, "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true,
              "request_path_overrides": {"list_models": "{ws}/__fake/requests"}}}}"#,
    )
    .await;
    let resp = h.get("/v1/models").await;
    assert_eq!(resp.headers().get("x-switchyard-unavailable-providers").unwrap(), "odd");
    let (_, body) = json(resp).await;
    assert_eq!(body["data"], serde_json::json!([]));
}

/// `catalog_name` / `schema_name` in the list override narrow what Unity
/// Catalog lists, on every page; a schema without its catalog is refused at load.
#[tokio::test]
async fn unity_catalog_lists_narrow_by_catalog_and_schema() {
    let provider = |query: &str| {
        DATABRICKS_MLFLOW
            .replace("{ws}/api/2.1/unity-catalog/models", &format!("{{ws}}/api/2.1/unity-catalog/models?{query}"))
    };
    let h = start(&provider("catalog_name=main&schema_name=default")).await;
    let (status, body) = json(h.get("/v1/models").await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ids(&body), ["databricks-mlflow/main.default.llama", "databricks-mlflow/main.default.mixtral"]);
    let paths: Vec<String> = h.fake.requests().into_iter().filter(|r| r.host == "workspace").map(|r| r.path).collect();
    assert!(paths.iter().all(|p| p.contains("catalog_name=main&schema_name=default")), "kept on every page: {paths:?}");
    assert_eq!(paths.len(), 3);

    let h = start(&provider("catalog_name=system")).await;
    assert_eq!(ids(&json(h.get("/v1/models").await).await.1), ["databricks-mlflow/system.ai.claude"]);

    let text = format!(r#"{{"providers": {}}}"#, provider("schema_name=default"))
        .replace("{gw}", "https://gw.example")
        .replace("{ws}", "https://ws.example");
    let err = switchyard_core::config::GatewayConfig::parse(&text, &common::env()).unwrap_err().to_string();
    assert!(err.contains("schema_name without catalog_name"), "{err}");
    assert!(err.contains("request_path_overrides.list_models"), "names the field: {err}");
}
