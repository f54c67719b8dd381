//! `network_config`: the base URL, extra headers, timeouts, retries, limits.

use serde_json::{Map, Value};

use super::env::{check_env, EnvResolver};
use super::reader::{check_keys, join, opt_bool, opt_int, opt_object, opt_str, wrong_type, Diags};
use super::NetworkConfig;
use crate::url_rule::parse_http_url;

const NETWORK_KNOWN: &[&str] = &[
    "base_url",
    "extra_headers",
    "default_request_timeout_in_seconds",
    "max_retries",
    "retry_backoff_initial",
    "retry_backoff_initial_ms",
    "retry_backoff_max",
    "retry_backoff_max_ms",
    "stream_idle_timeout_in_seconds",
    "keep_alive_timeout_in_seconds",
    "max_conns_per_host",
    "enforce_http2",
    "max_response_body_size_mb",
    "max_stream_event_size_kb",
    "oauth",
    "databricks_request_tags",
];
const NETWORK_BIFROST: &[&str] =
    &["insecure_skip_verify", "ca_cert_pem", "beta_header_overrides", "allow_private_network"];
/// Headers the HTTP client owns; setting them by hand breaks framing.
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
];

pub(super) fn read_network(
    map: &Map<String, Value>,
    provider_path: &str,
    env: &dyn EnvResolver,
    d: &mut Diags,
) -> NetworkConfig {
    let mut n = NetworkConfig::default();
    let path = join(provider_path, "network_config");
    let Some(map) = opt_object(map, "network_config", provider_path, d) else {
        return n;
    };
    check_keys(map, &path, NETWORK_KNOWN, NETWORK_BIFROST, d);
    if let Some(url) = opt_str(map, "base_url", &path, d) {
        n.base_url = read_base_url(&url, &join(&path, "base_url"), d);
    }
    if let Some(headers) = opt_object(map, "extra_headers", &path, d) {
        let h_path = join(&path, "extra_headers");
        for (name, value) in headers {
            let at = join(&h_path, name);
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                d.error(&at, format!("{name:?} is not a valid HTTP header name"), None);
                continue;
            }
            if FORBIDDEN_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                d.error(&at, format!("header `{name}` is managed by the HTTP client and cannot be set"), None);
                continue;
            }
            let Value::String(v) = value else {
                wrong_type(d, &at, "a string", value);
                continue;
            };
            if let Some(resolved) = check_env(v, &at, env, d) {
                // `HeaderValue` takes any byte above 0x7f; upstreams read such values differently.
                if !resolved.is_ascii() || http::HeaderValue::from_str(&resolved).is_err() {
                    // Never echo the value: it may be a secret.
                    d.error(&at, "value is not a valid HTTP header value (control characters or non-ASCII)", None);
                }
            }
            n.extra_headers.insert(name.clone(), v.clone());
        }
    }
    if let Some(v) = opt_int(map, "default_request_timeout_in_seconds", &path, 1, 86_400, d) {
        n.default_request_timeout_in_seconds = v;
    }
    if let Some(v) = opt_int(map, "max_retries", &path, 0, 10, d) {
        n.max_retries = u32::try_from(v).unwrap_or(10);
    }
    if let Some(v) = read_millis(map, &path, "retry_backoff_initial", d) {
        n.retry_backoff_initial = v;
    }
    if let Some(v) = read_millis(map, &path, "retry_backoff_max", d) {
        n.retry_backoff_max = v;
    }
    if n.retry_backoff_initial > n.retry_backoff_max {
        d.error(
            &join(&path, "retry_backoff_initial"),
            format!(
                "initial backoff ({} ms) exceeds retry_backoff_max ({} ms)",
                n.retry_backoff_initial, n.retry_backoff_max
            ),
            None,
        );
    }
    if let Some(v) = opt_int(map, "stream_idle_timeout_in_seconds", &path, 1, 86_400, d) {
        n.stream_idle_timeout_in_seconds = v;
    }
    if let Some(v) = opt_int(map, "keep_alive_timeout_in_seconds", &path, 1, 3_600, d) {
        n.keep_alive_timeout_in_seconds = v;
    }
    if let Some(v) = opt_int(map, "max_conns_per_host", &path, 1, 10_000, d) {
        n.max_conns_per_host = usize::try_from(v).unwrap_or(10_000);
    }
    if let Some(v) = opt_bool(map, "enforce_http2", &path, d) {
        n.enforce_http2 = v;
    }
    if let Some(v) = opt_int(map, "max_response_body_size_mb", &path, 1, 4_096, d) {
        n.max_response_body_size_mb = v;
    }
    if let Some(v) = opt_int(map, "max_stream_event_size_kb", &path, 1, 1_048_576, d) {
        n.max_stream_event_size_kb = v;
    }
    n.oauth = super::oauth::read_oauth(map, &path, env, d);
    n.databricks_request_tags = opt_bool(map, "databricks_request_tags", &path, d);
    if n.oauth.is_some() && n.extra_headers.keys().any(|h| h.eq_ignore_ascii_case("authorization")) {
        d.error(
            &join(&path, "oauth"),
            "is set together with an Authorization extra header: each would replace the other's credentials",
            Some("keep oauth (tokens fetched and refreshed for you) or the static header, not both".into()),
        );
    }
    n
}

