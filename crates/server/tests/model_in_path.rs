//! `{model}` in a path override or full URL: Azure OpenAI's deployments and
//! Databricks Model Serving's endpoints carry the model in the path. It is
//! replaced per request by the upstream model name as one encoded segment,
//! streamed or not, and the body keeps its `model` field (unless
//! `drop_fields` names it); a placeholder
//! Switchyard does not fill, or one where no model exists, is refused at load.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{env, json, start};
use serde_json::json;
use switchyard_core::config::GatewayConfig;

const PROVIDERS: &str = r#"{
  "azure": {
    "network_config": { "base_url": "{gw}", "extra_headers": {"api-key": "env.OPENAI_KEY_A"} },
    "custom_provider_config": {
      "base_provider_type": "openai", "is_key_less": true,
      "request_path_overrides": {"chat_completion": "/openai/deployments/{model}/chat/completions?api-version=2024-10-21"}
    }
  },
  "serving": {
    "network_config": { "base_url": "{gw}/unused", "extra_headers": {"Authorization": "Bearer env.DBX_TOKEN"} },
    "custom_provider_config": {
      "base_provider_type": "openai", "is_key_less": true,
      "request_path_overrides": {"chat_completion": "{gw}/serving-endpoints/{model}/invocations"}
    }
  },
  "bare": {
    "network_config": { "base_url": "{gw}" },
    "request_shaping": { "drop_fields": ["model"] },
    "custom_provider_config": {
      "base_provider_type": "openai", "is_key_less": true,
      "request_path_overrides": {"chat_completion": "/serving-endpoints/{model}/invocations"}
    }
  }
}"#;

#[tokio::test]
async fn the_model_travels_in_the_path_as_one_segment_and_stays_in_the_body() {
    let h = start(PROVIDERS).await;
    let ask = |model: &str, stream: bool| json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]});

    let (status, body) = json(h.post("/v1/chat/completions", &ask("azure/gpt-4.1 mini/eu", false)).await).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    let (status, _) =
        json(h.post("/v1/chat/completions", &ask("serving/databricks-claude-sonnet-4", false)).await).await;
    assert_eq!(status, 200);
    let streamed = h.post("/v1/chat/completions", &ask("serving/databricks-claude-sonnet-4", true)).await;
    assert_eq!(streamed.status(), 200);
    assert!(streamed.text().await.unwrap().contains("data: [DONE]"), "the stream goes through the same URL");

    let seen: Vec<_> = h.fake.requests().into_iter().map(|r| (r.path, r.body["model"].clone())).collect();
    assert_eq!(
        seen,
        [
            (
                "/openai/deployments/gpt-4.1%20mini%2Feu/chat/completions?api-version=2024-10-21".to_string(),
                json!("gpt-4.1 mini/eu")
            ),
            (
                "/serving-endpoints/databricks-claude-sonnet-4/invocations".to_string(),
                json!("databricks-claude-sonnet-4")
            ),
            (
                "/serving-endpoints/databricks-claude-sonnet-4/invocations".to_string(),
                json!("databricks-claude-sonnet-4")
            ),
        ],
        "a space and a slash in the model are encoded (a dot is not), so it stays one segment; the body is not rewritten"
    );

    let (status, _) = json(h.post("/v1/chat/completions", &ask("bare/endpoint-a", false)).await).await;
    assert_eq!(status, 200);
    let sent = h.fake.requests().pop().unwrap();
    assert_eq!(sent.path, "/serving-endpoints/endpoint-a/invocations");
    assert!(sent.body.get("model").is_none(), "drop_fields removes the body's model: {}", sent.body);
}

fn refusal(provider: serde_json::Value) -> String {
    let text = json!({"providers": {"p": provider}}).to_string();
    match GatewayConfig::parse(&text, &env()) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn placeholders_that_cannot_be_filled_are_refused_with_the_field() {
    let with = |overrides: serde_json::Value, base: &str| {
        json!({"network_config": {"base_url": base},
               "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true,
                                          "request_path_overrides": overrides}})
    };
    let e = refusal(with(json!({"chat_completion": "/openai/deployments/{deployment}/chat/completions"}), "https://h"));
    assert!(e.contains("custom_provider_config.request_path_overrides.chat_completion"), "{e}");
    assert!(e.contains("\"{deployment}\" is not a placeholder") && e.contains("{model}"), "{e}");

    let e = refusal(with(json!({"list_models": "https://ws/api/2.1/unity-catalog/models/{model}"}), "https://h"));
    assert!(e.contains("request_path_overrides.list_models") && e.contains("names no model"), "{e}");

    let e = refusal(with(json!({}), "https://r.openai.azure.com/openai/deployments/{model}"));
    assert!(e.contains("network_config.base_url") && e.contains("request_path_overrides.chat_completion"), "{e}");
}
