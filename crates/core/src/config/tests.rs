//! Config validation: every message, with its path and hint.

use std::collections::HashMap;

use serde_json::json;

use super::*;

fn env() -> HashMap<String, String> {
    [("DATABRICKS_TOKEN".to_string(), "dapi-1".to_string()), ("KEY".to_string(), "sk-1".to_string())].into()
}

fn parse(v: serde_json::Value) -> Result<(GatewayConfig, Vec<ConfigDiagnostic>), ConfigError> {
    GatewayConfig::parse(&v.to_string(), &env())
}

/// The diagnostics as `severity path: message (hint)` lines.
fn lines(v: serde_json::Value) -> Vec<String> {
    match parse(v) {
        Ok((_, warnings)) => warnings.iter().map(ToString::to_string).collect(),
        Err(e) => e.diagnostics.iter().map(ToString::to_string).collect(),
    }
}

fn custom(extra: serde_json::Value) -> serde_json::Value {
    let mut p = json!({
        "network_config": {"base_url": "https://gw.example/mlflow"},
        "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}
    });
    merge(&mut p, extra);
    json!({"providers": {"p": p}})
}

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    match (into, from) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

#[test]
fn the_databricks_example_is_valid_without_warnings() {
    let text = include_str!("../../../../examples/databricks.json");
    let (config, warnings) = GatewayConfig::parse(text, &env()).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let mlflow = &config.providers["databricks-mlflow"];
    assert_eq!(mlflow.base_format("databricks-mlflow"), BaseFormat::Openai);
    assert!(mlflow.is_key_less());
    let c = mlflow.custom_provider_config.as_ref().unwrap();
    assert!(c.request_path_overrides[&RequestType::ListModels].ends_with("/api/2.1/unity-catalog/models"));
    assert_eq!(
        mlflow.network_config.extra_headers["Authorization"], "Bearer env.DATABRICKS_TOKEN",
        "stored unresolved"
    );
    let anthropic = &config.providers["databricks-anthropic"];
    assert!(
        !anthropic.custom_provider_config.as_ref().unwrap().allowed_requests.as_ref().unwrap()
            [&RequestType::ListModels]
    );
}

#[test]
fn defaults_suit_llm_calls() {
    let (config, _) = parse(custom(json!({}))).unwrap();
    let n = &config.providers["p"].network_config;
    assert_eq!(n.default_request_timeout_in_seconds, 600);
    assert_eq!(n.stream_idle_timeout_in_seconds, 300);
    assert_eq!(n.max_retries, 2);
    assert_eq!((n.retry_backoff_initial, n.retry_backoff_max), (500, 8000));
    assert_eq!(config.max_request_body_bytes(), 32 * 1024 * 1024);
}

#[test]
fn unknown_fields_are_errors_with_path_and_did_you_mean() {
    assert_eq!(
        lines(json!({"provders": {}})),
        vec![
            "error: provders: unknown field `provders` (hint: did you mean `providers`?)".to_string(),
            "warning: providers: no providers are configured; every model request will fail until one is added"
                .to_string(),
        ]
    );
    assert_eq!(
        lines(custom(json!({"network_config": {"base_ulr": "https://x"}}))),
        vec!["error: providers.p.network_config.base_ulr: unknown field `base_ulr` (hint: did you mean `base_url`?)"
            .to_string(),]
    );
    let l = lines(custom(json!({"custom_provider_config": {"colour": 1}})));
    assert_eq!(l, vec!["error: providers.p.custom_provider_config.colour: unknown field `colour` (hint: known fields here: base_provider_type, is_key_less, allowed_requests, request_path_overrides)".to_string()]);
}

#[test]
fn bifrost_fields_we_do_not_support_are_accepted_with_a_warning() {
    let (_, warnings) = parse(json!({
        "logs_store": {"enabled": true},
        "client": {"enable_logging": true, "max_request_body_size_mb": 10},
        "providers": {"p": {
            "concurrency_and_buffer_size": {"concurrency": 10, "buffer_size": 100},
            "keys": [{"value": "env.KEY", "weight": 1, "aliases": {"a": "b"}}],
            "network_config": {"base_url": "https://h", "insecure_skip_verify": true},
            "custom_provider_config": {"base_provider_type": "openai", "allowed_requests": {"chat_completion": true, "rerank": true}}
        }}
    }))
    .unwrap();
    let paths: Vec<&str> = warnings.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "logs_store",
            "client.enable_logging",
            "providers.p.concurrency_and_buffer_size",
            "providers.p.custom_provider_config.allowed_requests.rerank",
            "providers.p.network_config.insecure_skip_verify",
            "providers.p.keys[0].aliases",
        ]
    );
    assert!(warnings.iter().all(|w| w.severity == Severity::Warning));
    assert!(warnings[0].message.contains("does not support yet"));
    assert!(warnings[3].message.contains("request type `rerank` is not served by Switchyard yet"));
}

