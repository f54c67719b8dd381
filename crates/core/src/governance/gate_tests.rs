use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::governance::directory::Settings;
use crate::governance::limiter::MemoryLimits;
use crate::governance::records::{PreviousSecret, Team};
use crate::inbound::Inbound;

const PEPPER: &[u8] = b"0123456789abcdef0123456789abcdef";

struct World {
    gov: Governance,
    token: String,
    id: String,
}

fn key(id: &str, hash: virtual_key::SecretHash, models: &[&str], team: Option<&str>) -> KeyRecord {
    KeyRecord {
        id: id.into(),
        name: "ci".into(),
        team: team.map(str::to_string),
        models: models.iter().map(|m| m.to_string()).collect(),
        expires_at: None,
        enabled: true,
        revoked_at: None,
        tags: BTreeMap::from([("env".to_string(), "ci".to_string())]),
        hash,
        previous: None,
        created_at: 0,
        rotated_at: None,
        log_payloads: None,
    }
}

fn policy(v: serde_json::Value) -> Policy {
    serde_json::from_value(v).unwrap()
}

fn world(models: &[&str], policies: Vec<Policy>, prices: &[Price], settings: Settings) -> World {
    let pepper = Pepper::from_bytes(PEPPER);
    let new = pepper.generate();
    let mut k = key(&new.id, new.hash, models, Some("ml"));
    k.tags.insert("owner".into(), "ana".into());
    let team = Team {
        name: "ml".into(),
        models: vec![],
        tags: BTreeMap::from([("cost_center".to_string(), "42".to_string())]),
        created_at: 0,
        log_payloads: Some(true),
    };
    let dir = Directory::new(vec![k], vec![team], policies, prices, settings);
    let gov = Governance::new(dir, pepper, Arc::new(MemoryLimits::new()), super::super::alerts::Alerts::log_only());
    World { gov, token: new.token, id: new.id }
}

fn request(model: &str) -> RequestContext {
    let mut ctx = RequestContext::new("req_1".into(), Inbound::OpenAiChat);
    ctx.requested_model = model.into();
    ctx.candidates = vec![model.into()];
    ctx.estimated_input_tokens = 100;
    ctx.max_output_tokens = Some(900);
    ctx
}

fn creds(token: &str) -> Credentials {
    Credentials { presented_key: Some(token.into()), in_process: false }
}

