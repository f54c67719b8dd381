//! Who made a call, carried through the hop to Databricks: the
//! `Databricks-Ai-Gateway-Request-Tags` header, which Databricks writes to the
//! `request_tags` column of its usage and inference tables. A gateway that
//! calls Databricks with one identity would otherwise erase the caller.
//!
//! The value is a JSON object of string values: the client's own tags (its
//! header of that name), under the virtual key's and team's tags, under
//! Switchyard's attribution (`switchyard_key`, `switchyard_team`,
//! `switchyard_user`, `switchyard_request_id`), which a client cannot override.

use std::collections::BTreeMap;

use http::{HeaderName, HeaderValue};

use crate::error::GatewayError;
use crate::lifecycle::RequestContext;

/// The prefix of the tags Switchyard sets.
const OURS: &str = "switchyard_";

pub static REQUEST_TAGS: HeaderName = HeaderName::from_static("databricks-ai-gateway-request-tags");

/// Hosts whose providers send the header unless told otherwise.
pub fn is_databricks_host(base_url: &str) -> bool {
    let host = reqwest::Url::parse(base_url).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    host.is_some_and(|h| {
        ["databricks.com", "azuredatabricks.net"].iter().any(|d| h == *d || h.ends_with(&format!(".{d}")))
    })
}

/// The header's value for this request; `client` is the client's own header.
pub fn request_tags(client: Option<&str>, ctx: &RequestContext) -> Result<HeaderValue, GatewayError> {
    let mut tags: BTreeMap<String, String> = match client.map(str::trim).filter(|c| !c.is_empty()) {
        None => BTreeMap::new(),
        Some(c) => serde_json::from_str(c).map_err(|_| {
            GatewayError::invalid(
                "header Databricks-Ai-Gateway-Request-Tags must be a JSON object of string values, such as {\"project\": \"chatbot\"}",
                Some("Databricks-Ai-Gateway-Request-Tags"),
            )
        })?,
    };
    let identity = ctx.identity.as_ref();
    if let Some(i) = identity {
        tags.extend(i.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    // Switchyard's names are Switchyard's alone: one it has no value for is absent, never the client's.
    tags.retain(|k, _| !k.starts_with(OURS));
    let mut ours = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            tags.insert(k.to_string(), v.to_string());
        }
    };
    ours("switchyard_key", identity.and_then(|i| i.key_name.as_deref()));
    ours("switchyard_team", identity.and_then(|i| i.team.as_deref()));
    ours("switchyard_user", ctx.user.as_deref());
    ours("switchyard_request_id", Some(&ctx.request_id));
    let json = serde_json::to_string(&tags).unwrap_or_else(|_| "{}".into());
    HeaderValue::from_str(&ascii_json(&json))
        .map_err(|_| GatewayError::invalid("header Databricks-Ai-Gateway-Request-Tags holds control characters", None))
}

/// JSON with every non-ASCII character as a `\u` escape: a header value is ASCII.
fn ascii_json(json: &str) -> String {
    if json.is_ascii() {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::inbound::Inbound;
    use crate::lifecycle::Identity;

    fn ctx() -> RequestContext {
        let mut c = RequestContext::new("req-1".into(), Inbound::OpenAiChat);
        c.user = Some("ana".into());
        c.identity = Some(Identity {
            key_id: Some("k1".into()),
            key_name: Some("ci-bot".into()),
            team: Some("ml-platform".into()),
            tags: BTreeMap::from([("cost_center".into(), "42".into())]),
            log_payloads: None,
        });
        c
    }

    #[test]
    fn attribution_wins_over_the_client_and_merges_its_tags() {
        let v = request_tags(Some(r#"{"project": "chatbot", "switchyard_key": "forged"}"#), &ctx()).unwrap();
        let tags: BTreeMap<String, String> = serde_json::from_str(v.to_str().unwrap()).unwrap();
        assert_eq!(tags["project"], "chatbot");
        assert_eq!(tags["switchyard_key"], "ci-bot", "a client cannot claim another key");
        assert_eq!((tags["switchyard_team"].as_str(), tags["switchyard_user"].as_str()), ("ml-platform", "ana"));
        assert_eq!((tags["switchyard_request_id"].as_str(), tags["cost_center"].as_str()), ("req-1", "42"));
    }

    #[test]
    fn a_malformed_client_header_is_refused_by_name_and_non_ascii_is_escaped() {
        let e = request_tags(Some(r#"{"n": 1}"#), &ctx()).unwrap_err();
        assert_eq!((e.status(), e.param()), (400, Some("Databricks-Ai-Gateway-Request-Tags")));
        let v = request_tags(Some(r#"{"équipe": "données"}"#), &ctx()).unwrap();
        let tags: BTreeMap<String, String> = serde_json::from_str(v.to_str().unwrap()).unwrap();
        assert_eq!(tags["équipe"], "données");
        let bare = request_tags(None, &RequestContext::new("r".into(), Inbound::OpenAiChat)).unwrap();
        assert_eq!(bare.to_str().unwrap(), r#"{"switchyard_request_id":"r"}"#);
        // No key, no team: a client cannot fill in the names Switchyard left empty.
        let forged = r#"{"switchyard_key": "ci-bot", "switchyard_team": "finance", "project": "p"}"#;
        let v = request_tags(Some(forged), &RequestContext::new("r".into(), Inbound::OpenAiChat)).unwrap();
        assert_eq!(v.to_str().unwrap(), r#"{"project":"p","switchyard_request_id":"r"}"#);
    }

    #[test]
    fn databricks_hosts_are_recognised() {
        assert!(is_databricks_host("https://123.ai-gateway.cloud.databricks.com/mlflow"));
        assert!(is_databricks_host("https://adb-1.7.azuredatabricks.net/serving-endpoints"));
        assert!(!is_databricks_host("https://databricks.com.evil.example/x"));
        assert!(!is_databricks_host("http://127.0.0.1:8080/mlflow"));
    }
}
