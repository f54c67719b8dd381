//! The in-process [`LimitStore`]: every counter in one map behind one mutex.
//! An acquire holds the lock for a few map lookups, so the all-or-nothing
//! rule costs nothing measurable next to a request; the wall clock is made
//! monotonic here, so a clock stepped back never refills a counter.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use super::{Adjust, Charge, CounterState, Crossing, Debit, Decision, LimitStore, Reading, Reason, Refusal};
use crate::governance::period;
use crate::governance::records::CounterRow;

/// Float slack for GCRA comparisons, in ms (or budget units).
const EPS: f64 = 1e-6;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Counter {
    /// GCRA: `tat` = theoretical arrival time (unix ms); `interval` = ms per
    /// unit; `tolerance` = ms of burst. The last two as last charged, for `state`.
    Rate {
        tat: f64,
        interval: f64,
        tolerance: f64,
    },
    /// Requests in flight (never persisted: they end with the process).
    Slot {
        in_flight: u64,
    },
    Spend {
        period_start: u64,
        spent: f64,
        reserved: f64,
        alerted: Vec<f64>,
    },
}

#[derive(Default)]
struct Inner {
    counters: HashMap<String, Counter>,
    dirty: HashSet<String>,
    removed: Vec<String>,
    last_now: u64,
}

impl Inner {
    fn clock(&mut self, now_ms: u64) -> u64 {
        self.last_now = self.last_now.max(now_ms);
        self.last_now
    }
}

#[derive(Default)]
pub struct MemoryLimits {
    inner: Mutex<Inner>,
}

impl MemoryLimits {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves counters consistent (each
        // write is whole), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn acquire_now(&self, debits: &[Debit], now_ms: u64) -> Result<Decision, Box<Refusal>> {
        let mut g = self.lock();
        let now = g.clock(now_ms);
        let mut next = Vec::with_capacity(debits.len());
        let mut decision = Decision::default();
        let mut refusal: Option<Box<Refusal>> = None;
        for d in debits {
            let Evaluated { counter: state, reading, refused } = evaluate(d, g.counters.get(&d.key), now);
            if let Some(r) = reading.clone() {
                decision.readings.push(r);
            }
            if let Some((reason, retry_after_ms)) = refused {
                let r = Refusal { policy: d.policy.clone(), reason, retry_after_ms, reading, readings: Vec::new() };
                if d.enforce {
                    refusal.get_or_insert(Box::new(r));
                    continue;
                }
                decision.shadow_refusals.push(r);
            }
            next.push((d.key.clone(), state));
        }
        if let Some(mut r) = refusal {
            r.readings = debits.iter().filter_map(|d| standing(d, g.counters.get(&d.key), now)).collect();
            return Err(r);
        }
        for (key, state) in next {
            g.dirty.insert(key.clone());
            g.counters.insert(key, state);
        }
        Ok(decision)
    }
}

/// A counter's state if a debit is taken, its reading, and why it cannot be
/// (with when it could).
struct Evaluated {
    counter: Counter,
    reading: Option<Reading>,
    refused: Option<(Reason, Option<u64>)>,
}

fn evaluated(counter: Counter, reading: Option<Reading>, refused: Option<(Reason, Option<u64>)>) -> Evaluated {
    Evaluated { counter, reading, refused }
}