fn code(e: &GatewayError) -> (u16, &str) {
    (e.status(), e.code().unwrap_or_default())
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

fn outcome(end: End, input: u64, output: u64, estimated: bool) -> Outcome {
    Outcome {
        status: 200,
        error_code: None,
        end,
        usage: Usage { input_tokens: input, output_tokens: output, ..Usage::default() },
        usage_estimated: estimated,
        finish_reason: None,
        ttft: None,
        duration: Duration::ZERO,
    }
}

#[test]
fn a_valid_key_names_its_caller_with_team_and_key_tags() {
    let w = world(&[], vec![], &[], Settings::default());
    let mut ctx = request("db/llama");
    w.gov.identify(&mut ctx, &creds(&w.token)).unwrap();
    let id = ctx.identity.unwrap();
    assert_eq!(id.key_id.as_deref(), Some(w.id.as_str()));
    assert_eq!(id.team.as_deref(), Some("ml"));
    assert_eq!(id.tags.get("cost_center").map(String::as_str), Some("42"));
    assert_eq!(id.tags.get("owner").map(String::as_str), Some("ana"));
}

#[test]
fn an_sk_sy_key_that_is_not_good_is_refused_whatever_the_setting() {
    let w = world(&[], vec![], &[], Settings::default());
    let mut ctx = request("db/llama");
    let wrong = format!("{}{}", &w.token[..w.token.len() - 1], if w.token.ends_with('a') { 'b' } else { 'a' });
    let e = w.gov.identify(&mut ctx, &creds(&wrong)).unwrap_err();
    assert_eq!(code(&e), (401, "invalid_api_key"));
    assert!(e.to_string().contains("wrong secret") && !e.to_string().contains(&wrong));
    let unknown = "sk-sy-aaaaaaaaaaaa-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert!(w.gov.identify(&mut ctx, &creds(unknown)).unwrap_err().to_string().contains("not known"));
    assert!(w.gov.identify(&mut ctx, &creds("sk-sy-short")).unwrap_err().to_string().contains("malformed"));
    // Without `require_virtual_key`, other credentials (or none) pass anonymously.
    w.gov.identify(&mut ctx, &creds("sk-openai-style")).unwrap();
    w.gov.identify(&mut ctx, &Credentials::default()).unwrap();
    assert!(ctx.identity.is_none());
}

#[test]
fn revoked_disabled_and_expired_keys_are_refused() {
    let w = world(&[], vec![], &[], Settings::default());
    let dir = w.gov.directory();
    let base = (*dir.keys[&w.id]).clone();
    for (change, words) in [
        (KeyRecord { revoked_at: Some(1), ..base.clone() }, "was revoked"),
        (KeyRecord { enabled: false, ..base.clone() }, "is disabled"),
        (KeyRecord { expires_at: Some(1_000), ..base.clone() }, "expired at 1970-01-01T00:16:40Z"),
    ] {
        w.gov.replace(Directory::new(vec![change], vec![], vec![], &[], Settings::default()));
        let e = w.gov.identify(&mut request("m"), &creds(&w.token)).unwrap_err();
        assert_eq!(code(&e), (401, "invalid_api_key"));
        assert!(e.to_string().contains(words), "{e}");
    }
}

#[test]
fn a_rotated_key_keeps_its_old_secret_for_the_grace_period_only() {
    let w = world(&[], vec![], &[], Settings::default());
    let old = (*w.gov.directory().keys[&w.id]).clone();
    let rotated = w.gov.pepper().rotate(&w.id);
    let (new_token, new_hash) = (rotated.token, rotated.hash);
    let in_grace = KeyRecord {
        hash: new_hash.clone(),
        previous: Some(PreviousSecret { hash: old.hash.clone(), until: (now_ms() / 1000) as i64 + 60 }),
        ..old.clone()
    };
    w.gov.replace(Directory::new(vec![in_grace], vec![], vec![], &[], Settings::default()));
    w.gov.identify(&mut request("m"), &creds(&new_token)).unwrap();
    w.gov.identify(&mut request("m"), &creds(&w.token)).unwrap();
    let after = KeyRecord { hash: new_hash, previous: Some(PreviousSecret { hash: old.hash, until: 1 }), ..old };
    w.gov.replace(Directory::new(vec![after], vec![], vec![], &[], Settings::default()));
    w.gov.identify(&mut request("m"), &creds(&new_token)).unwrap();
    assert!(w.gov.identify(&mut request("m"), &creds(&w.token)).is_err());
}

#[test]
fn require_virtual_key_refuses_anything_else() {
    let w = world(&[], vec![], &[], Settings { require_virtual_key: true, ..Settings::default() });
    let e = w.gov.identify(&mut request("m"), &Credentials::default()).unwrap_err();
    assert_eq!(code(&e), (401, "missing_api_key"));
    let e = w.gov.identify(&mut request("m"), &creds("sk-proj-123")).unwrap_err();
    assert_eq!(code(&e), (401, "invalid_api_key"));
    // The embedding program and the admin's test call are not clients.
    w.gov.identify(&mut request("m"), &Credentials::in_process()).unwrap();
}

#[test]
fn a_key_may_only_call_its_models() {
    let w = world(&["db/*"], vec![], &[], Settings::default());
    let mut ctx = request("other/gpt");
    w.gov.identify(&mut ctx, &creds(&w.token)).unwrap();
    let e = block_on(w.gov.admit(&mut ctx)).unwrap_err();
    assert_eq!(code(&e), (403, "model_not_allowed"));
    assert!(e.to_string().contains(&w.id) && e.to_string().contains("other/gpt"), "{e}");
    let mut ok = request("db/llama");
    w.gov.identify(&mut ok, &creds(&w.token)).unwrap();
    block_on(w.gov.admit(&mut ok)).unwrap();
}

fn admitted(w: &World, model: &str) -> Result<RequestContext, Box<(GatewayError, http::HeaderMap)>> {
    let mut ctx = request(model);
    w.gov.identify(&mut ctx, &creds(&w.token)).unwrap();
    match block_on(w.gov.admit(&mut ctx)) {
        Ok(()) => Ok(ctx),
        Err(e) => Err(Box::new((e, ctx.response_headers))),
    }
}

#[test]
fn a_rate_limit_refuses_with_the_headers_sdks_read() {
    let w = world(&[], vec![], &[], Settings::default());
    let p = policy(json!({"id": "k", "name": "ci key", "scope": format!("key:{}", w.id),
        "limits": [{"metric": "requests", "per": "minute", "amount": 2}]}));
    let dir = w.gov.directory();
    w.gov.replace(Directory::new(
        dir.keys.values().map(|k| (**k).clone()).collect(),
        vec![],
        vec![p],
        &[],
        Settings::default(),
    ));
    let first = admitted(&w, "db/m").unwrap();
    assert_eq!(first.response_headers["x-ratelimit-remaining-requests"], "1");
    admitted(&w, "db/m").unwrap();
    let (e, h) = *admitted(&w, "db/m").unwrap_err();
    assert_eq!(code(&e), (429, "rate_limit_exceeded"));
    assert!(e.to_string().contains("ci key"), "{e}");
    assert_eq!(h["retry-after"], "30");
    assert_eq!(h["x-switchyard-limit"], "k; source=local");
    assert_eq!(h["x-ratelimit-remaining-requests"], "0");
}

#[test]
fn tokens_are_reserved_then_settled_with_what_was_used() {
    let w = world(
        &[],
        vec![policy(json!({"id": "t", "name": "tpm", "scope": "global",
        "limits": [{"metric": "total_tokens", "per": "minute", "amount": 10000}]}))],
        &[],
        Settings::default(),
    );
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(admitted(&w, "db/m").unwrap());
    }
    assert!(admitted(&w, "db/m").is_err(), "10 × (100 + 900) reserved");
    for ctx in &held {
        w.gov.settle(ctx, &outcome(End::Completed, 100, 50, false));
    }
    // 850 given back by each.
    for _ in 0..8 {
        admitted(&w, "db/m").unwrap();
    }
}

