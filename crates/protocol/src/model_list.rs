//! Reads one page of a provider's model list, whatever its format. The format
//! is detected from the body, never assumed from the provider's base format:
//! an openai-base provider may list its models through Unity Catalog.

use serde_json::Value;

/// One page of a model list, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelListPage {
    pub format: ModelListFormat,
    pub models: Vec<ListedModel>,
    /// What to send to get the next page, if the body says there is one.
    pub next: Option<NextPage>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelListFormat {
    /// `{"object":"list","data":[{"id","object":"model",…}]}`
    OpenAi,
    /// `{"data":[{"type":"model","id",…}],"has_more","last_id"}`
    Anthropic,
    /// `{"registered_models":[{"full_name",…}],"next_page_token"}`
    UnityCatalog,
    /// Unity AI Gateway: `{"model_services":[{"name":"model-services/system.ai.…"}],"next_page_token"}`
    ModelServices,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedModel {
    pub id: String,
    /// Seconds since the epoch, when the source says.
    pub created: Option<i64>,
    pub owned_by: Option<String>,
}

/// A query parameter to add to fetch the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextPage {
    pub param: &'static str,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelListError {
    #[error("model list is not JSON: {0}")]
    NotJson(String),
    #[error("unrecognised model list: expected OpenAI or Anthropic `data[]`, Unity Catalog `registered_models[]` or `model_services[]`, got keys [{0}]")]
    UnknownFormat(String),
}

pub fn parse_model_list(body: &[u8]) -> Result<ModelListPage, ModelListError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| ModelListError::NotJson(e.to_string()))?;
    let Some(obj) = value.as_object() else {
        return Err(ModelListError::UnknownFormat(String::new()));
    };
    if obj.contains_key("registered_models")
        || obj.contains_key("model_services")
        || obj.contains_key("next_page_token")
    {
        let services = obj.contains_key("model_services");
        let models = obj
            .get(if services { "model_services" } else { "registered_models" })
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|m| {
                        let id = m
                            .get("full_name")
                            .and_then(Value::as_str)
                            .or_else(|| m.get("name").and_then(Value::as_str))?;
                        // A model service's name is a resource name: `model-services/<catalog>.<schema>.<name>`.
                        let id = id.strip_prefix("model-services/").unwrap_or(id);
                        Some(ListedModel {
                            id: id.to_string(),
                            created: m.get("created_at").and_then(Value::as_i64).map(|ms| ms / 1000),
                            owned_by: m.get("owner").and_then(Value::as_str).map(str::to_string),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        let next = obj
            .get("next_page_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(|t| NextPage { param: "page_token", value: t.to_string() });
        let format = if services { ModelListFormat::ModelServices } else { ModelListFormat::UnityCatalog };
        return Ok(ModelListPage { format, models, next });
    }
    if let Some(items) = obj.get("data").and_then(Value::as_array) {
        let anthropic = obj.contains_key("has_more")
            || items.iter().any(|m| m.get("type").and_then(Value::as_str) == Some("model"));
        let models = items
            .iter()
            .filter_map(|m| {
                let id = m.get("id").and_then(Value::as_str)?;
                let created = m.get("created").and_then(Value::as_i64);
                Some(ListedModel {
                    id: id.to_string(),
                    created,
                    owned_by: m.get("owned_by").and_then(Value::as_str).map(str::to_string),
                })
            })
            .collect();
        if anthropic {
            let next = match (obj.get("has_more").and_then(Value::as_bool), obj.get("last_id").and_then(Value::as_str))
            {
                (Some(true), Some(last)) => Some(NextPage { param: "after_id", value: last.to_string() }),
                _ => None,
            };
            return Ok(ModelListPage { format: ModelListFormat::Anthropic, models, next });
        }
        return Ok(ModelListPage { format: ModelListFormat::OpenAi, models, next: None });
    }
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    Err(ModelListError::UnknownFormat(keys.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_openai_list() {
        let page =
            parse_model_list(br#"{"object":"list","data":[{"id":"gpt","object":"model","created":5,"owned_by":"o"}]}"#);
        let page = page.ok();
        assert_eq!(page.as_ref().map(|p| p.format), Some(ModelListFormat::OpenAi));
        assert_eq!(
            page.map(|p| p.models),
            Some(vec![ListedModel { id: "gpt".into(), created: Some(5), owned_by: Some("o".into()) }])
        );
    }

    #[test]
    fn detects_anthropic_list_and_paging() {
        let page = parse_model_list(br#"{"data":[{"type":"model","id":"claude","display_name":"C","created_at":"2025-01-01T00:00:00Z"}],"has_more":true,"first_id":"claude","last_id":"claude"}"#).ok();
        assert_eq!(page.as_ref().map(|p| p.format), Some(ModelListFormat::Anthropic));
        assert_eq!(page.and_then(|p| p.next), Some(NextPage { param: "after_id", value: "claude".into() }));
    }

    #[test]
    fn detects_unity_catalog_and_empty_page_with_token() {
        let page = parse_model_list(br#"{"registered_models":[],"next_page_token":"t2"}"#).ok();
        assert_eq!(page.as_ref().map(|p| p.format), Some(ModelListFormat::UnityCatalog));
        assert_eq!(page.as_ref().map(|p| p.models.len()), Some(0));
        assert_eq!(page.and_then(|p| p.next).map(|n| n.value), Some("t2".to_string()));
        let last = parse_model_list(
            br#"{"registered_models":[{"name":"m","full_name":"main.default.m","created_at":1700000000000}]}"#,
        )
        .ok();
        assert_eq!(last.as_ref().and_then(|p| p.next.clone()), None);
        assert_eq!(
            last.map(|p| p.models[0].clone()),
            Some(ListedModel { id: "main.default.m".into(), created: Some(1700000000), owned_by: None })
        );
    }

    #[test]
    fn empty_unity_catalog_body_is_a_last_empty_page() {
        let page = parse_model_list(br#"{}"#);
        assert!(matches!(page, Err(ModelListError::UnknownFormat(_))));
        let page = parse_model_list(br#"{"next_page_token":""}"#).ok();
        assert_eq!(page.map(|p| (p.models.len(), p.next)), Some((0, None)));
    }

    #[test]
    fn rejects_unknown_shapes() {
        assert!(matches!(parse_model_list(b"<html>"), Err(ModelListError::NotJson(_))));
        assert!(
            matches!(parse_model_list(br#"{"models":[]}"#), Err(ModelListError::UnknownFormat(k)) if k == "models")
        );
    }

    #[test]
    fn detects_unity_ai_gateway_model_services() {
        let page = parse_model_list(
            br#"{"model_services":[{"name":"model-services/system.ai.gpt-5"},{"name":"main.default.mine"}],"next_page_token":"n"}"#,
        )
        .unwrap();
        assert_eq!(page.format, ModelListFormat::ModelServices);
        assert_eq!(
            page.models.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["system.ai.gpt-5", "main.default.mine"]
        );
        assert_eq!(page.next.map(|n| (n.param, n.value)), Some(("page_token", "n".to_string())));
    }
}
