use std::sync::Arc;

use super::*;
use crate::governance::limiter::Unit;
use crate::governance::policy::Period;

const T0: u64 = 1_790_000_000_000;

fn rate(key: &str, amount: u64, cost: u64) -> Debit {
    Debit {
        policy: Arc::from("p"),
        key: key.into(),
        enforce: true,
        charge: Charge::Rate { amount, burst: amount, window_ms: 60_000, cost, unit: Unit::Requests },
    }
}

fn budget(key: &str, max: f64, cost: f64) -> Debit {
    Debit {
        policy: Arc::from("b"),
        key: key.into(),
        enforce: true,
        charge: Charge::Budget { max, period: Period::Day, cost, in_usd: true },
    }
}

fn take(l: &MemoryLimits, debits: &[Debit], now: u64) -> Result<Decision, Box<Refusal>> {
    l.acquire_now(debits, now)
}

fn spend(key: &str, reserved: f64, actual: f64, alert_at: Vec<f64>) -> Adjust {
    Adjust::Spend { key: key.into(), policy: Arc::from("b"), period: Period::Day, max: 1.0, reserved, actual, alert_at }
}

#[test]
fn a_burst_takes_the_whole_limit_then_one_per_interval() {
    let l = MemoryLimits::new();
    for i in 0..100 {
        let d = take(&l, &[rate("r", 100, 1)], T0).unwrap_or_else(|_| panic!("request {i}"));
        assert_eq!(d.readings[0].remaining, 99 - i);
    }
    let refused = take(&l, &[rate("r", 100, 1)], T0).unwrap_err();
    assert_eq!(refused.retry_after_ms, Some(600), "one request every 600 ms");
    assert!(take(&l, &[rate("r", 100, 1)], T0 + 599).is_err());
    assert!(take(&l, &[rate("r", 100, 1)], T0 + 600).is_ok());
}

