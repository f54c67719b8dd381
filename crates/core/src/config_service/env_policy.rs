//! Which `env.NAME` references the management API may create. A reference
//! makes Switchyard send that variable's value to the provider's URL, so an
//! API caller who may write references to any name could read any secret of
//! the process environment (point a provider at their own host, reference
//! `env.AWS_SECRET_ACCESS_KEY`, test the connection). References in the config
//! file are the operator's own and are not limited; through the API only names
//! on `--api-env-allow` (exact, or a `PREFIX_*` pattern) are accepted.

use crate::config::{env_reference, ConfigDiagnostic, Severity};
use serde_json::Value;

/// Names (or `PREFIX*` patterns) the API may reference.
#[derive(Debug, Clone, Default)]
pub struct ApiEnvAllowList(Vec<String>);

impl ApiEnvAllowList {
    pub fn new(patterns: impl IntoIterator<Item = String>) -> Self {
        Self(patterns.into_iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect())
    }

    pub fn allows(&self, name: &str) -> bool {
        self.0.iter().any(|p| match p.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => p == name,
        })
    }

    /// One error per reference in `provider` (keys, extra headers, OAuth client credentials) the list does not allow.
    pub fn check(&self, provider: &Value) -> Vec<ConfigDiagnostic> {
        let mut refs: Vec<(String, &str)> = Vec::new();
        if let Some(keys) = provider.get("keys").and_then(Value::as_array) {
            for (i, k) in keys.iter().enumerate() {
                if let Some(v) = k.get("value").and_then(Value::as_str) {
                    refs.push((format!("keys[{i}].value"), v));
                }
            }
        }
        if let Some(h) = provider.pointer("/network_config/extra_headers").and_then(Value::as_object) {
            for (name, v) in h {
                if let Some(v) = v.as_str() {
                    refs.push((format!("network_config.extra_headers.{name}"), v));
                }
            }
        }
        // Sent to the token URL, which an API caller may point anywhere.
        for field in ["client_id", "client_secret"] {
            if let Some(v) = provider.pointer(&format!("/network_config/oauth/{field}")).and_then(Value::as_str) {
                refs.push((format!("network_config.oauth.{field}"), v));
            }
        }
        refs.into_iter()
            .filter_map(|(path, v)| {
                let name = env_reference(v)?;
                (!self.allows(name)).then(|| ConfigDiagnostic {
                    severity: Severity::Error,
                    path,
                    message: format!("`env.{name}` may not be referenced through the management API"),
                    hint: Some(format!(
                        "paste the value itself (it is stored and shown redacted), reference it from the config file, or start Switchyard with --api-env-allow {name}"
                    )),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_listed_names_pass() {
        let list = ApiEnvAllowList::new(["OPENAI_KEY_A".to_string(), "DATABRICKS_*".to_string()]);
        let p = json!({"keys": [{"value": "env.OPENAI_KEY_A"}, {"value": "env.HOME"}, {"value": "sk-literal"}],
            "network_config": {"extra_headers": {"Authorization": "Bearer env.DATABRICKS_TOKEN", "X-Leak": "env.AWS_SECRET_ACCESS_KEY"},
                "oauth": {"client_id": "env.DATABRICKS_CLIENT_ID", "client_secret": "env.GITHUB_TOKEN"}}});
        let errors = list.check(&p);
        let paths: Vec<&str> = errors.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            ["keys[1].value", "network_config.extra_headers.X-Leak", "network_config.oauth.client_secret"]
        );
        assert!(errors[1].hint.as_deref().unwrap_or("").contains("--api-env-allow AWS_SECRET_ACCESS_KEY"));
        assert!(ApiEnvAllowList::default().check(&json!({"keys": [{"value": "env.X"}]})).len() == 1);
    }
}
