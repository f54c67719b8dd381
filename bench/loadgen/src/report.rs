//! Markdown tables from the JSON lines of a bench run: the figures of each
//! scenario and target (the median over its rounds), then each proxy against
//! the direct path and nginx, and with a `baseline` target (another build of
//! switchyard) the build under test against it, both as ratios to nginx.

mod group;

use std::fmt::{self, Write};

use group::{per_round_ratios, Group, Groups};
use serde_json::Value;

pub fn print(jsonl: &str, baseline_label: Option<&str>) -> anyhow::Result<()> {
    print!("{}", render(jsonl, baseline_label)?);
    Ok(())
}

pub fn render(jsonl: &str, baseline_label: Option<&str>) -> anyhow::Result<String> {
    let rows: Vec<Value> =
        jsonl.lines().filter(|l| !l.trim().is_empty()).map(serde_json::from_str).collect::<Result<_, _>>()?;
    let groups = Groups::new(&rows);
    let rounds = groups.max_rounds();
    let mut out = String::new();
    if rounds > 1 {
        writeln!(
            out,
            "Up to {rounds} rounds per scenario and target, interleaved (round 1 of every target, then round 2 in reverse order, …); \
             each figure is the median over the rounds, except peak RSS (the max) and ok / failed / stalled / \
             listen overflows (summed). req/s min–max is the spread between the rounds, ± half of it as % of the \
             median. Ratios are of the medians.\n"
        )?;
    }
    figures(&mut out, &groups, baseline_label, rounds > 1)?;
    against_nginx(&mut out, &groups)?;
    if groups.targets.contains(&"baseline") {
        against_baseline(&mut out, &groups, baseline_label, rounds > 1)?;
    }
    for v in &VARIANTS {
        against_feature_off(&mut out, &groups, v)?;
    }
    against_nolog(&mut out, &groups)?;
    idle(&mut out, &rows)?;
    Ok(out)
}

fn figures(out: &mut String, g: &Groups, baseline_label: Option<&str>, spread: bool) -> fmt::Result {
    let (spread_head, spread_align) = if spread { (" req/s min–max |", "--:|") } else { ("", "") };
    writeln!(out, "| scenario | target | ok | failed | stalled | req/s |{spread_head} p50 µs | p99 µs | TTFB p50 µs | TTFB p99 µs | proxy CPU % | proxy CPU µs/req | proxy peak RSS MiB | listen overflows | note |")?;
    writeln!(out, "|---|---|--:|--:|--:|--:|{spread_align}--:|--:|--:|--:|--:|--:|--:|--:|---|")?;
    for s in &g.scenarios {
        for t in &g.targets {
            let Some(x) = g.get(s, t) else { continue };
            let rps = x.median(&["rps"]);
            let spread_cell = if !spread {
                String::new()
            } else if x.rows.len() < 2 {
                " — |".into()
            } else {
                let (lo, hi) = x.range(&["rps"]).unwrap_or_default();
                let pct = rps.filter(|m| *m > 0.0).map(|m| format!(" ±{:.1}%", 50.0 * (hi - lo) / m));
                format!(" {lo:.0}–{hi:.0}{} |", pct.unwrap_or_default())
            };
            let target = match (*t, baseline_label) {
                ("baseline", Some(label)) => format!("baseline ({label})"),
                _ => t.to_string(),
            };
            writeln!(
                out,
                "| {s} | {target} | {} | {} | {} | {} |{spread_cell} {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                int(x.sum("ok")),
                int(x.sum("failed")),
                int(x.sum("stalled")),
                num(rps, 0),
                num(x.median(&["latency_us", "p50"]), 0),
                num(x.median(&["latency_us", "p99"]), 0),
                num(x.median(&["ttfb_us", "p50"]), 0),
                num(x.median(&["ttfb_us", "p99"]), 0),
                num(x.median(&["proxy_cpu_pct"]), 0),
                num(x.median(&["proxy_cpu_us_per_req"]), 1),
                num(x.max(&["proxy_peak_rss_kb"]).map(|kb| kb / 1024.0), 1),
                int(x.sum("listen_overflows")),
                x.rows[0]["note"].as_str().unwrap_or(""),
            )?;
        }
    }
    Ok(())
}

