//! Governance on the request lifecycle: *identify* checks the virtual key,
//! *admit* checks the model list and takes every matching policy's debits
//! in one acquire, *settle* corrects the reservations with what was used.
//!
//! Order (a rejected request consumes nothing): key → model allowed →
//! one all-or-nothing acquire of every limit, slot and budget. Fallbacks
//! and retries inside one request are one request: *admit* runs once.

use std::sync::Arc;

use arc_swap::ArcSwap;
use futures::future::BoxFuture;

use super::alerts::Alerts;
use super::directory::{allows, Directory, Subject};
use super::headers;
use super::limiter::{Adjust, Charge, Debit, LimitStore, Reason, Refusal, Unit};
use super::period::{self, now_ms};
use super::policy::{Metric, Mode, OnExceed, Period, Policy};
use super::prices::{cost, UnknownPrice};
use super::records::{KeyRecord, Price};
use super::virtual_key::{self, Pepper, PresentedKey};
use crate::error::GatewayError;
use crate::lifecycle::{Credentials, Identity, RequestContext, RequestHooks};
use crate::usage::{End, Outcome, Usage};

pub struct Governance {
    directory: ArcSwap<Directory>,
    pepper: Pepper,
    limits: Arc<dyn LimitStore>,
    alerts: Alerts,
}

/// What one debit measures, to settle it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Measure {
    Requests,
    Input,
    Output,
    Total,
    Slot,
    BudgetTokens,
    BudgetUsd,
}

/// What *admit* took, kept in the request for *settle*.
#[derive(Debug, Clone)]
struct Grant(Arc<Taken>);

#[derive(Debug)]
struct Taken {
    debits: Vec<Debit>,
    measures: Vec<(Measure, Vec<f64>)>,
    input: u64,
    output: u64,
    /// The price the USD reservation used.
    price: Option<Price>,
}

fn rejected(status: u16, code: &str, message: String) -> GatewayError {
    GatewayError::Rejected { status, code: code.into(), message }
}

fn unauthorized(message: String) -> GatewayError {
    rejected(401, "invalid_api_key", message)
}

impl Governance {
    pub fn new(directory: Directory, pepper: Pepper, limits: Arc<dyn LimitStore>, alerts: Alerts) -> Self {
        Self { directory: ArcSwap::from_pointee(directory), pepper, limits, alerts }
    }

    pub fn directory(&self) -> Arc<Directory> {
        self.directory.load_full()
    }

    /// Swaps in a rebuilt directory: new requests see it at once.
    pub fn replace(&self, directory: Directory) {
        self.directory.store(Arc::new(directory));
    }

    pub fn pepper(&self) -> &Pepper {
        &self.pepper
    }

    /// USD for `usage` of `<provider>/<model>` at the current price table
    /// (the configured default for an unpriced model); `None`: unpriced.
    pub fn price(&self, model: &str, usage: &Usage) -> Option<f64> {
        let dir = self.directory.load();
        let price = match (dir.prices.find(model), &dir.settings.unknown_price) {
            (Some(p), _) => p,
            (None, UnknownPrice::Default(p)) => p,
            (None, UnknownPrice::Reject) => return None,
        };
        Some(cost(price, usage))
    }

    /// A price of the table covers `<provider>/<model>` (the default for unpriced models does not count).
    pub fn has_price(&self, model: &str) -> bool {
        self.directory.load().prices.find(model).is_some()
    }

    pub fn limits(&self) -> &Arc<dyn LimitStore> {
        &self.limits
    }

    fn check_key(&self, dir: &Directory, presented: &PresentedKey<'_>) -> Result<Arc<KeyRecord>, GatewayError> {
        let shown = format!("{}{}-…", virtual_key::PREFIX, presented.id);
        let Some(key) = dir.keys.get(presented.id) else {
            return Err(unauthorized(format!("virtual key {shown} is not known")));
        };
        let now = (now_ms() / 1000) as i64;
        let current = self.pepper.verify(presented, &key.hash);
        let previous = key.previous.as_ref().is_some_and(|p| p.until > now && self.pepper.verify(presented, &p.hash));
        if !current && !previous {
            return Err(unauthorized(format!(
                "virtual key {shown} has a wrong secret (after a rotation the old secret works only during its grace period)"
            )));
        }
        let named = format!("virtual key {:?} ({shown})", key.name);
        if key.revoked_at.is_some() {
            return Err(unauthorized(format!("{named} was revoked")));
        }
        if !key.enabled {
            return Err(unauthorized(format!("{named} is disabled")));
        }
        if let Some(at) = key.expires_at.filter(|at| *at <= now) {
            return Err(unauthorized(format!("{named} expired at {}", period::rfc3339(at.max(0) as u64 * 1000))));
        }
        Ok(key.clone())
    }