#[test]
fn a_client_that_leaves_without_a_usage_report_pays_its_reservation() {
    let w = world(
        &[],
        vec![policy(json!({"id": "t", "name": "tpm", "scope": "global",
        "limits": [{"metric": "output_tokens", "per": "minute", "amount": 1800}]}))],
        &[],
        Settings::default(),
    );
    let a = admitted(&w, "db/m").unwrap();
    w.gov.settle(&a, &outcome(End::ClientLeft, 100, 3, true));
    let b = admitted(&w, "db/m").unwrap();
    w.gov.settle(&b, &outcome(End::Failed, 0, 0, true));
    // a kept its 900; b's 900 came back.
    admitted(&w, "db/m").unwrap();
    assert!(admitted(&w, "db/m").is_err());
}

#[test]
fn a_usd_budget_refuses_unpriced_models_and_blocks_at_its_threshold() {
    let budget = policy(json!({"id": "b", "name": "monthly", "scope": "global",
        "budget": {"max_usd": 0.01, "period": "month"}}));
    let w = world(&[], vec![budget.clone()], &[], Settings::default());
    let (e, _) = *admitted(&w, "db/m").unwrap_err();
    assert_eq!(code(&e), (403, "price_unknown"));
    assert!(e.to_string().contains("db/m"));
    // $1 in / $3 out per million: a reservation of 100 in + 900 out = $0.0028.
    let price = Price { model: "db/*".into(), input: 1.0, output: 3.0, cache_read: None, cache_write: None };
    let w = world(&[], vec![budget], &[price], Settings::default());
    let held: Vec<_> = (0..3).map(|_| admitted(&w, "db/m").unwrap()).collect();
    let (e, h) = *admitted(&w, "db/m").unwrap_err();
    assert_eq!(code(&e), (429, "insufficient_quota"));
    assert!(h.contains_key("retry-after"), "a monthly budget renews");
    for ctx in &held {
        w.gov.settle(ctx, &outcome(End::Completed, 100, 100, false));
    }
    // Each really cost $0.0004: plenty left.
    admitted(&w, "db/m").unwrap();
}

#[test]
fn shadow_policies_never_refuse() {
    let w = world(
        &[],
        vec![policy(json!({"id": "s", "name": "trial", "scope": "global", "mode": "shadow",
        "limits": [{"metric": "requests", "per": "day", "amount": 1}]}))],
        &[],
        Settings::default(),
    );
    for _ in 0..3 {
        admitted(&w, "db/m").unwrap();
    }
    let state = w.gov.limits().state("s/", now_ms());
    assert_eq!(state.len(), 1, "counted all the same");
}

#[test]
fn per_user_policies_count_each_user_apart() {
    let w = world(
        &[],
        vec![policy(json!({"id": "u", "name": "each", "scope": "user:*",
        "limits": [{"metric": "requests", "per": "hour", "amount": 1}]}))],
        &[],
        Settings::default(),
    );
    let as_user = |u: &str| {
        let mut ctx = request("db/m");
        ctx.user = Some(u.into());
        block_on(w.gov.admit(&mut ctx))
    };
    as_user("ana").unwrap();
    as_user("bo").unwrap();
    assert!(as_user("ana").is_err());
    // No user, no per-user counter.
    block_on(w.gov.admit(&mut request("db/m"))).unwrap();
}

#[test]
fn a_default_price_covers_unpriced_models_when_configured() {
    let budget =
        policy(json!({"id": "b", "name": "m", "scope": "global", "budget": {"max_usd": 1.0, "period": "day"}}));
    let default = Price { model: "*".into(), input: 1.0, output: 1.0, cache_read: None, cache_write: None };
    let settings =
        Settings { unknown_price: crate::governance::prices::UnknownPrice::Default(default), ..Settings::default() };
    let w = world(&[], vec![budget], &[], settings);
    let ctx = admitted(&w, "anything/m").unwrap();
    w.gov.settle(&ctx, &outcome(End::Completed, 1_000_000, 0, false));
    let state = w.gov.limits().state("b/", now_ms());
    assert!(
        matches!(state[0], crate::governance::limiter::CounterState::Budget { spent, .. } if (spent - 1.0).abs() < 1e-9)
    );
}