fn against_nginx(out: &mut String, g: &Groups) -> fmt::Result {
    writeln!(out)?;
    writeln!(out, "| scenario | added p50 µs nginx / switchyard | switchyard ÷ nginx | added p99 µs nginx / switchyard | switchyard ÷ nginx | req/s ÷ direct nginx / switchyard | req/s switchyard ÷ nginx | CPU per req switchyard ÷ nginx |")?;
    writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|")?;
    for s in &g.scenarios {
        let (Some(d), Some(n), Some(y)) = (g.get(s, "direct"), g.get(s, "nginx"), g.get(s, "switchyard")) else {
            continue;
        };
        let added = |x: &Group, p: &str| added(x, Some(d), p);
        let pair = |p: &str| format!("{} / {}", num(added(n, p), 0), num(added(y, p), 0));
        let ratio = |p: &str| num(added(y, p).zip(added(n, p).filter(|a| *a > 0.0)).map(|(a, b)| a / b), 2);
        writeln!(
            out,
            "| {s} | {} | {} | {} | {} | {} / {} | {} | {} |",
            pair("p50"),
            ratio("p50"),
            pair("p99"),
            ratio("p99"),
            num(per(n, "rps", d), 2),
            num(per(y, "rps", d), 2),
            num(per(y, "rps", n), 2),
            num(per(y, "proxy_cpu_us_per_req", n), 2),
        )?;
    }
    Ok(())
}

/// switchyard vs baseline = (switchyard ÷ nginx) ÷ (baseline ÷ nginx) of the median req/s.
fn against_baseline(out: &mut String, g: &Groups, label: Option<&str>, per_round: bool) -> fmt::Result {
    writeln!(out)?;
    writeln!(
        out,
        "baseline = {}; switchyard vs baseline = (switchyard ÷ nginx) ÷ (baseline ÷ nginx) of the median req/s: \
         under 0.95 = the build under test is more than 5 % slower than the baseline.\n",
        label.unwrap_or("another build of switchyard")
    )?;
    let (round_head, round_align) = if per_round { (" per round min–max |", "--:|") } else { ("", "") };
    writeln!(out, "| scenario | req/s switchyard ÷ nginx | req/s baseline ÷ nginx | switchyard vs baseline |{round_head} added p50 µs switchyard / baseline | added p99 µs switchyard / baseline | CPU per req switchyard ÷ baseline |")?;
    writeln!(out, "|---|--:|--:|--:|{round_align}--:|--:|--:|")?;
    for s in &g.scenarios {
        let (Some(n), Some(y), Some(b)) = (g.get(s, "nginx"), g.get(s, "switchyard"), g.get(s, "baseline")) else {
            continue;
        };
        let d = g.get(s, "direct");
        let (y_n, b_n) = (per(y, "rps", n), per(b, "rps", n));
        let round_cell = if !per_round {
            String::new()
        } else {
            let r = per_round_ratios(y, b, &["rps"]);
            match (r.iter().copied().reduce(f64::min), r.iter().copied().reduce(f64::max)) {
                (Some(lo), Some(hi)) if r.len() > 1 => format!(" {lo:.2}–{hi:.2} |"),
                _ => " — |".into(),
            }
        };
        let pair = |p: &str| format!("{} / {}", num(added(y, d, p), 0), num(added(b, d, p), 0));
        writeln!(
            out,
            "| {s} | {} | {} | {} |{round_cell} {} | {} | {} |",
            num(y_n, 2),
            num(b_n, 2),
            num(y_n.zip(b_n.filter(|r| *r > 0.0)).map(|(y, b)| y / b), 2),
            pair("p50"),
            pair("p99"),
            num(per(y, "proxy_cpu_us_per_req", b), 2),
        )?;
    }
    Ok(())
}

/// Scenario names that measure the same load with a virtual key on every request.
pub const GOVERNED: &str = ", governance on";
/// The target that is the switchyard build without its request log.
pub const NOLOG: &str = "nolog";

/// A feature measured as a pair of scenarios: `<scenario>` and `<scenario><suffix>`.
struct Variant {
    suffix: &'static str,
    /// The suffixed scenario has the feature on (else off).
    suffix_is_on: bool,
    what: &'static str,
}

const VARIANTS: [Variant; 1] = [Variant {
    suffix: GOVERNED,
    suffix_is_on: true,
    what: "governance on = a virtual key with request and token limits on every request (identify, model check, \
           one acquire of every counter, settle with the tap's usage)",
}];

