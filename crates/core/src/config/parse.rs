//! Validation of the config JSON into [`GatewayConfig`]. One pass over the
//! tree collects every error and warning; nothing unknown is silently ignored.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::diagnostic::ConfigError;
use super::env::{check_env, EnvResolver};
use super::network::read_network;
use super::reader::{
    check_keys, did_you_mean, join, opt_bool, opt_f64, opt_int, opt_object, opt_str, opt_str_array, wrong_type, Diags,
};
use super::{
    defaults, AnthropicAuth, BetaPolicy, ClientConfig, CustomProviderConfig, GatewayConfig, KeyConfig, ProviderConfig,
    RequestShaping,
};
use crate::request_type::{BaseFormat, RequestType, BIFROST_ONLY_REQUEST_TYPES};
use crate::url_rule::{self, PathOverride};

const ROOT_KNOWN: &[&str] = &["$schema", "providers", "client", "default_provider", "routes", "governance", "logging"];
const ROOT_BIFROST: &[&str] = &[
    "version",
    "source_of_truth",
    "server",
    "encryption_key",
    "env_label",
    "auth_config",
    "framework",
    "alerting",
    "webhooks",
    "mcp",
    "vector_store",
    "config_store",
    "logs_store",
    "skills_registry",
    "plugins",
    "websocket",
    "guardrails_config",
    "audit_logs",
    "cluster_config",
    "load_balancer_config",
    "large_payload_optimization",
    "scim_config",
    "access_profiles",
    "feature_flags",
    "circuit_breaker_config",
];
const CLIENT_KNOWN: &[&str] = &["max_request_body_size_mb"];
const CLIENT_BIFROST: &[&str] = &[
    "drop_excess_requests",
    "initial_pool_size",
    "prometheus_labels",
    "enable_logging",
    "disable_content_logging",
    "log_retention_days",
    "enable_governance",
    "enforce_governance_header",
    "allow_direct_keys",
    "allowed_origins",
    "enable_litellm_fallbacks",
    "disable_db_pings_in_health",
    "header_filter_config",
    "mcp_agent_depth",
];
const PROVIDER_KNOWN: &[&str] = &["keys", "network_config", "custom_provider_config", "request_shaping"];
const SHAPING_KNOWN: &[&str] = &["drop_fields", "default_max_tokens", "anthropic_beta", "anthropic_auth"];
const PROVIDER_BIFROST: &[&str] = &[
    "concurrency_and_buffer_size",
    "proxy_config",
    "send_back_raw_request",
    "send_back_raw_response",
    "store_raw_request_response",
    "openai_config",
    "pricing_overrides",
    "description",
];
const KEY_KNOWN: &[&str] = &["name", "value", "models", "weight", "enabled", "id", "description"];
const KEY_BIFROST: &[&str] = &[
    "aliases",
    "use_for_batch_api",
    "blacklisted_models",
    "use_anthropic_endpoints",
    "azure_key_config",
    "vertex_key_config",
    "bedrock_key_config",
    "bedrock_mantle_key_config",
    "vllm_key_config",
    "ollama_key_config",
    "sgl_key_config",
    "replicate_key_config",
    "huggingface_key_config",
    "config_hash",
    "status",
];
const CUSTOM_KNOWN: &[&str] = &["base_provider_type", "is_key_less", "allowed_requests", "request_path_overrides"];
/// Bifrost base types Switchyard cannot speak (yet).
const BIFROST_BASE_TYPES: &[&str] =
    &["bedrock", "cohere", "gemini", "huggingface", "replicate", "vertex", "azure", "mistral"];
pub(super) fn parse_config(
    text: &str,
    env: &dyn EnvResolver,
) -> Result<(GatewayConfig, Vec<super::ConfigDiagnostic>), ConfigError> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        ConfigError::single(
            String::new(),
            format!("config is not valid JSON: {e}"),
            Some("check for a trailing comma or a missing quote near that position".into()),
        )
    })?;
    let mut d = Diags::default();
    let config = read_root(&root, env, &mut d);
    finish(config, d)
}

