use serde_json::{json, Value};

use super::group::{median, Groups};
use super::render;

fn row(target: &str, round: u32, rps: f64, p50: u32, rss_kb: u64) -> Value {
    json!({
        "scenario": "chat c=64", "target": target, "round": round, "note": "",
        "ok": 1000, "failed": 1, "stalled": 0, "listen_overflows": 0,
        "rps": rps, "latency_us": {"p50": p50, "p99": 2 * p50}, "ttfb_us": {"p50": p50, "p99": 2 * p50},
        "proxy_cpu_pct": 90.0, "proxy_cpu_us_per_req": 1e6 / rps, "proxy_peak_rss_kb": rss_kb,
    })
}

fn jsonl(rows: &[Value]) -> String {
    rows.iter().map(|r| format!("{r}\n")).collect()
}

/// The line of the table whose header starts with `head`, for the scenario.
fn line<'a>(report: &'a str, head: &str) -> &'a str {
    let table = report.split(head).nth(1).unwrap_or_else(|| panic!("no table {head:?} in\n{report}"));
    table.lines().find(|l| l.starts_with("| chat c=64 |")).unwrap_or_else(|| panic!("no row in\n{report}"))
}

/// Three interleaved rounds; round 2 was a slow spell for everyone.
fn three_rounds() -> Vec<Value> {
    vec![
        row("direct", 1, 10000.0, 100, 0),
        row("nginx", 1, 1000.0, 200, 8000),
        row("switchyard", 1, 700.0, 300, 16000),
        row("baseline", 1, 800.0, 280, 15000),
        row("direct", 2, 5000.0, 180, 0),
        row("nginx", 2, 500.0, 400, 8100),
        row("switchyard", 2, 360.0, 500, 20480),
        row("baseline", 2, 400.0, 450, 15000),
        row("direct", 3, 9000.0, 110, 0),
        row("nginx", 3, 900.0, 220, 8000),
        row("switchyard", 3, 720.0, 320, 16000),
        row("baseline", 3, 780.0, 300, 15000),
    ]
}

#[test]
fn median_of_odd_and_even_counts() {
    assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    assert_eq!(median(vec![]), None);
}

#[test]
fn groups_by_scenario_and_target_and_takes_medians() {
    let rows = three_rounds();
    let g = Groups::new(&rows);
    assert_eq!(g.scenarios, ["chat c=64"]);
    assert_eq!(g.targets, ["direct", "nginx", "switchyard", "baseline"]);
    assert_eq!(g.max_rounds(), 3);
    let y = g.get("chat c=64", "switchyard").unwrap();
    assert_eq!(y.median(&["rps"]), Some(700.0));
    assert_eq!(y.median(&["latency_us", "p50"]), Some(320.0));
    assert_eq!(y.max(&["proxy_peak_rss_kb"]), Some(20480.0));
    assert_eq!(y.range(&["rps"]), Some((360.0, 720.0)));
    assert_eq!(y.sum("ok"), Some(3000));
}

#[test]
fn report_shows_medians_spread_and_ratios_of_medians() {
    let report = render(&jsonl(&three_rounds()), Some("switchyard-old")).unwrap();
    assert!(report.starts_with("Up to 3 rounds"), "{report}");
    // Median req/s 700, its spread 360–720 (± 25.7 % of 700), median p50 320, max peak RSS 20 MiB, ok summed.
    let y = report.lines().find(|l| l.starts_with("| chat c=64 | switchyard |")).unwrap();
    assert!(y.starts_with("| chat c=64 | switchyard | 3000 | 3 | 0 | 700 | 360–720 ±25.7% | 320 | 640 |"), "{y}");
    assert!(y.contains("| 20.0 |"), "{y}");
    assert!(report.contains("| chat c=64 | baseline (switchyard-old) | 3000 |"), "{report}");
    // Added p50 from the medians: nginx 220 − 110, switchyard 320 − 110; req/s 700 ÷ 900.
    let n = line(&report, "| scenario | added p50");
    assert!(n.starts_with("| chat c=64 | 110 / 210 | 1.91 | 220 / 420 | 1.91 | 0.10 / 0.08 | 0.78 |"), "{n}");
    // (700 ÷ 900) ÷ (780 ÷ 900) = 0.90; per round 700/800, 360/400, 720/780 = 0.875, 0.9, 0.923.
    let b = line(&report, "| scenario | req/s switchyard ÷ nginx");
    assert!(b.starts_with("| chat c=64 | 0.78 | 0.87 | 0.90 | 0.88–0.92 | 210 / 190 |"), "{b}");
    assert!(report.contains("baseline = switchyard-old;"), "{report}");
}

