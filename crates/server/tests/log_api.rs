//! The request log's wider API end to end: rows on the translated and
//! fallback paths, payloads (per key, redacted, capped, searchable), the
//! live tail, and usage from the rollups (JSON and CSV).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{api, log_rows as rows, start_governed, Harness};
use futures::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use switchyard_testkit::FakeUpstream;

const FILE: &str = r#"{"providers": {
  "db": {"network_config": {"base_url": "{gw}/mlflow", "max_retries": 0},
    "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true,
      "allowed_requests": {"chat_completion": true, "chat_completion_stream": true, "embedding": true,
        "text_completion": true, "text_completion_stream": true}}},
  "dbr": {"network_config": {"base_url": "{gw}/mlflow", "max_retries": 1, "retry_backoff_initial": 1, "retry_backoff_max": 2},
    "custom_provider_config": {"base_provider_type": "openai", "is_key_less": true}},
  "dba": {"network_config": {"base_url": "{gw}/anthropic", "max_retries": 0},
    "custom_provider_config": {"base_provider_type": "anthropic", "is_key_less": true}}},
  "routes": {"steady": {"targets": [{"model": "db/fault-503-always"}], "fallbacks": ["dba/backup"]}},
  "governance": {"prices": {"db/*": {"input": 1.0, "output": 2.0}}},
  "logging": {"payload_max_bytes": 1500, "redact_paths": ["metadata.user_id"]}}"#;

async fn key(h: &Harness, body: Value) -> (String, String) {
    let (status, k) = api(h, Method::POST, "/api/keys", Some(body)).await;
    assert_eq!(status, 201, "{k}");
    (k["id"].as_str().unwrap().to_string(), k["key"].as_str().unwrap().to_string())
}

