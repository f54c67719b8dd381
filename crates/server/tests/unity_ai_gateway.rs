//! The Unity AI Gateway layout: every API on the workspace host under
//! `/ai-gateway/` (`mlflow/v1` chat, `anthropic`, `codex/v1` Responses), the
//! models listed by `GET /api/2.1/unity-catalog/model-services` (which fails
//! without a page size), as `examples/databricks-unity-ai-gateway.json` sets it up.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use serde_json::json;

/// The example file's providers, pointed at the fake workspace (`{ws}`), a PAT instead of OAuth.
fn providers() -> String {
    let text = include_str!("../../../examples/databricks-unity-ai-gateway.json");
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    for p in v["providers"].as_object_mut().unwrap().values_mut() {
        let n = &mut p["network_config"];
        n.as_object_mut().unwrap().remove("oauth");
        n["extra_headers"] = json!({"Authorization": "Bearer env.DBX_TOKEN"});
        n["base_url"] = json!(n["base_url"]
            .as_str()
            .unwrap()
            .replace("https://adb-1234567890123456.7.azuredatabricks.net", "{ws}"));
        if let Some(o) = p.pointer_mut("/custom_provider_config/request_path_overrides/list_models") {
            *o = json!(o.as_str().unwrap().replace("https://adb-1234567890123456.7.azuredatabricks.net", "{ws}"));
        }
    }
    v["providers"].to_string()
}

#[tokio::test]
async fn the_workspace_host_serves_chat_messages_and_native_responses_and_lists_model_services() {
    let h = common::start(&providers()).await;
    let (status, body) = common::json(h.get("/v1/models").await).await;
    assert_eq!(status, 200, "{body}");
    let mut ids: Vec<&str> = body["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    ids.sort();
    let mlflow: Vec<&str> = ids.iter().copied().filter(|i| i.starts_with("databricks-mlflow/")).collect();
    assert_eq!(
        mlflow,
        [
            "databricks-mlflow/main.default.support-bot",
            "databricks-mlflow/system.ai.claude-sonnet-4-5",
            "databricks-mlflow/system.ai.gpt-5"
        ],
        "paged, the model-services/ prefix stripped, a service listed twice listed once"
    );
    assert!(ids.iter().any(|i| i.starts_with("databricks-anthropic/")), "the Native API lists its models too: {ids:?}");
    let services: Vec<String> = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/2.1/unity-catalog/model-services"))
        .map(|r| r.path)
        .collect();
    assert_eq!(services.len(), 2);
    assert!(services.iter().all(|p| p.contains("page_size=100")), "{services:?}");

    let chat = json!({"model": "databricks-mlflow/system.ai.gpt-5", "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(h.post("/v1/chat/completions", &chat).await.status(), 200);
    let msg = json!({"model": "databricks-anthropic/system.ai.claude-sonnet-4-5", "max_tokens": 16,
                     "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(h.post("/anthropic/v1/messages", &msg).await.status(), 200);
    // Codex's Responses request goes through as it is: the provider allows `responses`, so nothing is emulated.
    let resp = json!({"model": "databricks-codex/system.ai.gpt-5", "input": "hi", "store": false});
    let (status, body) = common::json(h.post("/v1/responses", &resp).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "response");

    let sent: Vec<(String, String)> =
        h.fake.requests().into_iter().filter(|r| r.method == "POST").map(|r| (r.host, r.path)).collect();
    assert_eq!(
        sent,
        [
            ("workspace".to_string(), "/ai-gateway/mlflow/v1/chat/completions".to_string()),
            ("workspace".to_string(), "/ai-gateway/anthropic/v1/messages".to_string()),
            ("workspace".to_string(), "/ai-gateway/codex/v1/responses".to_string()),
        ],
        "one workspace URL is enough"
    );
    let responses = h.fake.requests().into_iter().find(|r| r.path.ends_with("/v1/responses")).unwrap();
    assert_eq!(responses.body["input"], "hi", "passed through, not turned into a chat");
    assert_eq!(responses.body["model"], "system.ai.gpt-5");
}

#[tokio::test]
async fn a_model_services_url_without_a_page_size_gets_one() {
    let text = providers().replace("model-services?page_size=100", "model-services");
    assert!(!text.contains("page_size"));
    let h = common::start(&text).await;
    let (status, body) = common::json(h.get("/v1/models").await).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["data"].as_array().unwrap().iter().any(|m| m["id"] == "databricks-mlflow/system.ai.gpt-5"), "{body}");
}
