//! Reading governance bodies (policies, the key and team shorthands, prices)
//! from JSON: every problem at once, each with its field path and a hint.

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::policy::{Budget, Limit, Metric, Mode, Per, Scope};
use crate::config::{ConfigDiagnostic, Severity};

pub type Diagnostics = Vec<ConfigDiagnostic>;

pub(crate) fn error(path: impl Into<String>, message: impl Into<String>, hint: Option<&str>) -> ConfigDiagnostic {
    ConfigDiagnostic {
        severity: Severity::Error,
        path: path.into(),
        message: message.into(),
        hint: hint.map(str::to_string),
    }
}

fn join(prefix: &str, path: &str) -> String {
    match (prefix.is_empty(), path.is_empty() || path == ".") {
        (_, true) => prefix.to_string(),
        (true, false) => path.to_string(),
        (false, false) => format!("{prefix}.{path}"),
    }
}

/// Deserialises `value`, naming the field at fault under `prefix`.
pub(crate) fn typed<T: DeserializeOwned>(value: &Value, prefix: &str) -> Result<T, Diagnostics> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = join(prefix, &e.path().to_string());
        let message = e.into_inner().to_string();
        vec![error(path, message, None)]
    })
}

/// A policy's editable fields, as `POST /api/policies` takes them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    pub name: Option<String>,
    pub scope: Scope,
    #[serde(default)]
    pub limits: Vec<Limit>,
    pub budget: Option<Budget>,
    #[serde(default)]
    pub mode: Mode,
    pub enabled: Option<bool>,
}

/// `rate_limit` on a key or a team: `requests_per_minute`, `tokens_per_day`, …
#[derive(Debug, Clone, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitShorthand {
    pub requests_per_second: Option<u64>,
    pub requests_per_minute: Option<u64>,
    pub requests_per_hour: Option<u64>,
    pub requests_per_day: Option<u64>,
    pub tokens_per_second: Option<u64>,
    pub tokens_per_minute: Option<u64>,
    pub tokens_per_hour: Option<u64>,
    pub tokens_per_day: Option<u64>,
    pub input_tokens_per_minute: Option<u64>,
    pub input_tokens_per_day: Option<u64>,
    pub output_tokens_per_minute: Option<u64>,
    pub output_tokens_per_day: Option<u64>,
    pub concurrent_requests: Option<u64>,
}