pub(super) fn parse_single_provider(
    name: &str,
    value: &Value,
    env: &dyn EnvResolver,
) -> Result<(ProviderConfig, Vec<super::ConfigDiagnostic>), ConfigError> {
    let mut d = Diags::default();
    check_provider_name(name, "name", &mut d);
    let provider = match value {
        Value::Object(map) => read_provider(name, map, "", env, &mut d),
        other => {
            wrong_type(&mut d, "", "an object", other);
            None
        }
    };
    finish(provider, d)
}

pub(super) fn parse_single_route(
    name: &str,
    value: &Value,
    providers: &BTreeMap<String, super::ProviderConfig>,
) -> Result<(super::RouteConfig, Vec<super::ConfigDiagnostic>), ConfigError> {
    let mut d = Diags::default();
    let route = super::routes::read_route(name, value, providers, &mut d);
    finish(route, d)
}

fn finish<T>(value: Option<T>, d: Diags) -> Result<(T, Vec<super::ConfigDiagnostic>), ConfigError> {
    match value {
        Some(v) if !d.has_errors() => Ok((v, d.list)),
        _ => {
            let mut diagnostics = d.list;
            if diagnostics.is_empty() {
                diagnostics.push(super::ConfigDiagnostic {
                    severity: super::Severity::Error,
                    path: String::new(),
                    message: "invalid configuration".into(),
                    hint: None,
                });
            }
            Err(ConfigError { diagnostics })
        }
    }
}

fn read_root(root: &Value, env: &dyn EnvResolver, d: &mut Diags) -> Option<GatewayConfig> {
    let Value::Object(map) = root else {
        wrong_type(d, "", "a JSON object with a `providers` field", root);
        return None;
    };
    check_keys(map, "", ROOT_KNOWN, ROOT_BIFROST, d);
    let mut config = GatewayConfig::default();
    if let Some(client) = opt_object(map, "client", "", d) {
        check_keys(client, "client", CLIENT_KNOWN, CLIENT_BIFROST, d);
        config.client = ClientConfig {
            max_request_body_size_mb: opt_int(client, "max_request_body_size_mb", "client", 1, 4096, d),
        };
    }
    match map.get("providers") {
        None => {
            d.warn("providers", "no providers are configured; every model request will fail until one is added", None)
        }
        Some(Value::Object(providers)) => {
            for (name, value) in providers {
                let path = join("providers", name);
                check_provider_name(name, &path, d);
                match value {
                    Value::Object(p) => {
                        if let Some(p) = read_provider(name, p, &path, env, d) {
                            config.providers.insert(name.clone(), p);
                        }
                    }
                    other => wrong_type(d, &path, "an object", other),
                }
            }
        }
        Some(other) => wrong_type(d, "providers", "an object keyed by provider name", other),
    }
    if let Some(routes) = map.get("routes") {
        config.routes = super::routes::read_routes(routes, &config.providers, d);
    }
    if let Some(governance) = opt_object(map, "governance", "", d) {
        config.governance = super::governance::read_governance(governance, d);
    }
    if let Some(logging) = map.get("logging") {
        config.logging = super::logging::read_logging(logging, d);
    }
    if let Some(default) = opt_str(map, "default_provider", "", d) {
        if !config.providers.contains_key(&default) && map.get("providers").and_then(|p| p.get(&default)).is_none() {
            let hint = did_you_mean(&default, config.providers.keys().map(String::as_str))
                .map(|m| format!("did you mean `{m}`?"));
            d.error("default_provider", format!("names provider `{default}`, which is not configured"), hint);
        }
        config.default_provider = Some(default);
    }
    Some(config)
}

fn check_provider_name(name: &str, path: &str, d: &mut Diags) {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        // `.` and `..` are path segments: `/api/providers/..` could never address them.
        && name.chars().any(|c| c != '.');
    if !valid {
        d.error(
            path,
            format!("invalid provider name {name:?}"),
            Some("use 1-64 letters, digits, `-`, `_` or `.` (not only dots); no `/`, since clients write `<provider>/<model>`".into()),
        );
    }
}

