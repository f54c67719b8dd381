//! Policies: limits and budgets with a scope, kept apart from the keys and
//! teams they name (TensorZero's rules with Databricks' scopes). Every policy
//! whose scope matches a request applies; a request passes only if all pass.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Which requests a policy counts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Scope {
    /// Every request.
    Global,
    /// Requests made with a key of this team.
    Team(String),
    /// Requests made with this key (its public id).
    Key(String),
    /// `user:*`: one counter per user; `user:<name>`: that user only.
    User(Option<String>),
    /// Requests served by this provider.
    Provider(String),
    /// Requests for a model matching this glob (`<provider>/<model>` or a route name).
    Model(String),
    /// Requests naming this route.
    Route(String),
}

impl Scope {
    pub const FORMS: &'static str =
        "global, team:<name>, key:<id>, user:* (each user), user:<name>, provider:<name>, model:<glob>, route:<name>";
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Global => f.write_str("global"),
            Self::Team(t) => write!(f, "team:{t}"),
            Self::Key(k) => write!(f, "key:{k}"),
            Self::User(None) => f.write_str("user:*"),
            Self::User(Some(u)) => write!(f, "user:{u}"),
            Self::Provider(p) => write!(f, "provider:{p}"),
            Self::Model(m) => write!(f, "model:{m}"),
            Self::Route(r) => write!(f, "route:{r}"),
        }
    }
}

impl TryFrom<String> for Scope {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        if s == "global" {
            return Ok(Self::Global);
        }
        let Some((kind, value)) = s.split_once(':') else {
            return Err(format!("unknown scope {s:?}: one of {}", Self::FORMS));
        };
        if value.is_empty() {
            return Err(format!("scope {s:?} names nothing after `{kind}:`"));
        }
        let v = value.to_string();
        Ok(match kind {
            "team" => Self::Team(v),
            "key" => Self::Key(v),
            "user" if value == "*" => Self::User(None),
            "user" => Self::User(Some(v)),
            "provider" => Self::Provider(v),
            "model" => Self::Model(v),
            "route" => Self::Route(v),
            _ => return Err(format!("unknown scope kind {kind:?}: one of {}", Self::FORMS)),
        })
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> Self {
        s.to_string()
    }
}

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Requests,
    InputTokens,
    OutputTokens,
    TotalTokens,
    /// Requests in flight at once (no `per`).
    Concurrent,
}

impl Metric {
    /// As the API and the counters' keys spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::InputTokens => "input_tokens",
            Self::OutputTokens => "output_tokens",
            Self::TotalTokens => "total_tokens",
            Self::Concurrent => "concurrent",
        }
    }

    pub fn counts_tokens(self) -> bool {
        matches!(self, Self::InputTokens | Self::OutputTokens | Self::TotalTokens)
    }
}

/// The window a rate is measured over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Per {
    Second,
    Minute,
    Hour,
    Day,
}

impl Per {
    pub fn millis(self) -> u64 {
        match self {
            Self::Second => 1_000,
            Self::Minute => 60_000,
            Self::Hour => 3_600_000,
            Self::Day => 86_400_000,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Second => "second",
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
        }
    }
}

/// A rate limit (GCRA: `amount` per `per`, bursts of at most `burst`,
/// `amount` by default), or a cap on requests in flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub metric: Metric,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per: Option<Per>,
    pub amount: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
}

impl Limit {
    /// The limit's counter slot within its policy: `requests.minute`,
    /// `total_tokens.day`, `concurrent.now` (one per metric and window).
    pub fn slot(&self) -> String {
        format!("{}.{}", self.metric.as_str(), self.per.map_or("now", Per::as_str))
    }
}

/// A budget's accounting period, calendar UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    /// Monday 00:00 UTC to the next.
    Week,
    Month,
    /// Never renews: prepaid credit, zeroed only by a reset.
    Total,
}

/// What a budget does when spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnExceed {
    /// Refuse requests whose estimate does not fit (429 `insufficient_quota`).
    #[default]
    Block,
    /// Only send the alerts.
    Alert,
}

