//! Policies through the API, their reset and live state, and the policies
//! the key and team shorthands (`rate_limit`, `budget`) stand for.
//!
//! Editing a policy never zeroes its usage: a new amount keeps the counters;
//! a new window, period or unit starts a new epoch (the old counters would
//! mean something else) and says so in a warning. Only `reset` zeroes.

use serde::Serialize;
use serde_json::Value;

use super::GovernanceService;
use crate::config::{ConfigDiagnostic, Severity};
use crate::config_service::{ConfigError, Entity};
use crate::governance::limiter::CounterState;
use crate::governance::period::{self, now_ms};
use crate::governance::policy::{Budget, Mode, Policy, Scope};
use crate::governance::validate::{check_budget, check_policy, error, typed, PolicyBody, RateLimitShorthand};

/// A policy as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyView {
    #[serde(flatten)]
    pub policy: Policy,
    /// Set when the policy stands for a key's or a team's `rate_limit`/`budget`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// Where a policy's counters stand now.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyState {
    pub policy: String,
    pub counters: Vec<CounterView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CounterView {
    /// `requests.minute`, `total_tokens.day`, `concurrent.now`, `budget`.
    pub slot: String,
    /// The user, for a `user:*` policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The limit's amount or the budget's maximum.
    pub limit: f64,
    pub used: f64,
    pub remaining: f64,
    /// Reserved by requests in flight (budgets, slots).
    pub in_flight: f64,
    /// When the counter is full again (rates) or the period renews (budgets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<String>,
}

fn warning(path: &str, message: &str) -> ConfigDiagnostic {
    ConfigDiagnostic { severity: Severity::Warning, path: path.into(), message: message.into(), hint: None }
}

/// The id of the policy a key's or team's shorthand stands for.
pub(super) fn owned_id(scope: &Scope) -> String {
    match scope {
        Scope::Key(k) => format!("key-{k}"),
        Scope::Team(t) => format!("team-{t}"),
        other => other.to_string(),
    }
}

impl GovernanceService {
    pub async fn list_policies(&self) -> Result<Vec<PolicyView>, ConfigError> {
        Ok(self.store.list_policies().await?.into_iter().map(view).collect())
    }

    pub async fn get_policy(&self, id: &str) -> Result<PolicyView, ConfigError> {
        self.policy(id).await.map(view)
    }