fn read_provider(
    name: &str,
    map: &Map<String, Value>,
    path: &str,
    env: &dyn EnvResolver,
    d: &mut Diags,
) -> Option<ProviderConfig> {
    check_keys(map, path, PROVIDER_KNOWN, PROVIDER_BIFROST, d);
    let custom = opt_object(map, "custom_provider_config", path, d)
        .and_then(|c| read_custom(c, &join(path, "custom_provider_config"), d));
    let custom_present = map.get("custom_provider_config").is_some_and(|v| !v.is_null());
    if !custom_present && BaseFormat::parse(name).is_none() {
        d.error(
            path,
            format!("provider `{name}` is neither a built-in provider Switchyard supports (openai, anthropic) nor a custom provider"),
            Some("add \"custom_provider_config\": {\"base_provider_type\": \"openai\"} (or \"anthropic\") and a network_config.base_url".into()),
        );
    }
    let network = read_network(map, path, env, d);
    let keys = read_keys(map, path, env, d);
    let request_shaping = read_shaping(map, path, d);

    let oauth = network.oauth.is_some();
    let keyless = custom.as_ref().is_some_and(|c| c.is_key_less);
    let keys_path = join(path, "keys");
    if oauth && !keys.is_empty() {
        d.error(
            &keys_path,
            "a provider with network_config.oauth must not have keys: its requests carry the OAuth token",
            Some("remove the keys, or remove network_config.oauth to authenticate with a key".into()),
        );
    }
    if keyless && !keys.is_empty() {
        d.error(
            &keys_path,
            "a keyless provider (is_key_less: true) must not have keys",
            Some("remove the keys, or set is_key_less to false".into()),
        );
    }
    if !keyless && !oauth && keys.is_empty() && (custom.is_some() || !custom_present) {
        d.error(
            &keys_path,
            "this provider needs at least one key",
            Some("add {\"value\": \"env.MY_API_KEY\"} to keys, or set custom_provider_config.is_key_less to true if the upstream needs no key (auth may then go in network_config.extra_headers)".into()),
        );
    }
    if custom_present
        && network.base_url.is_none()
        && map.get("network_config").is_none_or(|n| n.get("base_url").is_none())
    {
        d.error(
            &join(&join(path, "network_config"), "base_url"),
            "a custom provider needs a base URL",
            Some("for example https://<workspace-id>.ai-gateway.cloud.databricks.com/mlflow".into()),
        );
    }
    if !keyless && !keys.is_empty() && network.extra_headers.keys().any(|h| h.eq_ignore_ascii_case("authorization")) {
        d.warn(
            &join(&join(path, "network_config"), "extra_headers"),
            "sets Authorization on a keyed provider: the extra header wins over the key's `Bearer` header",
            Some("remove one of them".into()),
        );
    }
    Some(ProviderConfig { keys, network_config: network, custom_provider_config: custom, request_shaping })
}