fn evaluate(d: &Debit, current: Option<&Counter>, now: u64) -> Evaluated {
    let nowf = now as f64;
    match &d.charge {
        Charge::Rate { amount, burst, window_ms, cost, unit } => {
            let interval = *window_ms as f64 / (*amount).max(1) as f64;
            let tolerance = (*burst).max(1) as f64 * interval;
            let tat = match current {
                Some(Counter::Rate { tat, .. }) => tat.max(nowf),
                _ => nowf,
            };
            let new_tat = tat + *cost as f64 * interval;
            let reading = |t: f64| Reading {
                policy: d.policy.clone(),
                unit: *unit,
                limit: *amount,
                remaining: remaining(tolerance, t - nowf, interval),
                reset_ms: (t - nowf).max(0.0).ceil() as u64,
            };
            let counter = Counter::Rate { tat: new_tat, interval, tolerance };
            if *cost as f64 * interval > tolerance + EPS {
                let reason = Reason::TooLarge { unit: *unit, burst: (*burst).max(1), cost: *cost };
                return evaluated(counter, Some(reading(tat)), Some((reason, None)));
            }
            if new_tat - nowf > tolerance + EPS {
                let wait = (new_tat - tolerance - nowf).ceil() as u64;
                let reason = Reason::Rate { unit: *unit, amount: *amount, window_ms: *window_ms, cost: *cost };
                return evaluated(counter, Some(reading(tat)), Some((reason, Some(wait.max(1)))));
            }
            evaluated(counter, Some(reading(new_tat)), None)
        }
        Charge::Slot { max } => {
            let in_flight = match current {
                Some(Counter::Slot { in_flight }) => *in_flight,
                _ => 0,
            };
            let counter = Counter::Slot { in_flight: in_flight + 1 };
            if in_flight >= *max {
                return evaluated(counter, None, Some((Reason::Concurrent { max: *max }, Some(1_000))));
            }
            evaluated(counter, None, None)
        }
        Charge::Budget { max, period, cost, in_usd } => {
            let (start, next) = period::bounds(*period, now);
            let (spent, reserved, alerted) = match current {
                Some(Counter::Spend { period_start, spent, reserved, alerted }) if *period_start == start => {
                    (*spent, *reserved, alerted.clone())
                }
                Some(Counter::Spend { reserved, .. }) => (0.0, *reserved, Vec::new()),
                _ => (0.0, 0.0, Vec::new()),
            };
            let counter = Counter::Spend { period_start: start, spent, reserved: reserved + cost, alerted };
            let used = spent + reserved;
            if used >= max - EPS || used + cost > max + EPS {
                let reason = Reason::Budget { max: *max, spent, in_flight: reserved, cost: *cost, in_usd: *in_usd };
                return evaluated(counter, None, Some((reason, next.map(|n| n.saturating_sub(now)))));
            }
            evaluated(counter, None, None)
        }
    }
}

/// A rate counter's reading without taking anything.
fn standing(d: &Debit, current: Option<&Counter>, now: u64) -> Option<Reading> {
    let Charge::Rate { amount, burst, window_ms, unit, .. } = &d.charge else { return None };
    let interval = *window_ms as f64 / (*amount).max(1) as f64;
    let tolerance = (*burst).max(1) as f64 * interval;
    let used = match current {
        Some(Counter::Rate { tat, .. }) => (tat - now as f64).max(0.0),
        _ => 0.0,
    };
    Some(Reading {
        policy: d.policy.clone(),
        unit: *unit,
        limit: *amount,
        remaining: remaining(tolerance, used, interval),
        reset_ms: used.ceil() as u64,
    })
}

fn remaining(tolerance: f64, used_ms: f64, interval: f64) -> u64 {
    ((tolerance - used_ms.max(0.0)) / interval + EPS).floor().max(0.0) as u64
}

impl LimitStore for MemoryLimits {
    fn acquire<'a>(&'a self, debits: &'a [Debit], now_ms: u64) -> BoxFuture<'a, Result<Decision, Box<Refusal>>> {
        let result = self.acquire_now(debits, now_ms);
        Box::pin(std::future::ready(result))
    }

    fn settle(&self, adjustments: Vec<Adjust>, now_ms: u64) -> Vec<Crossing> {
        let mut g = self.lock();
        let now = g.clock(now_ms);
        let mut crossings = Vec::new();
        for a in adjustments {
            match a {
                Adjust::Rate { key, delta, .. } => {
                    if let Some(Counter::Rate { tat, interval, .. }) = g.counters.get_mut(&key) {
                        let moved = *tat + delta as f64 * *interval;
                        // A refund never reaches before now: an idle counter is simply full.
                        *tat = if delta < 0 {
                            moved.max(now as f64)
                        } else {
                            tat.max(now as f64) + delta as f64 * *interval
                        };
                        g.dirty.insert(key);
                    }
                }
                Adjust::Release { key } => {
                    if let Some(Counter::Slot { in_flight }) = g.counters.get_mut(&key) {
                        *in_flight = in_flight.saturating_sub(1);
                    }
                }
                Adjust::Spend { key, policy, period, max, reserved, actual, alert_at } => {
                    let (start, _) = period::bounds(period, now);
                    let entry = g.counters.entry(key.clone()).or_insert(Counter::Spend {
                        period_start: start,
                        spent: 0.0,
                        reserved: 0.0,
                        alerted: Vec::new(),
                    });
                    if let Counter::Spend { period_start, spent, reserved: in_flight, alerted } = entry {
                        if *period_start != start {
                            *period_start = start;
                            *spent = 0.0;
                            alerted.clear();
                        }
                        *in_flight = (*in_flight - reserved).max(0.0);
                        *spent += actual;
                        for t in alert_at {
                            if *spent + EPS >= t * max && !alerted.contains(&t) {
                                alerted.push(t);
                                crossings.push(Crossing {
                                    policy: policy.clone(),
                                    key: key.clone(),
                                    threshold: t,
                                    spent: *spent,
                                    max,
                                    period_start_ms: start,
                                });
                            }
                        }
                    }
                    g.dirty.insert(key);
                }
            }
        }
        crossings
    }

