//! Secrets in provider JSON: keys, credential-like extra headers, and the
//! userinfo and query values of URLs are replaced by a marker on the way out;
//! a marker sent back means "keep what is stored". `env.NAME` references are
//! not secrets and are shown as is.

use serde_json::{Map, Value};

pub const MARKER: &str = "********";

fn is_env_reference(v: &str) -> bool {
    crate::config::env_reference(v).is_some()
}

/// Header names whose values are credentials.
pub fn is_sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["authorization", "cookie", "api-key", "apikey", "token", "secret", "password", "credential", "-key", "x-api-key"]
        .iter()
        .any(|s| n.contains(s))
}

fn redact_value(v: &str) -> String {
    if is_env_reference(v) {
        return v.to_string();
    }
    // Keep the scheme so a reader can tell what kind of credential it is.
    for scheme in ["Bearer ", "Basic ", "Token "] {
        if v.starts_with(scheme) {
            return format!("{scheme}{MARKER}");
        }
    }
    MARKER.to_string()
}

pub fn is_redacted(v: &str) -> bool {
    v.ends_with(MARKER)
}

/// Redacts a provider's config JSON for display.
pub fn redact(mut provider: Value) -> Value {
    if let Some(Value::Array(keys)) = provider.get_mut("keys") {
        for k in keys {
            if let Some(Value::String(v)) = k.get_mut("value") {
                *v = redact_value(v);
            }
        }
    }
    if let Some(Value::Object(headers)) = provider.pointer_mut("/network_config/extra_headers") {
        for (name, v) in headers.iter_mut() {
            if let (true, Value::String(s)) = (is_sensitive_header(name), &*v) {
                *v = Value::String(redact_value(s));
            }
        }
    }
    if let Some(Value::String(v)) = provider.pointer_mut("/network_config/oauth/client_secret") {
        *v = redact_value(v);
    }
    for_each_url(&mut provider, |_, u| *u = crate::redact::url(u));
    provider
}

/// Calls `f` with the JSON path and value of every URL in a provider.
fn for_each_url(provider: &mut Value, mut f: impl FnMut(String, &mut String)) {
    if let Some(Value::String(u)) = provider.pointer_mut("/network_config/base_url") {
        f("network_config.base_url".into(), u);
    }
    if let Some(Value::String(u)) = provider.pointer_mut("/network_config/oauth/token_url") {
        f("network_config.oauth.token_url".into(), u);
    }
    if let Some(Value::Object(o)) = provider.pointer_mut("/custom_provider_config/request_path_overrides") {
        for (t, v) in o.iter_mut() {
            if let Value::String(u) = v {
                f(format!("custom_provider_config.request_path_overrides.{t}"), u);
            }
        }
    }
}

/// A URL sent back as shown (masked) means the stored one.
fn restore_urls(incoming: &mut Value, stored: &Value) -> Result<(), String> {
    let mut stored_urls = Vec::new();
    for_each_url(&mut stored.clone(), |path, u| stored_urls.push((path, u.clone())));
    let mut missing = None;
    for_each_url(incoming, |path, u| {
        if !u.contains(MARKER) {
            return;
        }
        match stored_urls.iter().find(|(p, s)| *p == path && crate::redact::url(s) == *u) {
            Some((_, s)) => *u = s.clone(),
            None => missing = missing.take().or(Some(path)),
        }
    });
    missing.map_or(Ok(()), Err)
}