fn read_shaping(map: &Map<String, Value>, provider_path: &str, d: &mut Diags) -> RequestShaping {
    let mut s = RequestShaping::default();
    let path = join(provider_path, "request_shaping");
    let Some(map) = opt_object(map, "request_shaping", provider_path, d) else {
        return s;
    };
    check_keys(map, &path, SHAPING_KNOWN, &[], d);
    if let Some(fields) = opt_str_array(map, "drop_fields", &path, d) {
        for (i, f) in fields.iter().enumerate() {
            if crate::shaping::FieldPath::parse(f).is_none() {
                d.error(
                    &format!("{}[{i}]", join(&path, "drop_fields")),
                    format!("{f:?} is not a field path"),
                    Some("dotted names, `[]` for every item of an array: `store`, `tools[].function.strict`".into()),
                );
            }
        }
        s.drop_fields = fields;
    }
    if let Some(v) = opt_int(map, "default_max_tokens", &path, 1, 1_000_000, d) {
        s.default_max_tokens = u32::try_from(v).unwrap_or(u32::MAX);
    }
    match map.get("anthropic_beta") {
        None | Some(Value::Null) => {}
        Some(Value::String(v)) if v == "forward" => s.anthropic_beta = BetaPolicy::Forward,
        Some(Value::String(v)) if v == "drop" => s.anthropic_beta = BetaPolicy::Drop,
        Some(Value::Array(_)) => {
            s.anthropic_beta = BetaPolicy::Allow(opt_str_array(map, "anthropic_beta", &path, d).unwrap_or_default())
        }
        Some(other) => d.error(
            &join(&path, "anthropic_beta"),
            format!("must be \"forward\", \"drop\" or a list of beta names, got {other}"),
            None,
        ),
    }
    match opt_str(map, "anthropic_auth", &path, d).as_deref() {
        None => {}
        Some("x-api-key") => s.anthropic_auth = AnthropicAuth::XApiKey,
        Some("bearer") => s.anthropic_auth = AnthropicAuth::Bearer,
        Some(other) => d.error(
            &join(&path, "anthropic_auth"),
            format!("unknown value {other:?}"),
            Some("\"x-api-key\" or \"bearer\"".into()),
        ),
    }
    s
}

fn read_custom(map: &Map<String, Value>, path: &str, d: &mut Diags) -> Option<CustomProviderConfig> {
    check_keys(map, path, CUSTOM_KNOWN, &[], d);
    let type_path = join(path, "base_provider_type");
    let base = match opt_str(map, "base_provider_type", path, d) {
        None => {
            if !map.contains_key("base_provider_type") {
                d.error(&type_path, "is required", Some("\"openai\" or \"anthropic\"".into()));
            }
            None
        }
        Some(s) => match BaseFormat::parse(&s) {
            Some(f) => Some(f),
            None if BIFROST_BASE_TYPES.contains(&s.as_str()) => {
                d.error(
                    &type_path,
                    format!("base format `{s}` is not supported by Switchyard yet"),
                    Some("supported: openai, anthropic".into()),
                );
                None
            }
            None => {
                let hint = did_you_mean(&s, ["openai", "anthropic"]).map(|m| format!("did you mean `{m}`?"));
                d.error(
                    &type_path,
                    format!("unknown base format `{s}`"),
                    hint.or(Some("supported: openai, anthropic".into())),
                );
                None
            }
        },
    };
    let is_key_less = opt_bool(map, "is_key_less", path, d).unwrap_or(false);

    let allowed_requests = opt_object(map, "allowed_requests", path, d).map(|flags| {
        let flags_path = join(path, "allowed_requests");
        let mut out = BTreeMap::new();
        for (key, value) in flags {
            let at = join(&flags_path, key);
            let Some(t) = request_type_key(key, &at, d) else { continue };
            match value {
                Value::Bool(b) => {
                    out.insert(t, *b);
                }
                other => wrong_type(d, &at, "true or false", other),
            }
        }
        out
    });

    let mut request_path_overrides = BTreeMap::new();
    if let Some(overrides) = opt_object(map, "request_path_overrides", path, d) {
        let o_path = join(path, "request_path_overrides");
        for (key, value) in overrides {
            let at = join(&o_path, key);
            let Some(t) = request_type_key(key, &at, d) else { continue };
            let Value::String(s) = value else {
                wrong_type(d, &at, "a path or URL string", value);
                continue;
            };
            if PathOverride::parse(s).is_none() {
                d.error(
                    &at,
                    format!("{s:?} is neither a path nor an http(s) URL"),
                    Some("write a path starting with `/` (appended to base_url), or a full URL such as https://<workspace>/api/2.1/unity-catalog/models".into()),
                );
                continue;
            }
            if let Some(found) = url_rule::unknown_placeholder(s) {
                d.error(
                    &at,
                    format!("{found:?} is not a placeholder Switchyard fills"),
                    Some(format!("the only placeholder is {}: the upstream model name, URL-encoded", url_rule::MODEL)),
                );
                continue;
            }
            if t == RequestType::ListModels && url_rule::has_model(s) {
                d.error(
                    &at,
                    format!("the model list names no model to put in place of {}", url_rule::MODEL),
                    Some("give the list's URL without it".into()),
                );
                continue;
            }
            if t == RequestType::ListModels {
                if let Some(problem) = url_rule::unity_catalog_filter_problem(s) {
                    d.error(&at, problem, Some("add catalog_name=<catalog> before schema_name, e.g. ?catalog_name=main&schema_name=default".into()));
                    continue;
                }
            }
            if let Some(f) = base {
                if t.default_path(f).is_none() && !s.starts_with("http") {
                    d.warn(
                        &at,
                        format!("the {f} base format has no standard {t} endpoint; this path is used as given"),
                        None,
                    );
                }
            }
            request_path_overrides.insert(t, s.clone());
        }
    }
    Some(CustomProviderConfig { base_provider_type: base?, is_key_less, allowed_requests, request_path_overrides })
}