    /// The model lists of the caller's key and team.
    fn check_models(dir: &Directory, ctx: &RequestContext) -> Result<(), GatewayError> {
        let Some(id) = ctx.identity.as_ref() else { return Ok(()) };
        let Some(key) = id.key_id.as_deref().and_then(|k| dir.keys.get(k)) else { return Ok(()) };
        let refuse = |whose: String, list: &[String]| {
            rejected(
                403,
                "model_not_allowed",
                format!("{whose} may not call model {:?} (allowed: {})", ctx.requested_model, list.join(", ")),
            )
        };
        if !allows(&key.models, &ctx.requested_model, &ctx.candidates) {
            return Err(refuse(format!("virtual key {:?} ({})", key.name, key.id), &key.models));
        }
        if let Some(team) = key.team.as_deref().and_then(|t| dir.teams.get(t)) {
            if !allows(&team.models, &ctx.requested_model, &ctx.candidates) {
                return Err(refuse(
                    format!("team {:?} of virtual key {:?} ({})", team.name, key.name, key.id),
                    &team.models,
                ));
            }
        }
        Ok(())
    }

    /// The USD a request may cost at most, over every candidate it could be served by.
    fn estimate_usd(
        dir: &Directory,
        ctx: &RequestContext,
        input: u64,
        output: u64,
    ) -> Result<(f64, Option<Price>), GatewayError> {
        let usage = Usage { input_tokens: input, output_tokens: output, ..Usage::default() };
        let mut worst: Option<(f64, Price)> = None;
        for c in &ctx.candidates {
            let price = match (dir.prices.find(c), &dir.settings.unknown_price) {
                (Some(p), _) => p.clone(),
                (None, UnknownPrice::Default(p)) => p.clone(),
                (None, UnknownPrice::Reject) => {
                    return Err(rejected(
                        403,
                        "price_unknown",
                        format!(
                            "model {c:?} has no price, and a USD budget applies to this request: add a price for it \
                             (POST /api/prices) or set governance.unknown_price to a default"
                        ),
                    ))
                }
            };
            let usd = cost(&price, &usage);
            if worst.as_ref().is_none_or(|(w, _)| usd > *w) {
                worst = Some((usd, price));
            }
        }
        Ok(worst.map_or((0.0, None), |(usd, p)| (usd, Some(p))))
    }

    fn plan(&self, dir: &Directory, ctx: &RequestContext) -> Result<Taken, GatewayError> {
        let identity = ctx.identity.as_ref();
        let primary = match (ctx.provider.as_deref(), ctx.candidates.first()) {
            (Some(p), _) => ctx.served_model.as_deref().map(|m| (p, m)),
            (None, Some(label)) => label.split_once('/'),
            _ => None,
        };
        let subject = Subject {
            key_id: identity.and_then(|i| i.key_id.as_deref()),
            team: identity.and_then(|i| i.team.as_deref()),
            user: ctx.user.as_deref(),
            requested_model: &ctx.requested_model,
            route: ctx.route.as_deref(),
            primary,
        };
        let input = ctx.estimated_input_tokens;
        let output = ctx.max_output_tokens.unwrap_or(dir.settings.default_output_reservation);
        let mut taken = Taken { debits: Vec::new(), measures: Vec::new(), input, output, price: None };
        let mut usd: Option<f64> = None;
        for (c, who) in dir.matching(&subject) {
            let p = &c.policy;
            let enforce = p.mode == Mode::Enforce;
            let key = |slot: &str| format!("{}/{}/{slot}/{who}", p.id, p.epoch);
            for l in &p.limits {
                let (measure, cost, unit) = match l.metric {
                    Metric::Requests => (Measure::Requests, 1, Unit::Requests),
                    Metric::InputTokens => (Measure::Input, input, Unit::Tokens),
                    Metric::OutputTokens => (Measure::Output, output, Unit::Tokens),
                    Metric::TotalTokens => (Measure::Total, input + output, Unit::Tokens),
                    Metric::Concurrent => (Measure::Slot, 0, Unit::Requests),
                };
                let charge = match l.per {
                    Some(per) if l.metric != Metric::Concurrent => Charge::Rate {
                        amount: l.amount,
                        burst: l.burst.unwrap_or(l.amount),
                        window_ms: per.millis(),
                        cost,
                        unit,
                    },
                    _ => Charge::Slot { max: l.amount },
                };
                taken.debits.push(Debit { policy: c.id.clone(), key: key(&l.slot()), enforce, charge });
                taken.measures.push((measure, Vec::new()));
            }
            if let Some(b) = &p.budget {
                let (measure, cost) = if b.in_usd() {
                    let estimate = match usd {
                        Some(u) => u,
                        None => {
                            let (u, price) = Self::estimate_usd(dir, ctx, input, output)?;
                            taken.price = price;
                            *usd.insert(u)
                        }
                    };
                    (Measure::BudgetUsd, estimate)
                } else {
                    (Measure::BudgetTokens, (input + output) as f64)
                };
                let enforce = enforce && b.on_exceed == OnExceed::Block;
                let charge = Charge::Budget { max: b.max(), period: b.period, cost, in_usd: b.in_usd() };
                taken.debits.push(Debit { policy: c.id.clone(), key: key("budget"), enforce, charge });
                taken.measures.push((measure, b.alert_at.clone()));
            }
        }
        Ok(taken)
    }