/// Puts stored secrets back where an update carries markers. `Err` names the
/// field whose marker has no stored secret to restore.
pub fn restore(mut incoming: Value, stored: &Value) -> Result<Value, String> {
    restore_urls(&mut incoming, stored)?;
    if let Some(Value::Array(keys)) = incoming.get_mut("keys") {
        let stored_keys = stored.get("keys").and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, k) in keys.iter_mut().enumerate() {
            let Some(Value::String(v)) = k.get("value") else { continue };
            if !is_redacted(v) {
                continue;
            }
            // A named key matches the stored key of that name; an unnamed one, the same position.
            let stored_key = match k.get("name").and_then(Value::as_str) {
                Some(n) => stored_keys.iter().find(|s| s.get("name").and_then(Value::as_str) == Some(n)),
                None => stored_keys.get(i),
            };
            let found = stored_key.and_then(|s| s.get("value")).cloned();
            match found {
                Some(secret) => {
                    if let Value::Object(o) = k {
                        o.insert("value".into(), secret);
                    }
                }
                None => return Err(format!("keys[{i}].value")),
            }
        }
    }
    // The stored secret is for the stored token URL: sent elsewhere, it would leak to that host.
    let same_token_url =
        incoming.pointer("/network_config/oauth/token_url") == stored.pointer("/network_config/oauth/token_url");
    if let Some(Value::String(v)) = incoming.pointer_mut("/network_config/oauth/client_secret") {
        if is_redacted(v) && !same_token_url {
            return Err("network_config.oauth.client_secret".into());
        }
        if is_redacted(v) {
            match stored.pointer("/network_config/oauth/client_secret").and_then(Value::as_str) {
                Some(secret) => *v = secret.to_string(),
                None => return Err("network_config.oauth.client_secret".into()),
            }
        }
    }
    let stored_headers: Map<String, Value> =
        stored.pointer("/network_config/extra_headers").and_then(Value::as_object).cloned().unwrap_or_default();
    if let Some(Value::Object(headers)) = incoming.pointer_mut("/network_config/extra_headers") {
        for (name, v) in headers.iter_mut() {
            let Value::String(s) = &*v else { continue };
            if !is_redacted(s) {
                continue;
            }
            let stored_value =
                stored_headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
            match stored_value {
                Some(secret) => *v = secret,
                None => return Err(format!("network_config.extra_headers.{name}")),
            }
        }
    }
    Ok(incoming)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn redacts_keys_and_credential_headers_but_not_env_references() {
        let p = json!({"keys": [{"value": "sk-secret"}, {"value": "env.KEY"}],
            "network_config": {"extra_headers": {"Authorization": "Bearer dapi123", "X-Trace": "on", "X-Api-Key": "k", "Cookie": "env.C"}}});
        let r = redact(p);
        assert_eq!(r["keys"][0]["value"], "********");
        assert_eq!(r["keys"][1]["value"], "env.KEY");
        assert_eq!(r["network_config"]["extra_headers"]["Authorization"], "Bearer ********");
        assert_eq!(r["network_config"]["extra_headers"]["X-Api-Key"], "********");
        assert_eq!(r["network_config"]["extra_headers"]["X-Trace"], "on");
        assert_eq!(r["network_config"]["extra_headers"]["Cookie"], "env.C");
        let sp = json!({"network_config": {"oauth": {"token_url": "https://h/oidc/v1/token", "client_id": "app-1", "client_secret": "dose-secret"}}});
        let shown = redact(sp.clone());
        assert_eq!(shown["network_config"]["oauth"]["client_secret"], MARKER);
        assert_eq!(shown["network_config"]["oauth"]["client_id"], "app-1", "an id is not a secret");
        assert_eq!(restore(shown.clone(), &sp).unwrap(), sp, "the marker sent back keeps the stored secret");
        let mut moved = shown;
        moved["network_config"]["oauth"]["token_url"] = json!("https://attacker.example/token");
        assert_eq!(
            restore(moved, &sp).unwrap_err(),
            "network_config.oauth.client_secret",
            "a new token URL gets no stored secret"
        );
        assert!(!r.to_string().contains("dapi123") && !r.to_string().contains("sk-secret"));
    }

    #[test]
    fn url_credentials_are_masked_and_restored() {
        let stored = json!({"network_config": {"base_url": "https://u:pw-secret@h.example/mlflow"},
            "custom_provider_config": {"request_path_overrides": {"list_models": "https://ws/models?code=q-secret"}}});
        let shown = redact(stored.clone());
        assert_eq!(shown["network_config"]["base_url"], "https://u:********@h.example/mlflow");
        assert_eq!(
            shown["custom_provider_config"]["request_path_overrides"]["list_models"],
            "https://ws/models?code=********"
        );
        assert!(!shown.to_string().contains("secret"));
        assert_eq!(restore(shown, &stored).unwrap(), stored, "sent back as shown = keep");
        let changed = json!({"network_config": {"base_url": "https://u:********@other.example/mlflow"}});
        assert_eq!(restore(changed, &stored).unwrap_err(), "network_config.base_url");
    }

    #[test]
    fn markers_restore_stored_secrets() {
        let stored = json!({"keys": [{"name": "a", "value": "sk-a"}, {"name": "b", "value": "sk-b"}],
            "network_config": {"extra_headers": {"Authorization": "Bearer dapi123"}}});
        let incoming = json!({"keys": [{"name": "b", "value": "********"}, {"value": "sk-new"}],
            "network_config": {"extra_headers": {"authorization": "Bearer ********", "X-New": "1"}}});
        let r = restore(incoming, &stored).unwrap();
        assert_eq!(r["keys"][0]["value"], "sk-b", "matched by name");
        assert_eq!(r["keys"][1]["value"], "sk-new");
        assert_eq!(r["network_config"]["extra_headers"]["authorization"], "Bearer dapi123");
        let err =
            restore(json!({"network_config": {"extra_headers": {"X-Other-Token": "********"}}}), &stored).unwrap_err();
        assert_eq!(err, "network_config.extra_headers.X-Other-Token");
    }
}