/// A request-type key: known → Some; Bifrost-only → warning; else error with a hint.
fn request_type_key(key: &str, at: &str, d: &mut Diags) -> Option<RequestType> {
    if let Some(t) = RequestType::parse(key) {
        return Some(t);
    }
    if BIFROST_ONLY_REQUEST_TYPES.contains(&key) {
        d.warn(at, format!("request type `{key}` is not served by Switchyard yet; ignored"), None);
        return None;
    }
    let hint = did_you_mean(key, RequestType::ALL.iter().map(|t| t.as_str()))
        .map(|m| format!("did you mean `{m}`?"))
        .unwrap_or_else(|| format!("request types: {}", RequestType::ALL.map(|t| t.as_str()).join(", ")));
    d.error(at, format!("unknown request type `{key}`"), Some(hint));
    None
}

fn read_keys(map: &Map<String, Value>, path: &str, env: &dyn EnvResolver, d: &mut Diags) -> Vec<KeyConfig> {
    let k_path = join(path, "keys");
    let items = match map.get("keys") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            wrong_type(d, &k_path, "an array of keys", other);
            return Vec::new();
        }
    };
    let mut keys = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{k_path}[{i}]");
        let Value::Object(k) = item else {
            wrong_type(d, &at, "an object", item);
            continue;
        };
        check_keys(k, &at, KEY_KNOWN, KEY_BIFROST, d);
        let value = opt_str(k, "value", &at, d);
        match &value {
            None if !k.contains_key("value") => d.error(
                &join(&at, "value"),
                "is required",
                Some("the API key, or \"env.NAME\" to read it from the environment".into()),
            ),
            Some(v) if v.is_empty() => d.error(&join(&at, "value"), "is empty", None),
            Some(v) => {
                if let Some(resolved) = check_env(v, &join(&at, "value"), env, d) {
                    if resolved.is_empty() || http::HeaderValue::from_str(&resolved).is_err() {
                        d.error(&join(&at, "value"), "resolves to an empty or invalid key", None);
                    }
                }
            }
            None => {}
        }
        let weight = opt_f64(k, "weight", &at, d).unwrap_or(defaults::KEY_WEIGHT);
        if !(weight.is_finite() && weight >= 0.0) {
            d.error(&join(&at, "weight"), format!("must be zero or more, got {weight}"), None);
        }
        keys.push(KeyConfig {
            name: opt_str(k, "name", &at, d),
            value: value.unwrap_or_default(),
            models: opt_str_array(k, "models", &at, d).unwrap_or_default(),
            weight,
            enabled: opt_bool(k, "enabled", &at, d).unwrap_or(true),
        });
        let _ = (opt_str(k, "id", &at, d), opt_str(k, "description", &at, d));
    }
    keys
}