    fn state(&self, prefix: &str, now_ms: u64) -> Vec<CounterState> {
        let g = self.lock();
        let now = now_ms.max(g.last_now) as f64;
        let mut out: Vec<CounterState> = g
            .counters
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(key, c)| match c {
                Counter::Rate { tat, interval, tolerance } => {
                    let used = (tat - now).max(0.0);
                    CounterState::Rate {
                        key: key.clone(),
                        remaining: remaining(*tolerance, used, *interval),
                        reset_ms: used.ceil() as u64,
                    }
                }
                Counter::Slot { in_flight } => CounterState::Slot { key: key.clone(), in_flight: *in_flight },
                Counter::Spend { period_start, spent, reserved, .. } => CounterState::Budget {
                    key: key.clone(),
                    spent: *spent,
                    in_flight: *reserved,
                    period_start_ms: *period_start,
                },
            })
            .collect();
        out.sort_by(|a, b| a.key().cmp(b.key()));
        out
    }

    fn reset(&self, prefix: &str) {
        let mut g = self.lock();
        let gone: Vec<String> = g.counters.keys().filter(|k| k.starts_with(prefix)).cloned().collect();
        for key in gone {
            match g.counters.get_mut(&key) {
                // Requests in flight stay counted: they are still running.
                Some(Counter::Slot { .. }) => {}
                // In-flight reservations stay too, so their settlement lands right.
                Some(Counter::Spend { spent, alerted, .. }) => {
                    *spent = 0.0;
                    alerted.clear();
                    g.dirty.insert(key);
                }
                _ => {
                    g.counters.remove(&key);
                    g.dirty.remove(&key);
                    g.removed.push(key);
                }
            }
        }
    }

    fn checkpoint(&self) -> (Vec<CounterRow>, Vec<String>) {
        let mut g = self.lock();
        let now = g.last_now as f64;
        // A rate counter back to full carries no information: forget it.
        let idle: Vec<String> = g
            .counters
            .iter()
            .filter(|(_, c)| matches!(c, Counter::Rate { tat, .. } if *tat <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for key in idle {
            g.counters.remove(&key);
            g.dirty.remove(&key);
            g.removed.push(key);
        }
        let dirty: Vec<String> = g.dirty.drain().collect();
        let rows = dirty
            .into_iter()
            .filter_map(|key| match g.counters.get(&key) {
                Some(c @ (Counter::Rate { .. } | Counter::Spend { .. })) => {
                    serde_json::to_string(c).ok().map(|state| CounterRow { key, state })
                }
                _ => None,
            })
            .collect();
        (rows, std::mem::take(&mut g.removed))
    }

    fn requeue(&self, rows: &[CounterRow], removed: Vec<String>) {
        let mut g = self.lock();
        for row in rows {
            if g.counters.contains_key(&row.key) {
                g.dirty.insert(row.key.clone());
            }
        }
        g.removed.extend(removed);
    }

    fn restore(&self, rows: &[CounterRow]) {
        let mut g = self.lock();
        for row in rows {
            match serde_json::from_str::<Counter>(&row.state) {
                Ok(c @ (Counter::Rate { .. } | Counter::Spend { .. })) => {
                    g.counters.insert(row.key.clone(), c);
                }
                Ok(Counter::Slot { .. }) => {}
                Err(e) => {
                    tracing::warn!(counter = %row.key, "checkpointed limit counter is unreadable, starting it afresh: {e}")
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "memory_tests.rs"]
mod tests;