    async fn policy(&self, id: &str) -> Result<Policy, ConfigError> {
        self.store
            .list_policies()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| ConfigError::NotFound(Entity::Policy, id.to_string()))
    }

    /// Checks a body and what its scope names.
    async fn checked(&self, body: &Value, id: Option<&str>) -> Result<PolicyBody, ConfigError> {
        let parsed: PolicyBody = typed(body, "").map_err(ConfigError::Invalid)?;
        let mut out = Vec::new();
        check_policy(&parsed, "", &mut out);
        self.check_scope(&parsed.scope, id, &mut out).await?;
        if !out.is_empty() {
            return Err(ConfigError::Invalid(out));
        }
        Ok(parsed)
    }

    /// A scope's key or team exists, and no other policy has the scope.
    async fn check_scope(
        &self,
        scope: &Scope,
        id: Option<&str>,
        out: &mut Vec<ConfigDiagnostic>,
    ) -> Result<(), ConfigError> {
        match scope {
            Scope::Team(t) if !self.store.list_teams().await?.iter().any(|x| &x.name == t) => out.push(error(
                "scope",
                format!("team {t:?} does not exist"),
                Some("create it first (POST /api/teams)"),
            )),
            Scope::Key(k) if !self.store.list_keys().await?.iter().any(|x| &x.id == k) => out.push(error(
                "scope",
                format!("virtual key {k:?} does not exist"),
                Some("name a key by its public id, the 12 characters after sk-sy-"),
            )),
            _ => {}
        }
        let existing = self.store.list_policies().await?;
        if let Some(other) = existing.iter().find(|p| &p.scope == scope && Some(p.id.as_str()) != id) {
            out.push(error(
                "scope",
                format!("policy {:?} ({}) already has scope {scope}", other.name, other.id),
                Some("one policy per scope: add the limits to that policy instead"),
            ));
        }
        Ok(())
    }

    pub async fn create_policy(&self, body: Value) -> Result<(PolicyView, Vec<ConfigDiagnostic>), ConfigError> {
        let _guard = self.write.lock().await;
        let b = self.checked(&body, None).await?;
        let id = format!("pol_{}", crate::governance::virtual_key::random_id());
        let policy = Policy {
            name: b.name.unwrap_or_else(|| b.scope.to_string()),
            id,
            scope: b.scope,
            limits: b.limits,
            budget: b.budget,
            mode: b.mode,
            enabled: b.enabled.unwrap_or(true),
            epoch: 0,
        };
        self.store.put_policy(&policy).await?;
        self.reload().await?;
        Ok((view(policy), Vec::new()))
    }

    /// Replaces a policy's fields; its usage carries over unless it now measures differently.
    pub async fn update_policy(
        &self,
        id: &str,
        body: Value,
    ) -> Result<(PolicyView, Vec<ConfigDiagnostic>), ConfigError> {
        let _guard = self.write.lock().await;
        let before = self.policy(id).await?;
        let mut body = body;
        if let Value::Object(o) = &mut body {
            for k in ["id", "epoch", "owner"] {
                o.remove(k);
            }
        }
        let b = self.checked(&body, Some(id)).await?;
        let mut next = Policy {
            id: before.id.clone(),
            name: b.name.unwrap_or_else(|| before.name.clone()),
            scope: b.scope,
            limits: b.limits,
            budget: b.budget.map(|x| x.restored(before.budget.as_ref())),
            mode: b.mode,
            enabled: b.enabled.unwrap_or(before.enabled),
            epoch: before.epoch,
        };
        let warnings = self.carry(&before, &mut next);
        self.store.put_policy(&next).await?;
        self.reload().await?;
        Ok((view(next), warnings))
    }

    /// Starts a new epoch when `next` measures differently from `before`.
    fn carry(&self, before: &Policy, next: &mut Policy) -> Vec<ConfigDiagnostic> {
        if before.scope != next.scope || before.measures_differently(next) {
            next.epoch = before.epoch + 1;
            self.gov.limits().reset(&format!("{}/{}/", before.id, before.epoch));
            return vec![warning(
                "",
                "usage restarts from zero: the scope, a window, the budget period or its unit changed, so the old counts no longer apply",
            )];
        }
        Vec::new()
    }

    pub async fn delete_policy(&self, id: &str) -> Result<(), ConfigError> {
        let _guard = self.write.lock().await;
        if !self.store.delete_policy(id).await? {
            return Err(ConfigError::NotFound(Entity::Policy, id.to_string()));
        }
        self.gov.limits().reset(&format!("{id}/"));
        self.reload().await
    }

    /// Zeroes every counter of the policy: the only way spend goes back to 0.
    pub async fn reset_policy(&self, id: &str) -> Result<PolicyState, ConfigError> {
        let policy = self.policy(id).await?;
        self.gov.limits().reset(&format!("{id}/"));
        tracing::info!(policy = %id, "policy usage reset");
        self.checkpoint().await?;
        Ok(self.state_of(&policy))
    }

    pub async fn policy_state(&self, id: &str) -> Result<PolicyState, ConfigError> {
        Ok(self.state_of(&self.policy(id).await?))
    }

    pub(super) fn state_of(&self, p: &Policy) -> PolicyState {
        let now = now_ms();
        let prefix = format!("{}/{}/", p.id, p.epoch);
        let mut counters: Vec<CounterView> = self
            .gov
            .limits()
            .state(&prefix, now)
            .into_iter()
            .filter_map(|c| self.counter(p, &prefix, c, now))
            .collect();
        // Limits nothing has touched yet read as full.
        let each_user = matches!(p.scope, Scope::User(None));
        if !each_user {
            for l in &p.limits {
                let slot = l.slot();
                if !counters.iter().any(|c| c.slot == slot) {
                    counters.push(CounterView {
                        slot,
                        subject: None,
                        limit: l.amount as f64,
                        used: 0.0,
                        remaining: l.amount as f64,
                        in_flight: 0.0,
                        resets_at: None,
                    });
                }
            }
            if let Some(b) = &p.budget {
                if !counters.iter().any(|c| c.slot == "budget") {
                    counters.push(budget_view(b, None, 0.0, 0.0, now));
                }
            }
        }
        counters.sort_by(|a, b| (&a.subject, &a.slot).cmp(&(&b.subject, &b.slot)));
        PolicyState { policy: p.id.clone(), counters }
    }

    fn counter(&self, p: &Policy, prefix: &str, c: CounterState, now: u64) -> Option<CounterView> {
        let key = match &c {
            CounterState::Rate { key, .. } | CounterState::Slot { key, .. } | CounterState::Budget { key, .. } => {
                key.clone()
            }
        };
        let (slot, subject) = key.strip_prefix(prefix)?.split_once('/')?;
        let subject = (!subject.is_empty()).then(|| subject.to_string());
        let limit = p.limits.iter().find(|l| l.slot() == slot);
        Some(match (c, limit) {
            (CounterState::Rate { remaining, reset_ms, .. }, Some(l)) => {
                let remaining = remaining.min(l.burst.unwrap_or(l.amount)) as f64;
                CounterView {
                    slot: slot.into(),
                    subject,
                    limit: l.amount as f64,
                    used: (l.burst.unwrap_or(l.amount) as f64 - remaining).max(0.0),
                    remaining,
                    in_flight: 0.0,
                    resets_at: Some(period::rfc3339(now + reset_ms + 999)),
                }
            }
            (CounterState::Slot { in_flight, .. }, Some(l)) => CounterView {
                slot: slot.into(),
                subject,
                limit: l.amount as f64,
                used: in_flight as f64,
                remaining: l.amount.saturating_sub(in_flight) as f64,
                in_flight: in_flight as f64,
                resets_at: None,
            },
            (CounterState::Budget { spent, in_flight, .. }, _) => {
                budget_view(p.budget.as_ref()?, subject, spent, in_flight, now)
            }
            _ => return None,
        })
    }

    /// The policy a key's or team's shorthand stands for after an edit:
    /// `None` fields keep what is there, `Some(None)` removes.
    pub(super) async fn put_owned(
        &self,
        scope: Scope,
        name: &str,
        rate_limit: Option<Option<RateLimitShorthand>>,
        budget: Option<Option<Budget>>,
    ) -> Result<Vec<ConfigDiagnostic>, ConfigError> {
        if rate_limit.is_none() && budget.is_none() {
            return Ok(Vec::new());
        }
        let existing = self.store.list_policies().await?.into_iter().find(|p| p.scope == scope);
        let limits = match &rate_limit {
            Some(r) => r.as_ref().map(RateLimitShorthand::limits).unwrap_or_default(),
            None => existing.as_ref().map(|p| p.limits.clone()).unwrap_or_default(),
        };
        let stored = existing.as_ref().and_then(|p| p.budget.as_ref());
        let budget = match budget {
            Some(b) => b.map(|b| b.restored(stored)),
            None => stored.cloned(),
        };
        if limits.is_empty() && budget.is_none() {
            if let Some(p) = existing {
                self.store.delete_policy(&p.id).await?;
                self.gov.limits().reset(&format!("{}/", p.id));
            }
            return Ok(Vec::new());
        }
        let mut next = Policy {
            id: existing.as_ref().map_or_else(|| owned_id(&scope), |p| p.id.clone()),
            name: existing.as_ref().map_or_else(|| name.to_string(), |p| p.name.clone()),
            scope,
            limits,
            budget,
            mode: existing.as_ref().map_or(Mode::Enforce, |p| p.mode),
            enabled: existing.as_ref().is_none_or(|p| p.enabled),
            epoch: existing.as_ref().map_or(0, |p| p.epoch),
        };
        let warnings = existing.as_ref().map(|before| self.carry(before, &mut next)).unwrap_or_default();
        self.store.put_policy(&next).await?;
        Ok(warnings)
    }

    /// The shorthand policy of `scope`, as a key's or team's view shows it.
    pub(super) async fn owned(&self, scope: &Scope) -> Result<Option<Policy>, ConfigError> {
        Ok(self.store.list_policies().await?.into_iter().find(|p| &p.scope == scope))
    }
}

