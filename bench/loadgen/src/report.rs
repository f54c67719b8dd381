//! Markdown tables from the JSON lines of a bench run: absolute figures per
//! scenario and target, then each proxy against the direct path and nginx.

use serde_json::Value;

pub fn print(jsonl: &str) -> anyhow::Result<()> {
    let rows: Vec<Value> =
        jsonl.lines().filter(|l| !l.trim().is_empty()).map(serde_json::from_str).collect::<Result<_, _>>()?;
    let mut scenarios: Vec<&str> = Vec::new();
    for r in rows.iter().filter(|r| r.get("ok").is_some()) {
        let s = r["scenario"].as_str().unwrap_or("");
        if !scenarios.contains(&s) {
            scenarios.push(s);
        }
    }
    let find = |scenario: &str, target: &str| {
        rows.iter().find(|r| r.get("ok").is_some() && r["scenario"] == scenario && r["target"] == target)
    };

    println!("| scenario | target | ok | failed | stalled | req/s | p50 µs | p99 µs | TTFB p50 µs | TTFB p99 µs | proxy CPU % | proxy CPU µs/req | proxy peak RSS MiB | listen overflows | note |");
    println!("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|");
    for s in &scenarios {
        for t in ["direct", "nginx", "switchyard"] {
            let Some(r) = find(s, t) else { continue };
            println!(
                "| {s} | {t} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                int(&r["ok"]),
                int(&r["failed"]),
                int(&r["stalled"]),
                num(r["rps"].as_f64(), 0),
                int(&r["latency_us"]["p50"]),
                int(&r["latency_us"]["p99"]),
                int(&r["ttfb_us"]["p50"]),
                int(&r["ttfb_us"]["p99"]),
                num(r["proxy_cpu_pct"].as_f64(), 0),
                num(r["proxy_cpu_us_per_req"].as_f64(), 1),
                num(r["proxy_peak_rss_kb"].as_f64().map(|kb| kb / 1024.0), 1),
                int(&r["listen_overflows"]),
                r["note"].as_str().unwrap_or(""),
            );
        }
    }

    println!();
    println!("| scenario | added p50 µs nginx / switchyard | switchyard ÷ nginx | added p99 µs nginx / switchyard | switchyard ÷ nginx | req/s ÷ direct nginx / switchyard | req/s switchyard ÷ nginx | CPU per req switchyard ÷ nginx |");
    println!("|---|--:|--:|--:|--:|--:|--:|--:|");
    for s in &scenarios {
        let (Some(d), Some(n), Some(y)) = (find(s, "direct"), find(s, "nginx"), find(s, "switchyard")) else {
            continue;
        };
        let added = |r: &Value, p: &str| Some(r["latency_us"][p].as_f64()? - d["latency_us"][p].as_f64()?);
        let per =
            |r: &Value, key: &str, base: &Value| Some(r[key].as_f64()? / base[key].as_f64().filter(|b| *b > 0.0)?);
        let pair = |p: &str| format!("{} / {}", num(added(n, p), 0), num(added(y, p), 0));
        let ratio = |p: &str| num(added(y, p).zip(added(n, p).filter(|a| *a > 0.0)).map(|(a, b)| a / b), 2);
        println!(
            "| {s} | {} | {} | {} | {} | {} / {} | {} | {} |",
            pair("p50"),
            ratio("p50"),
            pair("p99"),
            ratio("p99"),
            num(per(n, "rps", d), 2),
            num(per(y, "rps", d), 2),
            num(per(y, "rps", n), 2),
            num(per(y, "proxy_cpu_us_per_req", n), 2),
        );
    }

    let idle: Vec<&Value> = rows.iter().filter(|r| r.get("idle_rss_kb").is_some()).collect();
    if !idle.is_empty() {
        println!();
        println!("| idle after start | RSS MiB |");
        println!("|---|--:|");
        for r in idle {
            println!(
                "| {} | {} |",
                r["target"].as_str().unwrap_or(""),
                num(r["idle_rss_kb"].as_f64().map(|kb| kb / 1024.0), 1)
            );
        }
    }
    Ok(())
}

fn int(v: &Value) -> String {
    v.as_u64().map_or_else(|| "–".into(), |n| n.to_string())
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "–".into(), |x| format!("{x:.decimals$}"))
}