    /// What the request used, per measure. A request that failed before any
    /// answer used nothing; one cut short without a usage report is charged
    /// at least its reservation (it may have used it all).
    fn used(taken: &Taken, outcome: &Outcome) -> (u64, u64) {
        match outcome.end {
            End::Failed => (0, 0),
            End::ClientLeft | End::Broke if outcome.usage_estimated => {
                (outcome.usage.total_input().max(taken.input), outcome.usage.output_tokens.max(taken.output))
            }
            _ => (outcome.usage.total_input(), outcome.usage.output_tokens),
        }
    }
}

/// The client's answer to a refusal, naming the policy and what to do.
fn refused(dir: &Directory, r: &Refusal) -> GatewayError {
    let policy = dir.policies.iter().find(|c| c.id == r.policy).map(|c| &c.policy);
    let name = policy.map_or_else(|| r.policy.to_string(), describe);
    let unit = |u: &Unit| if *u == Unit::Tokens { "tokens" } else { "requests" };
    let (code, message) = match &r.reason {
        Reason::Rate { unit: u, amount, window_ms, .. } => (
            "rate_limit_exceeded",
            format!("rate limit of {amount} {} per {} reached ({name})", unit(u), window(*window_ms)),
        ),
        Reason::TooLarge { unit: u, burst, cost } => (
            "rate_limit_exceeded",
            format!(
                "this request needs {cost} {} (estimated input plus its max_tokens, or the default reservation), \
                 more than {name} ever allows at once ({burst}): lower max_tokens",
                unit(u)
            ),
        ),
        Reason::Concurrent { max } => {
            ("rate_limit_exceeded", format!("{max} requests are already in flight, the most {name} allows"))
        }
        Reason::Budget { max, spent, in_flight, cost, in_usd } => {
            let amount = |v: f64| if *in_usd { format!("${v:.4}") } else { format!("{v:.0} tokens") };
            let period = policy.and_then(|p| p.budget.as_ref()).map_or("period", |b| period_name(b.period));
            (
                "insufficient_quota",
                format!(
                    "budget of {} per {period} is used up ({name}): {} spent, {} in flight, this request reserves {}",
                    amount(*max),
                    amount(*spent),
                    amount(*in_flight),
                    amount(*cost)
                ),
            )
        }
    };
    rejected(429, code, message)
}

fn describe(p: &Policy) -> String {
    format!("policy {:?}, scope {}", p.name, p.scope)
}

fn period_name(p: Period) -> &'static str {
    match p {
        Period::Day => "day",
        Period::Week => "week",
        Period::Month => "month",
        Period::Total => "lifetime",
    }
}

fn window(ms: u64) -> &'static str {
    match ms {
        1_000 => "second",
        60_000 => "minute",
        3_600_000 => "hour",
        _ => "day",
    }
}