/// Checks the shorthand fields of a key or team body.
pub(super) fn check_shorthand(
    rate_limit: Option<&Option<RateLimitShorthand>>,
    budget: Option<&Option<Budget>>,
    out: &mut Vec<ConfigDiagnostic>,
) {
    if let Some(Some(r)) = rate_limit {
        let set = serde_json::to_value(r).unwrap_or(Value::Null);
        let fields: Vec<(&String, &Value)> =
            set.as_object().map(|o| o.iter().filter(|(_, v)| !v.is_null()).collect()).unwrap_or_default();
        if fields.is_empty() {
            out.push(error(
                "rate_limit",
                "names no limit",
                Some("requests_per_minute, tokens_per_minute, concurrent_requests, …"),
            ));
        }
        for (field, _) in fields.iter().filter(|(_, v)| v.as_u64() == Some(0)) {
            out.push(error(
                format!("rate_limit.{field}"),
                "must be at least 1",
                Some("to block everything, disable the key"),
            ));
        }
    }
    if let Some(Some(b)) = budget {
        check_budget(b, "budget", out);
    }
}

fn budget_view(b: &Budget, subject: Option<String>, spent: f64, in_flight: f64, now: u64) -> CounterView {
    let (_, next) = period::bounds(b.period, now);
    CounterView {
        slot: "budget".into(),
        subject,
        limit: b.max(),
        used: spent,
        remaining: (b.max() - spent - in_flight).max(0.0),
        in_flight,
        resets_at: next.map(period::rfc3339),
    }
}

fn view(mut policy: Policy) -> PolicyView {
    policy.budget = policy.budget.as_ref().map(Budget::redacted);
    let owner = match (&policy.scope, policy.id.as_str()) {
        (Scope::Key(k), id) if id == format!("key-{k}") => Some(format!("key:{k}")),
        (Scope::Team(t), id) if id == format!("team-{t}") => Some(format!("team:{t}")),
        _ => None,
    };
    PolicyView { policy, owner }
}