fn read_base_url(url: &str, at: &str, d: &mut Diags) -> Option<String> {
    // Never echo a URL that carries credentials.
    let shown = crate::redact::url(url);
    match parse_http_url(url) {
        Ok(u) => {
            if url.contains(['{', '}']) {
                d.error(
                    at,
                    "must not contain `{` or `}`: the base URL is shared by every request type, the model list included",
                    Some(format!(
                        "to put the model in the path, set custom_provider_config.request_path_overrides.chat_completion to a path or URL with {}",
                        crate::url_rule::MODEL
                    )),
                );
            }
            if u.query().is_some() || u.fragment().is_some() {
                d.error(
                    at,
                    "must not carry a query string or fragment",
                    Some("put query parameters in a request_path_overrides URL".into()),
                );
            }
            Some(url.trim_end_matches('/').to_string())
        }
        Err(why) => {
            d.error(
                at,
                format!("{shown:?} {why}"),
                Some("for example https://<workspace-id>.ai-gateway.cloud.databricks.com/mlflow".into()),
            );
            None
        }
    }
}

/// A backoff in milliseconds: `key` or `key_ms` (Bifrost's docs use both), as a
/// number or a duration string such as "500ms" / "2s".
fn read_millis(map: &Map<String, Value>, path: &str, key: &str, d: &mut Diags) -> Option<u64> {
    let ms_key = format!("{key}_ms");
    if map.contains_key(key) && map.contains_key(&ms_key) {
        d.error(&join(path, &ms_key), format!("both `{key}` and `{ms_key}` are set"), Some("keep one".into()));
        return None;
    }
    let k = if map.contains_key(&ms_key) { ms_key.as_str() } else { key };
    let at = join(path, k);
    match map.get(k)? {
        Value::Number(_) => opt_int(map, k, path, 1, 600_000, d),
        Value::String(s) => match parse_duration_ms(s) {
            Some(v) if (1..=600_000).contains(&v) => Some(v),
            _ => {
                d.error(
                    &at,
                    format!("{s:?} is not a duration from 1ms to 600s"),
                    Some("milliseconds as a number, or a string like \"500ms\" or \"2s\"".into()),
                );
                None
            }
        },
        Value::Null => None,
        other => {
            wrong_type(d, &at, "milliseconds", other);
            None
        }
    }
}

fn parse_duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(n) = s.strip_suffix("ms") {
        return n.trim().parse().ok();
    }
    if let Some(n) = s.strip_suffix('s') {
        let secs: f64 = n.trim().parse().ok()?;
        return (secs >= 0.0).then_some((secs * 1000.0).round() as u64);
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn non_ascii_header_values_are_refused() {
        let text = r#"{"providers": {"p": {"network_config": {"base_url": "https://h.example", "extra_headers": {"X-A": "caf\u00e9"}},
            "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}}}}"#;
        let env = std::collections::HashMap::<String, String>::new();
        let err = crate::config::GatewayConfig::parse(text, &env).unwrap_err();
        assert!(err.to_string().contains("non-ASCII"), "{err}");
        assert!(!err.to_string().contains("caf"), "the value is never echoed: {err}");
    }
}