#[test]
fn keyless_and_keyed_rules() {
    assert_eq!(lines(custom(json!({"keys": [{"value": "sk"}]}))), vec![
        "error: providers.p.keys: a keyless provider (is_key_less: true) must not have keys (hint: remove the keys, or set is_key_less to false)".to_string(),
    ]);
    let l = lines(custom(json!({"custom_provider_config": {"is_key_less": false}})));
    assert_eq!(l.len(), 1);
    assert!(
        l[0].starts_with(
            "error: providers.p.keys: this provider needs at least one key (hint: add {\"value\": \"env.MY_API_KEY\"}"
        ),
        "{l:?}"
    );
    let l = lines(custom(
        json!({"custom_provider_config": {"is_key_less": false}, "keys": [{"value": "sk"}], "network_config": {"extra_headers": {"Authorization": "Bearer x"}}}),
    ));
    assert_eq!(l, vec!["warning: providers.p.network_config.extra_headers: sets Authorization on a keyed provider: the extra header wins over the key's `Bearer` header (hint: remove one of them)".to_string()]);
}

#[test]
fn base_url_must_be_http_and_present() {
    for bad in ["ftp://h/x", "not a url", "gw.example.com/mlflow"] {
        let l = lines(custom(json!({"network_config": {"base_url": bad}})));
        assert_eq!(l, vec![format!("error: providers.p.network_config.base_url: {bad:?} is not an http(s) URL (hint: for example https://<workspace-id>.ai-gateway.cloud.databricks.com/mlflow)")]);
    }
    let l = lines(
        json!({"providers": {"p": {"custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}}}}),
    );
    assert_eq!(l.len(), 1);
    assert!(l[0].starts_with("error: providers.p.network_config.base_url: a custom provider needs a base URL"));
    let l = lines(custom(json!({"network_config": {"base_url": "https://h/x?a=1"}})));
    assert!(l[0].contains("must not carry a query string"), "{l:?}");
    let (c, _) = parse(custom(json!({"network_config": {"base_url": "https://h/mlflow/"}}))).unwrap();
    assert_eq!(c.providers["p"].network_config.base_url.as_deref(), Some("https://h/mlflow"), "trailing slash trimmed");
}

#[test]
fn overrides_must_name_a_request_type_and_be_a_path_or_url() {
    let l = lines(custom(json!({"custom_provider_config": {"request_path_overrides": {"chat": "/x"}}})));
    assert_eq!(l, vec!["error: providers.p.custom_provider_config.request_path_overrides.chat: unknown request type `chat` (hint: did you mean `chat_completion`?)".to_string()]);
    let l = lines(custom(
        json!({"custom_provider_config": {"request_path_overrides": {"list_models": "api/2.1/unity-catalog/models"}}}),
    ));
    assert_eq!(l.len(), 1);
    assert!(l[0].starts_with("error: providers.p.custom_provider_config.request_path_overrides.list_models: \"api/2.1/unity-catalog/models\" is neither a path nor an http(s) URL"), "{l:?}");
    let l = lines(custom(json!({"custom_provider_config": {"allowed_requests": {"list_model": true}}})));
    assert_eq!(l, vec!["error: providers.p.custom_provider_config.allowed_requests.list_model: unknown request type `list_model` (hint: did you mean `list_models`?)".to_string()]);
    let l = lines(custom(json!({"custom_provider_config": {"allowed_requests": {"list_models": "yes"}}})));
    assert_eq!(l, vec!["error: providers.p.custom_provider_config.allowed_requests.list_models: must be true or false, got a string".to_string()]);
}

#[test]
fn environment_references_must_resolve() {
    let l = lines(json!({"providers": {"o": {
        "keys": [{"value": "env.NOT_SET_ANYWHERE"}],
        "network_config": {"base_url": "https://h", "extra_headers": {"X-Token": "Bearer env.ALSO_UNSET", "X-Bad": "env.9x"}},
        "custom_provider_config": {"base_provider_type": "openai"}
    }}}));
    assert_eq!(l, vec![
        "error: providers.o.network_config.extra_headers.X-Token: environment variable ALSO_UNSET is not set (hint: export ALSO_UNSET=… before starting Switchyard)".to_string(),
        "error: providers.o.network_config.extra_headers.X-Bad: `env.9x` is not a valid environment variable reference (hint: write env.NAME with NAME made of letters, digits and _)".to_string(),
        "error: providers.o.keys[0].value: environment variable NOT_SET_ANYWHERE is not set (hint: export NOT_SET_ANYWHERE=… before starting Switchyard)".to_string(),
    ]);
}

#[test]
fn every_error_is_reported_at_once() {
    let err = parse(json!({"providers": {
        "a": {"network_config": {"base_url": "ftp://x", "max_retries": 99}, "custom_provider_config": {"base_provider_type": "gemini", "is_key_less": true}},
        "b/c": {"custom_provider_config": {"base_provider_type": "opneai", "is_key_less": "yes"}, "network_config": {"base_url": "https://h"}},
        "bedrock": {"keys": [{"value": "k"}]}
    }}))
    .unwrap_err();
    let got: Vec<String> = err.errors().map(ToString::to_string).collect();
    assert_eq!(got, vec![
        "error: providers.a.custom_provider_config.base_provider_type: base format `gemini` is not supported by Switchyard yet (hint: supported: openai, anthropic)".to_string(),
        "error: providers.a.network_config.base_url: \"ftp://x\" is not an http(s) URL (hint: for example https://<workspace-id>.ai-gateway.cloud.databricks.com/mlflow)".to_string(),
        "error: providers.a.network_config.max_retries: must be a whole number from 0 to 10, got 99".to_string(),
        "error: providers.b/c: invalid provider name \"b/c\" (hint: use 1-64 letters, digits, `-`, `_` or `.` (not only dots); no `/`, since clients write `<provider>/<model>`)".to_string(),
        "error: providers.b/c.custom_provider_config.base_provider_type: unknown base format `opneai` (hint: did you mean `openai`?)".to_string(),
        "error: providers.b/c.custom_provider_config.is_key_less: must be true or false, got a string".to_string(),
        "error: providers.bedrock: provider `bedrock` is neither a built-in provider Switchyard supports (openai, anthropic) nor a custom provider (hint: add \"custom_provider_config\": {\"base_provider_type\": \"openai\"} (or \"anthropic\") and a network_config.base_url)".to_string(),
    ]);
    assert!(err.to_string().starts_with("invalid configuration (7 errors)"));
}

#[test]
fn backoff_spellings_units_and_order() {
    let (c, _) =
        parse(custom(json!({"network_config": {"retry_backoff_initial_ms": 250, "retry_backoff_max": "2s"}}))).unwrap();
    assert_eq!(
        (c.providers["p"].network_config.retry_backoff_initial, c.providers["p"].network_config.retry_backoff_max),
        (250, 2000)
    );
    let l = lines(custom(json!({"network_config": {"retry_backoff_initial": 100, "retry_backoff_initial_ms": 100}})));
    assert_eq!(l, vec!["error: providers.p.network_config.retry_backoff_initial_ms: both `retry_backoff_initial` and `retry_backoff_initial_ms` are set (hint: keep one)".to_string()]);
    let l = lines(custom(json!({"network_config": {"retry_backoff_initial": 9000, "retry_backoff_max": 1000}})));
    assert_eq!(l, vec!["error: providers.p.network_config.retry_backoff_initial: initial backoff (9000 ms) exceeds retry_backoff_max (1000 ms)".to_string()]);
    let l = lines(custom(json!({"network_config": {"retry_backoff_max": "soon"}})));
    assert!(l[0].contains("\"soon\" is not a duration"), "{l:?}");
    let l = lines(custom(json!({"network_config": {"max_retries": "3"}})));
    assert_eq!(
        l,
        vec!["error: providers.p.network_config.max_retries: must be a whole number, got a string".to_string()]
    );
}

#[test]
fn header_names_and_client_managed_headers_are_checked() {
    let l = lines(custom(json!({"network_config": {"extra_headers": {"Host": "x", "Bad Header": "y", "X-Num": 5}}})));
    assert_eq!(l, vec![
        "error: providers.p.network_config.extra_headers.Host: header `Host` is managed by the HTTP client and cannot be set".to_string(),
        "error: providers.p.network_config.extra_headers.Bad Header: \"Bad Header\" is not a valid HTTP header name".to_string(),
        "error: providers.p.network_config.extra_headers.X-Num: must be a string, got a number".to_string(),
    ]);
}

#[test]
fn built_in_openai_and_anthropic_need_no_custom_config() {
    let (c, _) = parse(json!({"providers": {"openai": {"keys": [{"value": "env.KEY"}]}, "anthropic": {"keys": [{"value": "sk-ant"}]}}})).unwrap();
    assert_eq!(c.providers["openai"].base_format("openai"), BaseFormat::Openai);
    assert_eq!(c.providers["anthropic"].base_format("anthropic"), BaseFormat::Anthropic);
    let l = lines(json!({"providers": {"openai": {}}}));
    assert!(l[0].starts_with("error: providers.openai.keys: this provider needs at least one key"), "{l:?}");
}

#[test]
fn syntax_errors_say_where() {
    let err = GatewayConfig::parse("{\n  \"providers\": {,}\n}", &env()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("config is not valid JSON") && msg.contains("line 2"), "{msg}");
    let l = lines(json!([1]));
    assert_eq!(l, vec!["error: must be a JSON object with a `providers` field, got an array".to_string()]);
}

#[test]
fn a_provider_serialises_back_to_the_same_config() {
    let text = include_str!("../../../../examples/databricks.json");
    let (config, _) = GatewayConfig::parse(text, &env()).unwrap();
    for (name, p) in &config.providers {
        let value = serde_json::to_value(p).unwrap();
        let (again, warnings) = GatewayConfig::parse_provider(name, &value, &env()).unwrap();
        assert_eq!(&again, p);
        assert!(warnings.is_empty());
    }
    let (keyed, _) = parse(json!({"providers": {"k": {"keys": [{"name": "a", "value": "env.KEY", "models": ["m"], "weight": 2.5, "enabled": false}],
        "network_config": {"base_url": "https://h", "retry_backoff_initial_ms": 100, "enforce_http2": true},
        "custom_provider_config": {"base_provider_type": "anthropic"}}}}))
    .unwrap();
    let p = &keyed.providers["k"];
    let value = serde_json::to_value(p).unwrap();
    assert_eq!(value["keys"][0]["value"], "env.KEY", "secrets stay as references");
    assert_eq!(&GatewayConfig::parse_provider("k", &value, &env()).unwrap().0, p);
}

#[test]
fn parse_provider_checks_the_name_and_shape() {
    let err = GatewayConfig::parse_provider("has space", &json!([]), &env()).unwrap_err();
    let got: Vec<String> = err.errors().map(ToString::to_string).collect();
    assert_eq!(got.len(), 2);
    assert!(got[0].starts_with("error: name: invalid provider name"));
    assert_eq!(got[1], "error: must be an object, got an array");
}

#[test]
fn the_governance_section_reads_settings_and_prices_and_names_what_is_wrong() {
    let (config, warnings) = parse(json!({"providers": {}, "governance": {
        "require_virtual_key": true, "default_output_reservation": 1000,
        "unknown_price": {"default": {"input": 1, "output": 2}},
        "prices": {"db/*claude*": {"input": 3, "output": 15, "cache_read": 0.3}},
        "virtual_keys": []}}))
    .unwrap();
    let g = &config.governance;
    assert!(g.settings.require_virtual_key);
    assert_eq!(g.settings.default_output_reservation, 1000);
    assert!(matches!(&g.settings.unknown_price, UnknownPrice::Default(p) if p.output == 2.0));
    assert_eq!(g.prices.len(), 1);
    assert_eq!((g.prices[0].model.as_str(), g.prices[0].cache_read), ("db/*claude*", Some(0.3)));
    assert!(warnings.iter().any(|w| w.path == "governance.virtual_keys"), "{warnings:?}");

    let problems = lines(json!({"providers": {}, "governance": {
        "require_virtual_keys": true, "unknown_price": "free", "prices": {"m": {"input": -1, "output": 1}}}}));
    let text = problems.join("\n");
    assert!(
        text.contains("governance.require_virtual_keys: unknown field")
            && text.contains("did you mean `require_virtual_key`?"),
        "{text}"
    );
    assert!(text.contains("governance.unknown_price"), "{text}");
    assert!(text.contains("governance.prices.m.input: must be a USD amount"), "{text}");
}

#[test]
fn the_logging_section_is_checked_field_by_field() {
    let mut ok = custom(json!({}));
    merge(&mut ok, json!({"logging": {"payloads": true, "redact_paths": ["messages[*].content"], "max_size_mb": 512}}));
    let (config, warnings) = parse(ok).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(config.logging.payloads);
    assert_eq!((config.logging.payload_max_bytes, config.logging.payload_retention_days), (65536, 7));

    let mut bad = custom(json!({}));
    merge(&mut bad, json!({"logging": {"redact_paths": ["ok.path", "messages[x]"], "retention_days": 0}}));
    let out = lines(bad).join("\n");
    assert!(out.contains("logging.redact_paths[1]") && out.contains("[x]"), "{out}");
    assert!(out.contains("logging.retention_days") && out.contains("at least 1 day"), "{out}");

    let mut typo = custom(json!({}));
    merge(&mut typo, json!({"logging": {"payload": true}}));
    let out = lines(typo).join("\n");
    assert!(out.contains("logging") && out.contains("payload"), "{out}");
    let mut wrong = custom(json!({}));
    merge(&mut wrong, json!({"logging": {"payload_max_bytes": "big"}}));
    assert!(lines(wrong).join("\n").contains("logging.payload_max_bytes"));
}

#[test]
fn oauth_is_checked_field_by_field_and_excludes_other_credentials() {
    let sp = |oauth: serde_json::Value| custom(json!({"network_config": {"oauth": oauth}}));
    let ok =
        sp(json!({"token_url": "https://ws.example/oidc/v1/token", "client_id": "app", "client_secret": "env.KEY",
        "scope": "all-apis"}));
    let (cfg, warnings) = parse(ok).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let o = cfg.providers["p"].network_config.oauth.clone().unwrap();
    assert_eq!((o.client_secret.as_str(), o.client_auth), ("env.KEY", ClientAuth::Basic), "the reference is kept");

    let l = lines(sp(json!({"token_url": "ftp://x", "client_secret": "", "client_auth": "jwt", "audience": "a"})));
    let has = |s: &str| l.iter().any(|x| x.contains(s));
    assert!(has("providers.p.network_config.oauth.token_url: \"ftp://x\" is not an http(s) URL"), "{l:?}");
    assert!(has("providers.p.network_config.oauth.client_id: is required"), "{l:?}");
    assert!(has("providers.p.network_config.oauth.client_secret: is required"), "{l:?}");
    assert!(
        has("providers.p.network_config.oauth.client_auth: \"jwt\" is not a client authentication method"),
        "{l:?}"
    );
    assert!(has("providers.p.network_config.oauth.audience"), "unknown fields are named: {l:?}");
    let l =
        lines(sp(json!({"token_url": "https://ws.example/t", "client_id": "a", "client_secret": "env.UNSET_SECRET"})));
    assert!(l.iter().any(|x| x.contains("oauth.client_secret: environment variable UNSET_SECRET is not set")), "{l:?}");

    let both = custom(json!({"network_config": {"extra_headers": {"Authorization": "Bearer env.DATABRICKS_TOKEN"},
        "oauth": {"token_url": "https://ws.example/t", "client_id": "a", "client_secret": "s"}}}));
    assert!(lines(both).iter().any(|x| x.contains("oauth: is set together with an Authorization extra header")));
    let keyed = custom(json!({"custom_provider_config": {"is_key_less": false}, "keys": [{"value": "sk"}],
        "network_config": {"oauth": {"token_url": "https://ws.example/t", "client_id": "a", "client_secret": "s"}}}));
    assert!(lines(keyed)
        .iter()
        .any(|x| x.contains("providers.p.keys: a provider with network_config.oauth must not have keys")));
    let keyless_off = custom(json!({"custom_provider_config": {"is_key_less": false},
        "network_config": {"oauth": {"token_url": "https://ws.example/t", "client_id": "a", "client_secret": "s"}}}));
    assert!(parse(keyless_off).is_ok(), "an OAuth provider needs no key");
}

#[test]
fn the_unity_ai_gateway_example_is_valid_without_warnings() {
    let text = include_str!("../../../../examples/databricks-unity-ai-gateway.json");
    let env: HashMap<String, String> = [
        ("DATABRICKS_CLIENT_ID".to_string(), "app".to_string()),
        ("DATABRICKS_CLIENT_SECRET".to_string(), "s".to_string()),
    ]
    .into();
    let (config, warnings) = GatewayConfig::parse(text, &env).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let codex = &config.providers["databricks-codex"];
    assert_eq!(codex.base_format("databricks-codex"), BaseFormat::Openai);
    let allowed = codex.custom_provider_config.as_ref().unwrap().allowed_requests.clone().unwrap();
    assert!(allowed[&RequestType::Responses] && !allowed.get(&RequestType::ChatCompletion).copied().unwrap_or(false));
    assert!(config.providers.values().all(|p| p.network_config.oauth.is_some()));
}
