//! `routes`: virtual models. A client sends `"model": "<route>"` (coding
//! agents cannot add body fields, so the name is the whole interface); the
//! gateway picks one target by weight, then tries the route's fallbacks in
//! order.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::reader::{check_keys, did_you_mean, join, opt_f64, opt_str, wrong_type, Diags};
use super::ProviderConfig;
use crate::model_id::split_model;

const ROUTE_KNOWN: &[&str] = &["targets", "fallbacks", "description"];
const TARGET_KNOWN: &[&str] = &["model", "weight"];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteConfig {
    pub targets: Vec<RouteTarget>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteTarget {
    /// `<provider>/<model>`.
    pub model: String,
    pub weight: f64,
}

/// Checks that `model` is `<provider>/<model>` with a configured provider.
fn check_target_model(model: &str, at: &str, providers: &BTreeMap<String, ProviderConfig>, d: &mut Diags) {
    match split_model(model) {
        None => d.error(at, format!("{model:?} is not `<provider>/<model>`"), None),
        Some((p, _)) if !providers.contains_key(p) => {
            let hint = did_you_mean(p, providers.keys().map(String::as_str)).map(|m| format!("did you mean `{m}`?"));
            d.error(at, format!("names provider `{p}`, which is not configured"), hint);
        }
        Some(_) => {}
    }
}

pub(super) fn read_routes(
    value: &Value,
    providers: &BTreeMap<String, ProviderConfig>,
    d: &mut Diags,
) -> BTreeMap<String, RouteConfig> {
    let mut out = BTreeMap::new();
    let Value::Object(routes) = value else {
        wrong_type(d, "routes", "an object keyed by route name", value);
        return out;
    };
    for (name, route) in routes {
        if let Some(route) = read_route(name, route, providers, d) {
            out.insert(name.clone(), route);
        }
    }
    out
}

/// One route, `name` included, reported under `routes.<name>` as in the file.
pub(super) fn read_route(
    name: &str,
    route: &Value,
    providers: &BTreeMap<String, ProviderConfig>,
    d: &mut Diags,
) -> Option<RouteConfig> {
    let path = join("routes", name);
    if providers.contains_key(name) {
        d.error(
            &path,
            format!("route `{name}` has the name of a provider"),
            Some("a model name must mean one thing: rename the route or the provider".into()),
        );
    }
    // Only dots would be a path segment: `/api/routes/..` could never address it.
    if name.is_empty() || name.contains('/') || name.len() > 128 || name.chars().all(|c| c == '.') {
        d.error(&path, format!("invalid route name {name:?}"), Some("1-128 characters, no `/`, not only dots".into()));
    }
    let Value::Object(map) = route else {
        wrong_type(d, &path, "an object with `targets`", route);
        return None;
    };
    check_keys(map, &path, ROUTE_KNOWN, &[], d);
    let targets = read_targets(map, &path, providers, d);
    let fallbacks = read_fallbacks(map, &path, providers, d);
    targets.map(|targets| RouteConfig { targets, fallbacks })
}

fn read_targets(
    map: &Map<String, Value>,
    path: &str,
    providers: &BTreeMap<String, ProviderConfig>,
    d: &mut Diags,
) -> Option<Vec<RouteTarget>> {
    let t_path = join(path, "targets");
    let items = match map.get("targets") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) | None => {
            d.error(
                &t_path,
                "needs at least one target",
                Some("[{\"model\": \"<provider>/<model>\", \"weight\": 1}]".into()),
            );
            return None;
        }
        Some(other) => {
            wrong_type(d, &t_path, "an array of targets", other);
            return None;
        }
    };
    let mut targets = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{t_path}[{i}]");
        let Value::Object(t) = item else {
            wrong_type(d, &at, "an object with `model` and `weight`", item);
            continue;
        };
        check_keys(t, &at, TARGET_KNOWN, &[], d);
        let Some(model) = opt_str(t, "model", &at, d) else {
            if !t.contains_key("model") {
                d.error(&join(&at, "model"), "is required", None);
            }
            continue;
        };
        check_target_model(&model, &join(&at, "model"), providers, d);
        let weight = opt_f64(t, "weight", &at, d).unwrap_or(1.0);
        if !(weight.is_finite() && weight > 0.0) {
            d.error(&join(&at, "weight"), format!("must be more than zero, got {weight}"), None);
        }
        targets.push(RouteTarget { model, weight });
    }
    Some(targets)
}

fn read_fallbacks(
    map: &Map<String, Value>,
    path: &str,
    providers: &BTreeMap<String, ProviderConfig>,
    d: &mut Diags,
) -> Vec<String> {
    let f_path = join(path, "fallbacks");
    let items = match map.get("fallbacks") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            wrong_type(d, &f_path, "an array of `<provider>/<model>` strings", other);
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{f_path}[{i}]");
        match item {
            Value::String(m) => {
                check_target_model(m, &at, providers, d);
                out.push(m.clone());
            }
            other => wrong_type(d, &at, "a `<provider>/<model>` string", other),
        }
    }
    out
}
