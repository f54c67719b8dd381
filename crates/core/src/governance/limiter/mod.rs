//! Limit counters behind one trait, so the shared Redis backend (many
//! replicas) can replace the in-memory one without the hook changing:
//!
//! - [`LimitStore::acquire`] takes **every** debit of a request at once,
//!   all-or-nothing: a refused request consumes nothing from any counter
//!   (LiteLLM #39309), and two requests cannot both pass a check the first
//!   one's charge would fail (Bifrost's check-then-charge race).
//! - [`LimitStore::settle`] corrects the reservations with what was used.
//!
//! Rates are GCRA (one "theoretical arrival time" per counter: no double
//! burst at a window edge, O(1) state, exact refunds). Budgets reserve their
//! estimate in flight, so concurrency cannot overshoot them.

mod memory;

use std::sync::Arc;

use futures::future::BoxFuture;

pub use memory::MemoryLimits;

use super::policy::Period;
use super::records::CounterRow;

/// One counter's debit for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Debit {
    pub policy: Arc<str>,
    /// `<policy>/<epoch>/<slot>/<subject>`: unique per counter.
    pub key: String,
    /// `false` for a shadow policy: counted, never refused.
    pub enforce: bool,
    pub charge: Charge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Charge {
    /// `cost` units of a rate of `amount` per `window_ms`, bursts up to `burst`.
    Rate { amount: u64, burst: u64, window_ms: u64, cost: u64, unit: Unit },
    /// One of `max` slots in flight.
    Slot { max: u64 },
    /// `cost` (USD or tokens) reserved against `max` for the period.
    Budget { max: f64, period: Period, cost: f64, in_usd: bool },
}

/// What a rate counts, for the headers clients read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Requests,
    Tokens,
}

/// A counter's state after an acquire, for the rate-limit headers.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub policy: Arc<str>,
    pub unit: Unit,
    pub limit: u64,
    pub remaining: u64,
    /// Until the counter is back to full.
    pub reset_ms: u64,
}

/// What an acquire found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    pub readings: Vec<Reading>,
    /// Shadow policies that would have refused the request.
    pub shadow_refusals: Vec<Refusal>,
}

/// Why a request was refused, by the first counter that could not take it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub policy: Arc<str>,
    pub reason: Reason,
    /// When the same request could pass; `None`: not by waiting.
    pub retry_after_ms: Option<u64>,
    /// The refusing counter's reading (rates), for the headers.
    pub reading: Option<Reading>,
    /// Every rate counter of the request as it stands (nothing was taken).
    pub readings: Vec<Reading>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// A rate limit: `cost` did not fit now.
    Rate {
        unit: Unit,
        amount: u64,
        window_ms: u64,
        cost: u64,
    },
    /// More than the limit allows at all (`cost` above the burst).
    TooLarge {
        unit: Unit,
        burst: u64,
        cost: u64,
    },
    Concurrent {
        max: u64,
    },
    /// `spent` + in flight + this request's estimate would pass `max`.
    Budget {
        max: f64,
        spent: f64,
        in_flight: f64,
        cost: f64,
        in_usd: bool,
    },
}

/// A correction at settle time.
#[derive(Debug, Clone, PartialEq)]
pub enum Adjust {
    /// `delta` units more (or fewer) than reserved on a rate counter.
    Rate { key: String, amount: u64, window_ms: u64, delta: i64 },
    /// A slot given back.
    Release { key: String },
    /// `reserved` comes off the in-flight amount and `actual` is spent.
    Spend { key: String, policy: Arc<str>, period: Period, max: f64, reserved: f64, actual: f64, alert_at: Vec<f64> },
}

/// A budget passed one of its alert thresholds (once per period each).
#[derive(Debug, Clone, PartialEq)]
pub struct Crossing {
    pub policy: Arc<str>,
    pub key: String,
    pub threshold: f64,
    pub spent: f64,
    pub max: f64,
    pub period_start_ms: u64,
}

/// A counter as `/api/policies/{id}/state` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CounterState {
    Rate { key: String, remaining: u64, reset_ms: u64 },
    Slot { key: String, in_flight: u64 },
    Budget { key: String, spent: f64, in_flight: f64, period_start_ms: u64 },
}

impl CounterState {
    pub fn key(&self) -> &str {
        match self {
            Self::Rate { key, .. } | Self::Slot { key, .. } | Self::Budget { key, .. } => key,
        }
    }
}

pub trait LimitStore: Send + Sync {
    /// Takes every debit, or none (then says which refused). `now_ms` is the
    /// caller's clock; a store may use its own (Redis: the server's).
    fn acquire<'a>(&'a self, debits: &'a [Debit], now_ms: u64) -> BoxFuture<'a, Result<Decision, Box<Refusal>>>;

    /// Applies settle-time corrections; never blocks (a shared store queues
    /// them). Returns the budget thresholds they crossed.
    fn settle(&self, adjustments: Vec<Adjust>, now_ms: u64) -> Vec<Crossing>;

    /// Every counter whose key starts with `prefix`.
    fn state(&self, prefix: &str, now_ms: u64) -> Vec<CounterState>;

    /// Zeroes every counter whose key starts with `prefix` (a policy's reset).
    fn reset(&self, prefix: &str);

    /// Counters changed since the last call (and those removed), to persist.
    fn checkpoint(&self) -> (Vec<CounterRow>, Vec<String>);

    /// Marks counters of a checkpoint that could not be written as changed
    /// again, so the next checkpoint retries them.
    fn requeue(&self, rows: &[CounterRow], removed: Vec<String>);

    /// Loads persisted counters at start.
    fn restore(&self, rows: &[CounterRow]);
}