/// Spend allowed per period, in USD or in tokens (input + output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_usd: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    pub period: Period,
    #[serde(default)]
    pub on_exceed: OnExceed,
    /// Fractions of the budget (0 < x ≤ 1) at which an alert fires, once per period each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alert_at: Vec<f64>,
    /// Receives a JSON POST per alert (retried; never on the request path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
}

impl Budget {
    /// This budget as the API shows it: a webhook URL often carries its own
    /// secret (Slack's in the path, others in the query), so only its origin shows.
    pub fn redacted(&self) -> Self {
        Self { webhook: self.webhook.as_deref().map(redact_webhook), ..self.clone() }
    }

    /// `self` as sent back by a client: a redacted webhook keeps `stored`'s URL.
    pub fn restored(mut self, stored: Option<&Budget>) -> Self {
        if let (Some(sent), Some(kept)) = (self.webhook.as_deref(), stored.and_then(|b| b.webhook.as_deref())) {
            if sent == redact_webhook(kept) {
                self.webhook = Some(kept.to_string());
            }
        }
        self
    }

    /// The cap, in the budget's unit.
    pub fn max(&self) -> f64 {
        self.max_usd.unwrap_or_else(|| self.max_tokens.unwrap_or(0) as f64)
    }

    pub fn in_usd(&self) -> bool {
        self.max_usd.is_some()
    }
}

/// `https://hooks.example.com/********`: the origin, never the path or query.
pub fn redact_webhook(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.path() == "/" && u.query().is_none() && u.username().is_empty() => url.to_string(),
        Ok(u) => format!("{}/********", u.origin().ascii_serialization()),
        Err(_) => "********".into(),
    }
}

/// `enforce` refuses; `shadow` counts and records what it would have refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Enforce,
    Shadow,
}

/// A policy as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    pub id: String,
    pub name: String,
    pub scope: Scope,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<Limit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Bumped when a change makes old counters meaningless (a new `per`,
    /// `period` or unit); counters of other epochs are ignored.
    #[serde(default)]
    pub epoch: u32,
}

fn yes() -> bool {
    true
}

impl Policy {
    /// Whether `next` measures differently, so usage cannot carry over.
    pub fn measures_differently(&self, next: &Policy) -> bool {
        let shape = |p: &Policy| p.limits.iter().map(|l| (l.metric, l.per)).collect::<Vec<_>>();
        let unit = |p: &Policy| p.budget.as_ref().map(|b| (b.period, b.in_usd()));
        shape(self) != shape(next) || unit(self) != unit(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_their_string_form() {
        for s in ["global", "team:ml", "key:abc", "user:*", "user:ana", "provider:db", "model:db/*", "route:fast"] {
            let scope = Scope::try_from(s.to_string()).unwrap();
            assert_eq!(scope.to_string(), s);
        }
        assert!(Scope::try_from("teams:x".to_string()).unwrap_err().contains("unknown scope kind"));
        assert!(Scope::try_from("team:".to_string()).unwrap_err().contains("names nothing"));
        assert!(Scope::try_from("everyone".to_string()).is_err());
    }

    #[test]
    fn a_new_window_or_unit_is_a_different_measure_but_a_new_amount_is_not() {
        let p: Policy = serde_json::from_value(serde_json::json!({"id": "p", "name": "p", "scope": "global",
            "limits": [{"metric": "requests", "per": "minute", "amount": 10}],
            "budget": {"max_usd": 5.0, "period": "month"}}))
        .unwrap();
        let mut more = p.clone();
        more.limits[0].amount = 20;
        more.budget.as_mut().unwrap().max_usd = Some(9.0);
        assert!(!p.measures_differently(&more));
        let mut hourly = p.clone();
        hourly.limits[0].per = Some(Per::Hour);
        assert!(p.measures_differently(&hourly));
        let mut weekly = p.clone();
        weekly.budget.as_mut().unwrap().period = Period::Week;
        assert!(p.measures_differently(&weekly));
    }
}