#[test]
fn no_double_burst_at_a_window_edge() {
    // A fixed window would let 100 through just before the minute and 100
    // just after; GCRA gives back only what the elapsed time earned.
    let l = MemoryLimits::new();
    let late = T0 + 59_000;
    for _ in 0..100 {
        take(&l, &[rate("r", 100, 1)], late).unwrap();
    }
    let mut admitted = 0;
    for _ in 0..200 {
        if take(&l, &[rate("r", 100, 1)], T0 + 61_000).is_ok() {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 3, "2 s earned 3 requests (0.6 s each), not a fresh 100");
}

#[test]
fn a_refused_request_takes_nothing_from_any_counter() {
    let l = MemoryLimits::new();
    take(&l, &[rate("tight", 1, 1)], T0).unwrap();
    let before = l.state("", T0);
    let refused = take(&l, &[rate("wide", 100, 1), rate("tight", 1, 1)], T0).unwrap_err();
    assert_eq!(refused.reading.as_ref().map(|r| r.remaining), Some(0));
    assert_eq!(l.state("", T0), before, "the wide counter was not charged");
    assert_eq!(refused.readings.len(), 2);
}

#[test]
fn more_than_the_burst_is_refused_without_a_retry_time() {
    let l = MemoryLimits::new();
    let refused = take(&l, &[rate("t", 1000, 1001)], T0).unwrap_err();
    assert!(matches!(refused.reason, Reason::TooLarge { cost: 1001, burst: 1000, .. }));
    assert_eq!(refused.retry_after_ms, None);
}

#[test]
fn refunds_give_back_what_was_not_used() {
    let l = MemoryLimits::new();
    let tokens = |now| take(&l, &[rate("tok", 10_000, 1_000)], now);
    for _ in 0..10 {
        tokens(T0).unwrap();
    }
    assert!(tokens(T0).is_err(), "10 reservations of 1,000 fill 10k");
    for _ in 0..10 {
        // Each used 100 of its 1,000.
        l.settle(vec![Adjust::Rate { key: "tok".into(), amount: 10_000, window_ms: 60_000, delta: -900 }], T0);
    }
    for _ in 0..9 {
        tokens(T0).unwrap();
    }
    assert!(tokens(T0).is_err());
    // A refund never goes below an empty counter.
    let l2 = MemoryLimits::new();
    l2.settle(vec![Adjust::Rate { key: "tok".into(), amount: 1, window_ms: 1, delta: -5 }], T0);
    assert!(l2.state("", T0).is_empty());
}

#[test]
fn a_budget_holds_in_flight_spend_and_alerts_once_per_threshold() {
    let l = MemoryLimits::new();
    for _ in 0..3 {
        take(&l, &[budget("b", 1.0, 0.3)], T0).unwrap();
    }
    let refused = take(&l, &[budget("b", 1.0, 0.3)], T0).unwrap_err();
    assert!(matches!(refused.reason, Reason::Budget { in_flight, .. } if (in_flight - 0.9).abs() < 1e-9));
    assert!(refused.retry_after_ms.is_some(), "a daily budget renews at midnight UTC");
    let crossed = l.settle(vec![spend("b", 0.3, 0.5, vec![0.5, 0.8])], T0);
    assert_eq!(crossed.iter().map(|c| c.threshold).collect::<Vec<_>>(), [0.5]);
    let crossed = l.settle(vec![spend("b", 0.3, 0.2, vec![0.5, 0.8])], T0);
    assert!(crossed.is_empty(), "0.7 passes no new threshold");
    let crossed = l.settle(vec![spend("b", 0.3, 0.2, vec![0.5, 0.8])], T0);
    assert_eq!(crossed.iter().map(|c| c.threshold).collect::<Vec<_>>(), [0.8]);
    assert!(take(&l, &[budget("b", 1.0, 0.05)], T0).is_ok(), "0.9 spent: 0.05 still fits");
    assert!(take(&l, &[budget("b", 1.0, 0.1)], T0).is_err());
}

#[test]
fn a_budget_renews_at_the_period_boundary_and_a_clock_stepped_back_refills_nothing() {
    let l = MemoryLimits::new();
    let (_, next) = crate::governance::period::bounds(Period::Day, T0);
    let midnight = next.unwrap();
    take(&l, &[budget("b", 1.0, 1.0)], midnight - 10).unwrap();
    l.settle(vec![spend("b", 1.0, 1.0, vec![])], midnight - 10);
    assert!(take(&l, &[budget("b", 1.0, 0.1)], midnight - 1).is_err());
    assert!(take(&l, &[budget("b", 1.0, 0.1)], midnight).is_ok(), "a new day");
    // Rates: a clock that jumps back cannot undo elapsed usage.
    let r = MemoryLimits::new();
    take(&r, &[rate("r", 1, 1)], T0 + 60_000).unwrap();
    assert!(take(&r, &[rate("r", 1, 1)], T0).is_err());
}

#[test]
fn shadow_policies_count_but_never_refuse() {
    let l = MemoryLimits::new();
    let mut shadow = rate("s", 1, 1);
    shadow.enforce = false;
    take(&l, std::slice::from_ref(&shadow), T0).unwrap();
    let d = take(&l, std::slice::from_ref(&shadow), T0).unwrap();
    assert_eq!(d.shadow_refusals.len(), 1);
    assert!(matches!(l.state("s", T0)[0], CounterState::Rate { remaining: 0, .. }));
}

#[test]
fn concurrent_slots_are_given_back() {
    let l = MemoryLimits::new();
    let slot = Debit { policy: Arc::from("c"), key: "c".into(), enforce: true, charge: Charge::Slot { max: 2 } };
    take(&l, std::slice::from_ref(&slot), T0).unwrap();
    take(&l, std::slice::from_ref(&slot), T0).unwrap();
    assert!(matches!(take(&l, std::slice::from_ref(&slot), T0).unwrap_err().reason, Reason::Concurrent { max: 2 }));
    l.settle(vec![Adjust::Release { key: "c".into() }], T0);
    assert!(take(&l, std::slice::from_ref(&slot), T0).is_ok());
}

#[test]
fn reset_zeroes_spend_and_rates_but_keeps_what_is_in_flight() {
    let l = MemoryLimits::new();
    take(&l, &[budget("p/0/budget/", 1.0, 0.4)], T0).unwrap();
    l.settle(vec![spend("p/0/budget/", 0.0, 0.9, vec![])], T0);
    take(&l, &[rate("p/0/requests.minute/", 1, 1)], T0).unwrap();
    l.reset("p/");
    let state = l.state("p/", T0);
    assert_eq!(state.len(), 1, "{state:?}");
    assert!(
        matches!(state[0], CounterState::Budget { spent, in_flight, .. } if spent == 0.0 && (in_flight - 0.4).abs() < 1e-9)
    );
    assert!(take(&l, &[rate("p/0/requests.minute/", 1, 1)], T0).is_ok());
    let (_, removed) = l.checkpoint();
    assert!(removed.contains(&"p/0/requests.minute/".to_string()));
}

#[test]
fn a_checkpoint_restores_spend_and_rates() {
    let l = MemoryLimits::new();
    take(&l, &[budget("b", 1.0, 0.5), rate("r", 1, 1)], T0).unwrap();
    l.settle(vec![spend("b", 0.5, 0.5, vec![])], T0);
    let (rows, _) = l.checkpoint();
    assert_eq!(rows.len(), 2);
    let (again, _) = l.checkpoint();
    assert!(again.is_empty(), "only what changed is written");
    let restored = MemoryLimits::new();
    restored.restore(&rows);
    assert!(take(&restored, &[rate("r", 1, 1)], T0 + 1).is_err(), "the window survived the restart");
    assert!(take(&restored, &[budget("b", 1.0, 0.6)], T0 + 1).is_err(), "the spend survived");
    assert!(take(&restored, &[budget("b", 1.0, 0.5)], T0 + 1).is_ok());
}

#[test]
fn a_thousand_concurrent_requests_against_a_hundred_admit_exactly_a_hundred() {
    let l = Arc::new(MemoryLimits::new());
    let admitted = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (l, admitted) = (l.clone(), admitted.clone());
            std::thread::spawn(move || {
                for _ in 0..125 {
                    if l.acquire_now(&[rate("wide", 1000, 1), rate("r", 100, 1)], T0).is_ok() {
                        admitted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(admitted.load(std::sync::atomic::Ordering::SeqCst), 100);
    assert!(matches!(l.state("wide", T0)[0], CounterState::Rate { remaining: 900, .. }), "refused ones took nothing");
}