impl RequestHooks for Governance {
    fn identify(&self, ctx: &mut RequestContext, credentials: &Credentials) -> Result<(), GatewayError> {
        let dir = self.directory.load();
        let presented = credentials.presented_key.as_deref();
        let key = match presented.map(virtual_key::parse) {
            Some(Some(Ok(k))) => self.check_key(&dir, &k)?,
            Some(Some(Err(e))) => return Err(unauthorized(format!("the virtual key is malformed: {e}"))),
            Some(None) if dir.settings.require_virtual_key && !credentials.in_process => {
                return Err(unauthorized(
                    "the key sent is not a Switchyard virtual key (sk-sy-…), and one is required".into(),
                ))
            }
            None if dir.settings.require_virtual_key && !credentials.in_process => {
                return Err(rejected(
                    401,
                    "missing_api_key",
                    "a virtual key is required: send it as `Authorization: Bearer sk-sy-…` or `x-api-key`".into(),
                ))
            }
            _ => return Ok(()),
        };
        let team = key.team.as_deref().and_then(|t| dir.teams.get(t));
        let mut tags = team.map(|t| t.tags.clone()).unwrap_or_default();
        tags.extend(key.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        ctx.identity = Some(Identity {
            key_id: Some(key.id.clone()),
            key_name: Some(key.name.clone()),
            team: key.team.clone(),
            tags,
            log_payloads: key.log_payloads.or(team.and_then(|t| t.log_payloads)),
        });
        Ok(())
    }

    fn admit<'a>(&'a self, ctx: &'a mut RequestContext) -> BoxFuture<'a, Result<(), GatewayError>> {
        Box::pin(async move {
            let dir = self.directory.load_full();
            Self::check_models(&dir, ctx)?;
            let taken = self.plan(&dir, ctx)?;
            if taken.debits.is_empty() {
                return Ok(());
            }
            let now = now_ms();
            let dialect = ctx.inbound.dialect();
            match self.limits.acquire(&taken.debits, now).await {
                Ok(decision) => {
                    headers::rate_limit(&mut ctx.response_headers, dialect, &decision.readings, now);
                    for r in &decision.shadow_refusals {
                        tracing::info!(policy = %r.policy, request_id = %ctx.request_id, "shadow policy would refuse: {}", refused(&dir, r));
                    }
                    ctx.drain_on_disconnect =
                        taken.measures.iter().any(|(m, _)| !matches!(m, Measure::Requests | Measure::Slot));
                    ctx.extensions.insert(Grant(Arc::new(taken)));
                    Ok(())
                }
                Err(refusal) => {
                    headers::rate_limit(&mut ctx.response_headers, dialect, &refusal.readings, now);
                    headers::refusal(&mut ctx.response_headers, &refusal.policy, refusal.retry_after_ms);
                    Err(refused(&dir, &refusal))
                }
            }
        })
    }

    fn settle(&self, ctx: &RequestContext, outcome: &Outcome) {
        let Some(Grant(taken)) = ctx.extensions.get::<Grant>() else { return };
        let (input, output) = Self::used(taken, outcome);
        let dir = self.directory.load();
        let usd = || {
            let usage = Usage { output_tokens: output, ..usage_with_input(&outcome.usage, input) };
            let served = match (ctx.provider.as_deref(), ctx.served_model.as_deref()) {
                (Some(p), Some(m)) => dir.prices.find(&format!("{p}/{m}")).cloned(),
                _ => None,
            };
            served.or_else(|| taken.price.clone()).map_or(0.0, |p| cost(&p, &usage))
        };
        let mut adjustments = Vec::with_capacity(taken.debits.len());
        for (d, (measure, alert_at)) in taken.debits.iter().zip(&taken.measures) {
            let delta = |used: u64, reserved: u64| {
                i64::try_from(used).unwrap_or(i64::MAX) - i64::try_from(reserved).unwrap_or(i64::MAX)
            };
            match (&d.charge, measure) {
                (Charge::Rate { amount, window_ms, .. }, m) => {
                    let delta = match m {
                        Measure::Input => delta(input, taken.input),
                        Measure::Output => delta(output, taken.output),
                        Measure::Total => delta(input + output, taken.input + taken.output),
                        _ => 0,
                    };
                    if delta != 0 {
                        adjustments.push(Adjust::Rate {
                            key: d.key.clone(),
                            amount: *amount,
                            window_ms: *window_ms,
                            delta,
                        });
                    }
                }
                (Charge::Slot { .. }, _) => adjustments.push(Adjust::Release { key: d.key.clone() }),
                (Charge::Budget { max, period, cost: reserved, .. }, m) => {
                    let actual = if *m == Measure::BudgetUsd { usd() } else { (input + output) as f64 };
                    adjustments.push(Adjust::Spend {
                        key: d.key.clone(),
                        policy: d.policy.clone(),
                        period: *period,
                        max: *max,
                        reserved: *reserved,
                        actual,
                        alert_at: alert_at.clone(),
                    });
                }
            }
        }
        for crossing in self.limits.settle(adjustments, now_ms()) {
            self.alerts.send(&dir, crossing);
        }
    }
}

/// `usage` with its input counts scaled to `input` tokens in all (an
/// estimate stands in for a missing report).
fn usage_with_input(usage: &Usage, input: u64) -> Usage {
    if usage.total_input() == input {
        *usage
    } else {
        Usage { input_tokens: input, cache_read_tokens: 0, cache_write_tokens: 0, ..*usage }
    }
}

#[cfg(test)]
#[path = "gate_tests.rs"]
mod tests;
