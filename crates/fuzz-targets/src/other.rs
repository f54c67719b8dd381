//! The config file, model-list pages and upstream error bodies.

use std::collections::HashMap;

use serde_json::Value;
use switchyard_core::config::{env_reference, env_resolve, GatewayConfig};
use switchyard_protocol::databricks::unity_catalog::RegisteredModelsPage;
use switchyard_protocol::model_list::parse_model_list;
use switchyard_protocol::upstream_error::parse_upstream_error;

/// `GatewayConfig::parse` (syntax, validation, `env.NAME` references) with an
/// empty environment, plus the management API's single-provider validation.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let env: HashMap<String, String> = HashMap::new();
    if let Ok((config, _warnings)) = GatewayConfig::parse(&text, &env) {
        let _ = config.max_request_body_bytes();
        for (name, provider) in &config.providers {
            let _ = provider.base_format(name);
            let _ = provider.is_key_less();
        }
    }
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&text) {
        for (name, value) in &map {
            let _ = GatewayConfig::parse_provider(name, value, &env);
        }
    }
    let _ = env_reference(&text);
    let _ = env_resolve(&text, &env);
}

/// A provider's model list page (OpenAI, Anthropic or Unity Catalog), both
/// through the format-detecting reader and the typed Unity Catalog page.
pub fn model_list(data: &[u8]) {
    let _ = parse_model_list(data);
    let _ = serde_json::from_slice::<RegisteredModelsPage>(data);
}

/// An upstream's error body, whatever its dialect (or none).
pub fn upstream_error(data: &[u8]) {
    let _ = parse_upstream_error(data);
}
