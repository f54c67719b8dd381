//! The config file's `governance` section: settings and the price table.
//! (Keys, teams and policies live in the store, edited through the API.)
//! The types are the file format; [`crate::governance`] uses them as they are.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::diagnostic::{ConfigDiagnostic, Severity};
use super::reader::{join, Diags};

/// USD per million tokens for the models a glob matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// `<provider>/<model>` glob (`databricks-anthropic/*claude-sonnet*`);
    /// absent in `unknown_price.default`, which prices every unpriced model.
    #[serde(default)]
    pub model: String,
    pub input: f64,
    pub output: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
}

/// What to do with a model that has no price under a USD budget.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownPrice {
    /// Refuse the request, naming the model (the default).
    #[default]
    Reject,
    /// Price it at this rate (`model` is ignored).
    Default(Price),
}

/// The `governance` settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GovernanceSettings {
    /// Refuse inference without a valid virtual key (401).
    pub require_virtual_key: bool,
    /// Output tokens reserved when a request names no `max_tokens`-like limit.
    pub default_output_reservation: u64,
    /// A model without a price under a USD budget: `"reject"` or `{"default": {price}}`.
    pub unknown_price: UnknownPrice,
    /// How long a rotated key's old secret keeps working, by default.
    pub rotation_grace_secs: u64,
}

impl Default for GovernanceSettings {
    fn default() -> Self {
        Self {
            require_virtual_key: false,
            default_output_reservation: 4096,
            unknown_price: UnknownPrice::Reject,
            rotation_grace_secs: 24 * 3600,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct GovernanceConfig {
    pub settings: GovernanceSettings,
    /// File-managed prices, by model glob.
    pub prices: Vec<Price>,
}

impl GovernanceConfig {
    pub(super) fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

const KNOWN: &[&str] =
    &["require_virtual_key", "default_output_reservation", "unknown_price", "rotation_grace_secs", "prices"];
/// Bifrost's governance entities: Switchyard keeps its own in the store.
const BIFROST: &[&str] =
    &["virtual_keys", "teams", "customers", "budgets", "rate_limits", "model_configs", "providers", "auth_config"];

fn typed<T: for<'de> Deserialize<'de>>(value: &Value, path: &str, d: &mut Diags) -> Option<T> {
    match serde_path_to_error::deserialize(value) {
        Ok(v) => Some(v),
        Err(e) => {
            let at = e.path().to_string();
            let at = if at == "." { path.to_string() } else { join(path, &at) };
            d.error(&at, e.into_inner().to_string(), None);
            None
        }
    }
}

/// Checks one price's amounts under `path`.
pub fn check_price(p: &Price, path: &str, out: &mut Vec<ConfigDiagnostic>) {
    let mut error = |field: &str, message: String, hint: Option<&str>| {
        out.push(ConfigDiagnostic {
            severity: Severity::Error,
            path: join(path, field),
            message,
            hint: hint.map(str::to_string),
        })
    };
    if p.model.trim().is_empty() {
        error(
            "model",
            "must not be empty".into(),
            Some("`<provider>/<model>` or a glob such as `databricks-anthropic/*claude-sonnet*`"),
        );
    }
    for (field, v) in [
        ("input", Some(p.input)),
        ("output", Some(p.output)),
        ("cache_read", p.cache_read),
        ("cache_write", p.cache_write),
    ] {
        if let Some(v) = v.filter(|v| !(v.is_finite() && *v >= 0.0)) {
            error(field, format!("must be a USD amount per million tokens, 0 or more, got {v}"), None);
        }
    }
}

pub(super) fn read_governance(map: &Map<String, Value>, d: &mut Diags) -> GovernanceConfig {
    let mut out = GovernanceConfig::default();
    for key in map.keys() {
        if BIFROST.contains(&key.as_str()) {
            d.warn(
                &join("governance", key),
                "is Bifrost's governance entity list; Switchyard keeps keys, teams and policies in its store",
                Some(
                    "create them with POST /api/keys, /api/teams, /api/policies (or the UI's Governance pages)".into(),
                ),
            );
        }
    }
    let ours: Map<String, Value> =
        map.iter().filter(|(k, _)| !BIFROST.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut settings_map = ours.clone();
    let prices = settings_map.remove("prices");
    for key in ours.keys().filter(|k| !KNOWN.contains(&k.as_str())) {
        let hint = super::reader::did_you_mean(key, KNOWN.iter().copied()).map(|s| format!("did you mean `{s}`?"));
        d.error(
            &join("governance", key),
            format!("unknown field `{key}`"),
            hint.or_else(|| Some(format!("known fields here: {}", KNOWN.join(", ")))),
        );
        settings_map.remove(key);
    }
    if let Some(mut s) = typed::<GovernanceSettings>(&Value::Object(settings_map), "governance", d) {
        if let UnknownPrice::Default(p) = &mut s.unknown_price {
            // It prices whatever nothing else does: its own `model` means nothing.
            p.model = "*".into();
            check_price(p, "governance.unknown_price.default", &mut d.list);
        }
        out.settings = s;
    }
    match prices {
        None | Some(Value::Null) => {}
        Some(Value::Object(by_model)) => {
            for (model, v) in by_model {
                let path = join("governance.prices", &model);
                let mut entry = v.clone();
                if let Value::Object(o) = &mut entry {
                    o.insert("model".into(), Value::String(model.clone()));
                }
                if let Some(p) = typed::<Price>(&entry, &path, d) {
                    check_price(&p, &path, &mut d.list);
                    out.prices.push(p);
                }
            }
        }
        Some(_) => d.error(
            "governance.prices",
            "must be an object keyed by model glob",
            Some(r#"{"databricks-anthropic/*claude-sonnet*": {"input": 3, "output": 15}}"#.into()),
        ),
    }
    out
}