#[test]
fn one_round_looks_as_before() {
    let rows: Vec<Value> =
        three_rounds().into_iter().filter(|r| r["round"] == 1 && r["target"] != "baseline").collect();
    let report = render(&jsonl(&rows), None).unwrap();
    assert!(report.starts_with("| scenario | target | ok | failed | stalled | req/s | p50 µs |"), "{report}");
    assert!(!report.contains("min–max") && !report.contains("baseline"), "{report}");
    let y = report.lines().find(|l| l.starts_with("| chat c=64 | switchyard |")).unwrap();
    assert_eq!(
        y,
        "| chat c=64 | switchyard | 1000 | 1 | 0 | 700 | 300 | 600 | 300 | 600 | 90 | 1428.6 | 15.6 | 0 |  |"
    );
}

#[test]
fn rows_without_a_round_are_round_one() {
    let mut r = row("nginx", 1, 1000.0, 200, 8000);
    r.as_object_mut().unwrap().remove("round");
    let rows = vec![r, json!({"target": "switchyard", "idle_rss_kb": 10240})];
    let g = Groups::new(&rows);
    assert_eq!(g.max_rounds(), 1);
    assert!(render(&jsonl(&rows), None).unwrap().contains("| switchyard | 10.0 |"));
}

#[test]
fn governance_on_is_set_against_the_same_load_without_it() {
    let mut rows: Vec<Value> =
        three_rounds().into_iter().filter(|r| r["round"] == 1 && r["target"] != "baseline").collect();
    for (target, rps, p50) in [("direct", 10000.0, 100), ("nginx", 800.0, 220), ("switchyard", 504.0, 330)] {
        let mut r = row(target, 1, rps, p50, 0);
        r["scenario"] = json!(format!("chat c=64{}", super::GOVERNED));
        rows.push(r);
    }
    let report = render(&jsonl(&rows), None).unwrap();
    // Off: 700 ÷ 1000 = 0.70; on: 504 ÷ 800 = 0.63; 0.63 ÷ 0.70 = 0.90.
    let g = line(&report, "| scenario | req/s switchyard ÷ nginx, off");
    assert!(g.starts_with("| chat c=64 | 0.70 | 0.63 | 0.90 | 200 / 230 |"), "{g}");
}

#[test]
fn the_request_log_is_set_beside_the_same_build_without_it() {
    let mut rows: Vec<Value> =
        three_rounds().into_iter().filter(|r| r["round"] == 1 && r["target"] != "baseline").collect();
    for (target, rps, p50) in [("nginx", 1000.0, 220), ("switchyard", 700.0, 300), ("nolog", 800.0, 250)] {
        let mut r = row(target, 1, rps, p50, 0);
        r["scenario"] = json!("chat c=64, request log on vs off");
        rows.push(r);
    }
    let report = render(&jsonl(&rows), None).unwrap();
    let table = report.split("request log on = the default").nth(1).unwrap();
    let line = table.lines().find(|l| l.starts_with("| chat c=64, request log on vs off |")).unwrap();
    assert!(line.starts_with("| chat c=64, request log on vs off | 700 | 800 | 0.88 | 300 / 250 |"), "{line}");
}