async fn post(h: &Harness, token: &str, path: &str, body: Value) -> reqwest::Response {
    h.http.post(format!("{}{path}", h.base)).bearer_auth(token).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn translated_fallback_and_estimated_paths_are_logged_with_their_tokens() {
    let h = start_governed(FakeUpstream::start().await.unwrap(), FILE, None).await;
    let (id, token) = key(&h, json!({"name": "paths"})).await;
    // Anthropic client, OpenAI upstream: translated both ways.
    let msg: Value = post(
        &h,
        &token,
        "/anthropic/v1/messages",
        json!({"model": "db/llama", "max_tokens": 20, "messages": [{"role": "user", "content": "translate me"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    let emb: Value = post(&h, &token, "/v1/embeddings", json!({"model": "db/embed", "input": "four words go here"}))
        .await
        .json()
        .await
        .unwrap();
    let fell_back: Value = post(
        &h,
        &token,
        "/v1/chat/completions",
        json!({"model": "steady", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    // A stream that ends without its usage: the counts are estimated, and say so.
    let cut = post(
        &h,
        &token,
        "/v1/chat/completions",
        json!({"model": "db/fault-truncate", "stream": true, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(!cut.is_empty());

    let all = rows(&h, &format!("?key={id}"), 4).await;
    let [truncated, fallback, embedding, translated] = [&all[0], &all[1], &all[2], &all[3]];
    assert_eq!(translated["inbound"], "anthropic.messages");
    assert_eq!(translated["provider"], "db");
    assert_eq!(translated["input_tokens"], msg["usage"]["input_tokens"], "{translated}");
    assert_eq!(translated["output_tokens"], msg["usage"]["output_tokens"]);
    assert_eq!(translated["usage_estimated"], false);

    assert_eq!(embedding["inbound"], "openai.embeddings");
    assert_eq!(embedding["input_tokens"], emb["usage"]["prompt_tokens"], "{embedding}");

    assert_eq!(fallback["route"], "steady");
    assert_eq!((fallback["provider"].as_str(), fallback["served_model"].as_str()), (Some("dba"), Some("backup")));
    assert_eq!((fallback["attempts"].as_u64(), fallback["fallback_index"].as_u64()), (Some(2), Some(1)));
    let tried = fallback["attempt_details"].as_array().unwrap();
    assert_eq!(tried[0]["candidate"], "db/fault-503-always");
    assert!(tried[0]["error"].is_string(), "{tried:?}");
    assert_eq!((tried[1]["candidate"].as_str(), tried[1]["error"].is_null()), (Some("dba/backup"), true));
    assert_eq!(fallback["input_tokens"], fell_back["usage"]["prompt_tokens"]);

    assert_eq!(truncated["usage_estimated"], true, "{truncated}");
    assert_eq!(truncated["end"], "broke");
    assert!(truncated["output_tokens"].as_u64().unwrap() > 0, "an abandoned stream is never free");
}

#[tokio::test]
async fn payloads_are_stored_for_the_keys_that_ask_redacted_capped_and_searchable() {
    let h = start_governed(FakeUpstream::start().await.unwrap(), FILE, None).await;
    let (logged, logged_token) = key(&h, json!({"name": "audited", "log_payloads": true})).await;
    let (quiet, quiet_token) = key(&h, json!({"name": "quiet"})).await;
    let secret = "sk-live-PLANTEDSECRET0123456789";
    let body = |content: &str| {
        json!({"model": "db/llama", "stream": true, "metadata": {"user_id": "alice@example.com"},
               "messages": [{"role": "user", "content": content}]})
    };
    let streamed = post(&h, &logged_token, "/v1/chat/completions", body(&format!("my key is {secret}, keep it")))
        .await
        .text()
        .await
        .unwrap();
    // What the client read, reassembled, is what the log must hold.
    let text: String = streamed
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| v["choices"][0]["delta"]["content"].as_str().map(str::to_string))
        .collect();
    assert!(!text.is_empty());
    post(&h, &quiet_token, "/v1/chat/completions", body("nothing stored")).await.text().await.unwrap();
    post(&h, &logged_token, "/v1/chat/completions", body(&"long ".repeat(600))).await.text().await.unwrap();

    let audited = rows(&h, &format!("?key={logged}"), 2).await;
    let (long, first) = (&audited[0], &audited[1]);
    assert_eq!(first["has_payload"], true);
    let (status, detail) =
        api(&h, Method::GET, &format!("/api/logs/{}", first["request_id"].as_str().unwrap()), None).await;
    assert_eq!(status, 200, "{detail}");
    let p = &detail["payload"];
    let stored = p.to_string();
    assert!(!stored.contains("PLANTEDSECRET"), "a planted secret never reaches a stored payload: {stored}");
    assert!(!stored.contains("alice@example.com"), "a configured path is redacted");
    assert_eq!(p["request"]["metadata"]["user_id"], "[REDACTED]");
    assert!(p["request"]["messages"][0]["content"].as_str().unwrap().contains("keep it"));
    let expected = text.replace(secret, "[REDACTED]");
    assert_eq!(p["response"]["choices"][0]["message"]["content"], expected.as_str(), "the stream as its message: {p}");
    assert_eq!(p["response"]["object"], "chat.completion");
    assert_eq!(p["response"]["usage"]["prompt_tokens"], first["input_tokens"], "with the request's settled usage");

    let (_, long_detail) =
        api(&h, Method::GET, &format!("/api/logs/{}", long["request_id"].as_str().unwrap()), None).await;
    let lp = &long_detail["payload"];
    assert_eq!(lp["request_truncated"], true, "a side over 1500 bytes is cut: {lp}");
    assert!(lp["request"].as_str().unwrap().len() <= 1500);

    let q = rows(&h, &format!("?key={logged}&q=keep%20it"), 1).await;
    assert_eq!((q.len(), &q[0]["request_id"]), (1, &first["request_id"]), "search reads stored payloads");

    let quiet_rows = rows(&h, &format!("?key={quiet}"), 1).await;
    assert_eq!(quiet_rows[0]["has_payload"], false, "off by default");
    let (_, d) =
        api(&h, Method::GET, &format!("/api/logs/{}", quiet_rows[0]["request_id"].as_str().unwrap()), None).await;
    assert!(d["payload"].is_null());

    let (status, bad) = api(&h, Method::PUT, &format!("/api/keys/{quiet}"), Some(json!({"log_payloads": "yes"}))).await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad.to_string().contains("log_payloads"), "{bad}");
}

/// The next `data:` event of an SSE response (skipping comments and other events).
async fn next_event(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
) -> Value {
    loop {
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                if !event.lines().any(|l| l.starts_with("event:")) {
                    return serde_json::from_str(data).unwrap();
                }
            }
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next()).await.expect("an event in time");
        buf.push_str(std::str::from_utf8(&chunk.unwrap().unwrap()).unwrap());
    }
}

#[tokio::test]
async fn the_tail_streams_new_rows_that_pass_its_filters() {
    let h = start_governed(FakeUpstream::start().await.unwrap(), FILE, None).await;
    let (_, token) = key(&h, json!({"name": "tail"})).await;
    let resp = h.http.get(format!("{}/api/logs/tail?provider=dba", h.base)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    let chat = json!({"model": "db/llama", "messages": [{"role": "user", "content": "filtered out"}]});
    post(&h, &token, "/v1/chat/completions", chat).await.text().await.unwrap();
    let msg = json!({"model": "dba/claude", "max_tokens": 10, "messages": [{"role": "user", "content": "tailed"}]});
    let answered = post(&h, &token, "/anthropic/v1/messages", msg).await;
    let request_id = answered.headers()["x-request-id"].to_str().unwrap().to_string();
    answered.text().await.unwrap();
    let row = next_event(&mut stream, &mut buf).await;
    assert_eq!(row["provider"], "dba", "the db row did not pass the filter: {row}");
    assert_eq!(row["request_id"], request_id.as_str());

    let (status, bad) = api(&h, Method::GET, "/api/logs/tail?cursor=5", None).await;
    assert_eq!(status, 400);
    assert!(bad["error"]["message"].as_str().unwrap().contains("cursor"));
}

#[tokio::test]
async fn usage_adds_up_the_rows_by_group_and_exports_csv() {
    let h = start_governed(FakeUpstream::start().await.unwrap(), FILE, None).await;
    let (a, a_token) = key(&h, json!({"name": "alpha"})).await;
    let (b, b_token) = key(&h, json!({"name": "beta"})).await;
    let chat = |t: &str| json!({"model": if t.starts_with("db/") { t } else { "db/llama" }, "messages": [{"role": "user", "content": t}]});
    for t in ["one", "two", "three"] {
        post(&h, &a_token, "/v1/chat/completions", chat(t)).await.text().await.unwrap();
    }
    post(&h, &b_token, "/v1/chat/completions", chat("four")).await.text().await.unwrap();
    post(&h, &b_token, "/v1/chat/completions", chat("db/error-400")).await.text().await.unwrap();
    let (_, c_token) = key(&h, json!({"name": "gamma"})).await;
    let unpriced =
        json!({"model": "dba/claude", "max_tokens": 8, "messages": [{"role": "user", "content": "no price"}]});
    post(&h, &c_token, "/anthropic/v1/messages", unpriced).await.text().await.unwrap();
    let logged = rows(&h, "", 6).await;
    let sum = |k: &str, field: &str| -> u64 {
        logged.iter().filter(|r| r["key_id"] == k).map(|r| r[field].as_u64().unwrap()).sum()
    };

    let (status, usage) = api(&h, Method::GET, "/api/usage?group_by=key&bucket=day", None).await;
    assert_eq!(status, 200, "{usage}");
    let by = |k: &str| usage["data"].as_array().unwrap().iter().find(|r| r["group"] == k).cloned().unwrap();
    let (ua, ub) = (by(&a), by(&b));
    assert_eq!((ua["requests"].as_u64(), ua["label"].as_str()), (Some(3), Some("alpha")));
    assert_eq!(ua["input_tokens"].as_u64().unwrap(), sum(&a, "input_tokens"));
    assert_eq!(ua["output_tokens"].as_u64().unwrap(), sum(&a, "output_tokens"));
    assert_eq!((ub["requests"].as_u64(), ub["errors"].as_u64()), (Some(2), Some(1)));
    assert!(ua["cost_usd"].as_f64().unwrap() > 0.0);
    assert!(ua["p50_ms"].is_u64() && ua["p95_ms"].is_u64());
    assert_eq!(usage["totals"]["requests"], 6);
    assert_eq!(usage["totals"]["unpriced_requests"], 1, "an unknown cost is counted, not taken for $0");
    assert_eq!(ua["unpriced_requests"], 0);

    let (_, by_status) = api(&h, Method::GET, &format!("/api/usage?group_by=status&key={b}"), None).await;
    let classes: Vec<&str> = by_status["data"].as_array().unwrap().iter().filter_map(|r| r["group"].as_str()).collect();
    assert_eq!(classes, ["2xx", "4xx"], "{by_status}");

    let csv = h.http.get(format!("{}/api/usage?group_by=provider&format=csv", h.base)).send().await.unwrap();
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("bucket_start,group,requests,errors,input_tokens"));
    assert_eq!(lines.len(), 3, "two providers, one hour: {csv}");
    assert!(lines[1].contains(",db,5,1,"), "{csv}");
    assert!(lines[2].contains(",dba,1,0,"), "{csv}");

    let (status, bad) = api(&h, Method::GET, "/api/usage?group_by=colour", None).await;
    assert_eq!(status, 400);
    assert!(bad["error"]["message"].as_str().unwrap().contains("group_by"), "{bad}");
    let (status, _) =
        api(&h, Method::GET, "/api/usage?since=2027-01-02T00:00:00Z&until=2027-01-01T00:00:00Z", None).await;
    assert_eq!(status, 400);
}

/// `name{labels} value` lines of a scrape, as (series, value).
fn samples(scrape: &str) -> Vec<(String, f64)> {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.rsplit_once(' ').map(|(k, v)| (k.to_string(), v.parse().unwrap_or(f64::NAN))))
        .collect()
}

fn sample(all: &[(String, f64)], name: &str, labels: &[&str]) -> f64 {
    all.iter()
        .filter(|(k, _)| k.starts_with(&format!("{name}{{")) || k == name)
        .filter(|(k, _)| labels.iter().all(|l| k.contains(l)))
        .map(|(_, v)| v)
        .sum()
}

#[tokio::test]
async fn metrics_count_the_requests_made_with_bounded_labels() {
    let h = start_governed(FakeUpstream::start().await.unwrap(), FILE, None).await;
    let (id, token) = key(&h, json!({"name": "metered", "rate_limit": {"requests_per_minute": 4}})).await;
    let chat = |m: &str| json!({"model": m, "max_tokens": 10, "messages": [{"role": "user", "content": "count me"}]});
    let mut input = 0;
    for m in ["db/priced-model", "db/priced-model", "dba/unpriced-model"] {
        let r: Value = post(&h, &token, "/v1/chat/completions", chat(m)).await.json().await.unwrap();
        input += r["usage"]["prompt_tokens"].as_u64().unwrap();
    }
    post(&h, &token, "/v1/chat/completions", chat("steady")).await.text().await.unwrap();
    let limited = post(&h, &token, "/v1/chat/completions", chat("db/priced-model")).await;
    assert_eq!(limited.status(), 429, "the key's 4 requests a minute are spent");
    let (_, other_token) = key(&h, json!({"name": "unmetered"})).await;
    let retried: Value =
        post(&h, &other_token, "/v1/chat/completions", chat("dbr/fault-503-once")).await.json().await.unwrap();
    input += retried["usage"]["prompt_tokens"].as_u64().unwrap();

    let resp = h.http.get(format!("{}/metrics", h.base)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = resp.text().await.unwrap();
    let all = samples(&text);
    let ok = sample(&all, "switchyard_requests_total", &["status_class=\"2xx\""]);
    assert_eq!(ok, 5.0, "{text}");
    assert_eq!(sample(&all, "switchyard_upstream_retries_total", &["provider=\"dbr\""]), 1.0, "{text}");
    assert_eq!(
        sample(
            &all,
            "switchyard_requests_total",
            &["model=\"db/priced-model\"", "provider=\"db\"", "inbound=\"openai.chat\""]
        ),
        2.0,
        "a priced model is a configured one"
    );
    assert_eq!(
        sample(&all, "switchyard_requests_total", &["model=\"other\"", "provider=\"dba\""]),
        1.0,
        "an unconfigured model reads other"
    );
    assert_eq!(
        sample(&all, "switchyard_requests_total", &["model=\"dba/backup\""]),
        1.0,
        "a route's target is configured"
    );
    assert_eq!(sample(&all, "switchyard_rate_limited_total", &["source=\"gateway\""]), 1.0);
    assert_eq!(sample(&all, "switchyard_fallbacks_total", &["route=\"steady\""]), 1.0);
    assert_eq!(sample(&all, "switchyard_key_requests_total", &[&format!("key_id=\"{id}\"")]), 5.0);
    assert_eq!(sample(&all, "switchyard_inflight_requests", &[]), 0.0, "every request settled");
    let counted = sample(&all, "gen_ai_client_token_usage_count", &["gen_ai_token_type=\"input\""]);
    assert_eq!(counted, 5.0, "one observation per answered request");
    let summed = sample(
        &all,
        "gen_ai_client_token_usage_sum",
        &["gen_ai_token_type=\"input\"", "gen_ai_request_model=\"db/priced-model\""],
    ) + sample(
        &all,
        "gen_ai_client_token_usage_sum",
        &["gen_ai_token_type=\"input\"", "gen_ai_request_model=\"other\""],
    );
    assert_eq!(summed as u64, input, "the tokens the upstream reported");
    assert_eq!(sample(&all, "gen_ai_server_request_duration_seconds_count", &[]), 6.0, "{text}");
    assert!(sample(&all, "gen_ai_server_time_to_first_token_seconds_count", &[]) >= 5.0);
    assert!(text.contains("switchyard_log_queue_depth"));
    assert!(text.contains("switchyard_log_dropped_total{what=\"row\"} 0"), "{text}");
    assert!(sample(&all, "process_resident_memory_bytes", &[]) > 1e6);
    assert!(!text.contains("count me"), "no payload in a label");

    // The example Grafana dashboard only reads metrics this scrape declares.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut checked = 0;
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                let metric = ["switchyard_", "gen_ai_client_", "gen_ai_server_", "process_"];
                if !metric.iter().any(|p| word.starts_with(p)) {
                    continue;
                }
                let base = ["_bucket", "_sum", "_count", "_total"]
                    .iter()
                    .find_map(|sfx| word.strip_suffix(sfx))
                    .unwrap_or(word);
                assert!(text.contains(&format!("# TYPE {base} ")), "the dashboard reads {word}, which /metrics lacks");
                checked += 1;
            }
        }
    }
    assert!(checked >= 12, "{checked}");
}
