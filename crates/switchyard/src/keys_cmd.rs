//! `switchyard keys create|list|revoke`: the admin API's `/api/keys` from a
//! shell, for set-ups without the UI.

use std::process::ExitCode;

use anyhow::Context;
use serde_json::{json, Value};

use crate::cli::{KeysArgs, KeysCommand};

pub fn run(args: KeysArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(keys(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The create body from the flags: the API's key shorthand.
fn create_body(command: &KeysCommand) -> Value {
    let KeysCommand::Create { name, team, models, rpm, tpm, budget_usd, budget_tokens, budget_period, expires_at } =
        command
    else {
        return Value::Null;
    };
    let mut body = json!({"name": name});
    if let Some(t) = team {
        body["team"] = json!(t);
    }
    if !models.is_empty() {
        body["models"] = json!(models);
    }
    if rpm.is_some() || tpm.is_some() {
        body["rate_limit"] = json!({"requests_per_minute": rpm, "tokens_per_minute": tpm});
    }
    if let Some(usd) = budget_usd {
        body["budget"] = json!({"max_usd": usd, "period": budget_period});
    } else if let Some(tokens) = budget_tokens {
        body["budget"] = json!({"max_tokens": tokens, "period": budget_period});
    }
    if let Some(at) = expires_at {
        body["expires_at"] = json!(at);
    }
    body
}

async fn keys(args: KeysArgs) -> anyhow::Result<()> {
    switchyard_core::upstream::client::install_crypto_provider();
    let http = reqwest::Client::builder().build().context("building the HTTP client")?;
    let base = args.url.trim_end_matches('/');
    let request = |method: reqwest::Method, path: &str| {
        let mut r = http.request(method, format!("{base}{path}"));
        if let Some(t) = args.admin_token.as_deref().filter(|t| !t.trim().is_empty()) {
            r = r.bearer_auth(t.trim());
        }
        r
    };
    let sent = match &args.command {
        KeysCommand::Create { .. } => request(reqwest::Method::POST, "/api/keys").json(&create_body(&args.command)),
        KeysCommand::List => request(reqwest::Method::GET, "/api/keys"),
        KeysCommand::Revoke { id } => request(reqwest::Method::POST, &format!("/api/keys/{id}/revoke")),
    };
    let resp = sent.send().await.with_context(|| format!("cannot reach the gateway at {base}"))?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body.pointer("/error/message").and_then(Value::as_str).unwrap_or("no message");
        let details: Vec<String> = body
            .pointer("/error/details")
            .and_then(Value::as_array)
            .map(|d| {
                d.iter()
                    .map(|d| format!("  {}: {}", d["path"].as_str().unwrap_or(""), d["message"].as_str().unwrap_or("")))
                    .collect()
            })
            .unwrap_or_default();
        anyhow::bail!(
            "the gateway answered {status}: {message}{}",
            details.iter().map(|d| format!("\n{d}")).collect::<String>()
        );
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&body)?);
        return Ok(());
    }
    match &args.command {
        KeysCommand::Create { .. } => {
            println!("created key {} ({})", text(&body["name"]), text(&body["id"]));
            println!("{}", text(&body["key"]));
            eprintln!("this is the only time the key is shown: store it now");
        }
        KeysCommand::List => {
            println!("{:<14} {:<9} {:<24} {:<12} LIMITS", "ID", "STATUS", "NAME", "TEAM");
            for k in body["data"].as_array().into_iter().flatten() {
                println!(
                    "{:<14} {:<9} {:<24} {:<12} {}",
                    text(&k["id"]),
                    text(&k["status"]),
                    text(&k["name"]),
                    text(&k["team"]),
                    limits(k)
                );
            }
        }
        KeysCommand::Revoke { .. } => println!("revoked key {} ({})", text(&body["name"]), text(&body["id"])),
    }
    Ok(())
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// `60 rpm, 100000 tpm, $50/month`: a key's shorthand limits in a line.
fn limits(k: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(r) = k["rate_limit"].as_object() {
        for (field, v) in r.iter().filter(|(_, v)| !v.is_null()) {
            parts.push(format!("{v} {}", field.replace("_per_", "/").replace('_', " ")));
        }
    }
    if let Some(b) = k["budget"].as_object() {
        let period = b.get("period").and_then(Value::as_str).unwrap_or("");
        match (b.get("max_usd").and_then(Value::as_f64), b.get("max_tokens").and_then(Value::as_u64)) {
            (Some(usd), _) => parts.push(format!("${usd}/{period}")),
            (_, Some(t)) => parts.push(format!("{t} tokens/{period}")),
            _ => {}
        }
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}