/// Scenarios that measured switchyard beside [`NOLOG`] in the same rounds:
/// the request log's cost, side by side (no nginx ratio needed).
fn against_nolog(out: &mut String, g: &Groups) -> fmt::Result {
    let rows: Vec<(&str, &Group, &Group)> =
        g.scenarios.iter().filter_map(|s| Some((*s, g.get(s, "switchyard")?, g.get(s, NOLOG)?))).collect();
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "request log on = the default: one row per request through the batch writer into logs.db, hourly rollups \
         (off = the same build with `--no-request-log`, measured in the same rounds; metrics on in both). \
         under 0.90 misses the target.\n"
    )?;
    writeln!(out, "| scenario | req/s on | req/s off | on ÷ off | p50 µs on / off | CPU per req on ÷ off | peak RSS MiB on / off |")?;
    writeln!(out, "|---|--:|--:|--:|--:|--:|--:|")?;
    for (s, on, off) in rows {
        let (r_on, r_off) = (on.median(&["rps"]), off.median(&["rps"]));
        let rss = |x: &Group| x.max(&["proxy_peak_rss_kb"]).map(|kb| kb / 1024.0);
        writeln!(
            out,
            "| {s} | {} | {} | {} | {} / {} | {} | {} / {} |",
            num(r_on, 0),
            num(r_off, 0),
            num(per(on, "rps", off), 2),
            num(on.median(&["latency_us", "p50"]), 0),
            num(off.median(&["latency_us", "p50"]), 0),
            num(per(on, "proxy_cpu_us_per_req", off), 2),
            num(rss(on), 1),
            num(rss(off), 1),
        )?;
    }
    Ok(())
}

/// For each pair: switchyard's req/s with the feature on, as a ratio to
/// nginx in that scenario, over the same ratio with it off (each scenario's
/// own nginx rounds absorb the machine's slow spells).
fn against_feature_off(out: &mut String, g: &Groups, v: &Variant) -> fmt::Result {
    let pairs: Vec<(&str, &str)> = g
        .scenarios
        .iter()
        .filter_map(|s| s.strip_suffix(v.suffix).map(|base| if v.suffix_is_on { (*s, base) } else { (base, *s) }))
        .collect();
    if pairs.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}. on ÷ off = (switchyard ÷ nginx on) ÷ (switchyard ÷ nginx off): under 0.90 misses the target.\n",
        v.what
    )?;
    writeln!(
        out,
        "| scenario | req/s switchyard ÷ nginx, off | on | on ÷ off | added p50 µs off / on | CPU per req on ÷ off |"
    )?;
    writeln!(out, "|---|--:|--:|--:|--:|--:|")?;
    for (on, off) in pairs {
        let (Some(n_on), Some(y_on), Some(n_off), Some(y_off)) =
            (g.get(on, "nginx"), g.get(on, "switchyard"), g.get(off, "nginx"), g.get(off, "switchyard"))
        else {
            continue;
        };
        let (r_on, r_off) = (per(y_on, "rps", n_on), per(y_off, "rps", n_off));
        let base = if v.suffix_is_on { off } else { on };
        writeln!(
            out,
            "| {base} | {} | {} | {} | {} / {} | {} |",
            num(r_off, 2),
            num(r_on, 2),
            num(r_on.zip(r_off.filter(|r| *r > 0.0)).map(|(a, b)| a / b), 2),
            num(added(y_off, g.get(off, "direct"), "p50"), 0),
            num(added(y_on, g.get(on, "direct"), "p50"), 0),
            num(per(y_on, "proxy_cpu_us_per_req", y_off), 2),
        )?;
    }
    Ok(())
}

fn idle(out: &mut String, rows: &[Value]) -> fmt::Result {
    let idle: Vec<&Value> = rows.iter().filter(|r| r.get("idle_rss_kb").is_some()).collect();
    if !idle.is_empty() {
        writeln!(out)?;
        writeln!(out, "| idle after start | RSS MiB |")?;
        writeln!(out, "|---|--:|")?;
        for r in idle {
            writeln!(
                out,
                "| {} | {} |",
                r["target"].as_str().unwrap_or(""),
                num(r["idle_rss_kb"].as_f64().map(|kb| kb / 1024.0), 1)
            )?;
        }
    }
    Ok(())
}

/// Median latency percentile `p` of `x` minus the direct path's.
fn added(x: &Group, direct: Option<&Group>, p: &str) -> Option<f64> {
    Some(x.median(&["latency_us", p])? - direct?.median(&["latency_us", p])?)
}

/// Median `key` of `x` ÷ median `key` of `base`.
fn per(x: &Group, key: &str, base: &Group) -> Option<f64> {
    Some(x.median(&[key])? / base.median(&[key]).filter(|b| *b > 0.0)?)
}

fn int(v: Option<u64>) -> String {
    v.map_or_else(|| "–".into(), |n| n.to_string())
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "–".into(), |x| format!("{x:.decimals$}"))
}

#[cfg(test)]
mod tests;