impl RateLimitShorthand {
    /// The limits it stands for, in a fixed order.
    pub fn limits(&self) -> Vec<Limit> {
        let rate = |metric, per, amount: Option<u64>| {
            amount.map(|amount| Limit { metric, per: Some(per), amount, burst: None })
        };
        [
            rate(Metric::Requests, Per::Second, self.requests_per_second),
            rate(Metric::Requests, Per::Minute, self.requests_per_minute),
            rate(Metric::Requests, Per::Hour, self.requests_per_hour),
            rate(Metric::Requests, Per::Day, self.requests_per_day),
            rate(Metric::TotalTokens, Per::Second, self.tokens_per_second),
            rate(Metric::TotalTokens, Per::Minute, self.tokens_per_minute),
            rate(Metric::TotalTokens, Per::Hour, self.tokens_per_hour),
            rate(Metric::TotalTokens, Per::Day, self.tokens_per_day),
            rate(Metric::InputTokens, Per::Minute, self.input_tokens_per_minute),
            rate(Metric::InputTokens, Per::Day, self.input_tokens_per_day),
            rate(Metric::OutputTokens, Per::Minute, self.output_tokens_per_minute),
            rate(Metric::OutputTokens, Per::Day, self.output_tokens_per_day),
            self.concurrent_requests.map(|amount| Limit { metric: Metric::Concurrent, per: None, amount, burst: None }),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The shorthand of `limits`, when they have one (what the key view shows).
    pub fn of(limits: &[Limit]) -> Self {
        let mut s = Self::default();
        for l in limits {
            if l.burst.is_some() {
                continue;
            }
            let slot = match (l.metric, l.per) {
                (Metric::Requests, Some(Per::Second)) => &mut s.requests_per_second,
                (Metric::Requests, Some(Per::Minute)) => &mut s.requests_per_minute,
                (Metric::Requests, Some(Per::Hour)) => &mut s.requests_per_hour,
                (Metric::Requests, Some(Per::Day)) => &mut s.requests_per_day,
                (Metric::TotalTokens, Some(Per::Second)) => &mut s.tokens_per_second,
                (Metric::TotalTokens, Some(Per::Minute)) => &mut s.tokens_per_minute,
                (Metric::TotalTokens, Some(Per::Hour)) => &mut s.tokens_per_hour,
                (Metric::TotalTokens, Some(Per::Day)) => &mut s.tokens_per_day,
                (Metric::InputTokens, Some(Per::Minute)) => &mut s.input_tokens_per_minute,
                (Metric::InputTokens, Some(Per::Day)) => &mut s.input_tokens_per_day,
                (Metric::OutputTokens, Some(Per::Minute)) => &mut s.output_tokens_per_minute,
                (Metric::OutputTokens, Some(Per::Day)) => &mut s.output_tokens_per_day,
                (Metric::Concurrent, None) => &mut s.concurrent_requests,
                _ => continue,
            };
            *slot = Some(l.amount);
        }
        s
    }
}

/// Checks limits (amounts, windows, duplicates) under `path`.
pub fn check_limits(limits: &[Limit], path: &str, out: &mut Diagnostics) {
    let mut seen = Vec::new();
    for (i, l) in limits.iter().enumerate() {
        let at = format!("{path}[{i}]");
        if l.amount == 0 {
            out.push(error(format!("{at}.amount"), "must be at least 1", Some("to block everything, disable the key")));
        }
        match (l.metric, l.per) {
            (Metric::Concurrent, Some(_)) => out.push(error(
                format!("{at}.per"),
                "a concurrent limit has no window",
                Some("remove `per`: it caps requests in flight at once"),
            )),
            (Metric::Concurrent, None) => {}
            (_, None) => out.push(error(format!("{at}.per"), "is required", Some("one of second, minute, hour, day"))),
            _ => {}
        }
        if l.burst == Some(0) {
            out.push(error(format!("{at}.burst"), "must be at least 1", None));
        }
        if l.metric == Metric::Concurrent && l.burst.is_some() {
            out.push(error(format!("{at}.burst"), "a concurrent limit has no burst", None));
        }
        if seen.contains(&(l.metric, l.per)) {
            out.push(error(
                at.clone(),
                format!("a second {} limit per {}", l.metric.as_str(), l.per.map_or("request in flight", Per::as_str)),
                Some("one limit per metric and window: remove one"),
            ));
        }
        seen.push((l.metric, l.per));
    }
}

/// Checks a budget under `path`.
pub fn check_budget(b: &Budget, path: &str, out: &mut Diagnostics) {
    match (b.max_usd, b.max_tokens) {
        (Some(_), Some(_)) => out.push(error(
            path,
            "has both `max_usd` and `max_tokens`",
            Some("a budget counts one unit: make two policies for both"),
        )),
        (None, None) => out.push(error(path, "needs `max_usd` or `max_tokens`", None)),
        (Some(usd), None) if !(usd.is_finite() && usd > 0.0) => {
            out.push(error(format!("{path}.max_usd"), format!("must be a positive amount, got {usd}"), None))
        }
        (None, Some(0)) => out.push(error(format!("{path}.max_tokens"), "must be at least 1", None)),
        _ => {}
    }
    for (i, a) in b.alert_at.iter().enumerate() {
        if !(a.is_finite() && *a > 0.0 && *a <= 1.0) {
            out.push(error(
                format!("{path}.alert_at[{i}]"),
                format!("must be a fraction in (0, 1], got {a}"),
                Some("0.8 alerts at 80 % of the budget"),
            ));
        }
    }
    if let Some(url) = &b.webhook {
        match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => out.push(error(format!("{path}.webhook"), format!("{url:?} is not an http(s) URL"), None)),
        }
    } else if !b.alert_at.is_empty() {
        out.push(error(
            format!("{path}.webhook"),
            "is required when `alert_at` is set",
            Some("the URL alerts are POSTed to"),
        ));
    }
}

/// A policy body, checked. `prefix` is where it sits in the request body.
pub fn check_policy(body: &PolicyBody, prefix: &str, out: &mut Diagnostics) {
    let at = |f: &str| join(prefix, f);
    if body.limits.is_empty() && body.budget.is_none() {
        out.push(error(prefix, "a policy needs `limits`, a `budget`, or both", None));
    }
    check_limits(&body.limits, &at("limits"), out);
    if let Some(b) = &body.budget {
        check_budget(b, &at("budget"), out);
    }
    if let Some(name) = &body.name {
        if name.trim().is_empty() {
            out.push(error(at("name"), "must not be empty", None));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(v: Value) -> Diagnostics {
        match typed::<PolicyBody>(&v, "") {
            Err(d) => d,
            Ok(b) => {
                let mut out = Vec::new();
                check_policy(&b, "", &mut out);
                out
            }
        }
    }

    fn paths(d: &Diagnostics) -> Vec<&str> {
        d.iter().map(|d| d.path.as_str()).collect()
    }

    #[test]
    fn every_bad_field_is_named_by_its_path() {
        let d = policy(json!({"scope": "global", "limits": [
            {"metric": "requests", "per": "minute", "amount": 0},
            {"metric": "requests", "per": "minute", "amount": 5},
            {"metric": "concurrent", "per": "second", "amount": 2},
            {"metric": "total_tokens", "amount": 2}],
            "budget": {"max_usd": -1.0, "period": "month", "alert_at": [1.5]}}));
        assert_eq!(
            paths(&d),
            [
                "limits[0].amount",
                "limits[1]",
                "limits[2].per",
                "limits[3].per",
                "budget.max_usd",
                "budget.alert_at[0]",
                "budget.webhook"
            ]
        );
    }

    #[test]
    fn type_errors_name_the_field() {
        let d = policy(json!({"scope": "global", "limits": [{"metric": "requests", "per": "fortnight", "amount": 1}]}));
        assert_eq!(paths(&d), ["limits[0].per"]);
        assert!(d[0].message.contains("fortnight"), "{}", d[0].message);
        let d = policy(json!({"scope": "galaxy", "budget": {"max_tokens": 5, "period": "day"}}));
        assert_eq!(paths(&d), ["scope"]);
        let d = policy(json!({"scope": "global", "limit": []}));
        assert!(d[0].message.contains("unknown field `limit`"), "{}", d[0].message);
        let d = policy(json!({"scope": "global", "budget": {"max_usd": 1.0, "period": "year"}}));
        assert_eq!(paths(&d), ["budget.period"]);
    }

    #[test]
    fn a_budget_counts_one_unit() {
        assert_eq!(
            paths(&policy(json!({"scope": "global", "budget": {"max_usd": 1.0, "max_tokens": 9, "period": "day"}}))),
            ["budget"]
        );
        assert_eq!(paths(&policy(json!({"scope": "global"}))), [""]);
    }

    #[test]
    fn the_shorthand_round_trips() {
        let s: RateLimitShorthand = serde_json::from_value(
            json!({"requests_per_minute": 60, "tokens_per_minute": 100000, "concurrent_requests": 4}),
        )
        .unwrap();
        let limits = s.limits();
        assert_eq!(limits.len(), 3);
        assert_eq!(RateLimitShorthand::of(&limits), s);
    }
}
