use super::*;
use crate::observability::record::sample_row;

fn row(at: u64, provider: &str, status: u16, ms: u64, input: u64) -> LogRow {
    let mut r = sample_row("r");
    r.started_at_ms = at;
    r.provider = Some(provider.into());
    r.served_model = Some("m1".into());
    r.status = status;
    r.duration_ms = ms;
    r.ttft_ms = Some(ms / 2);
    r.input_tokens = input;
    r.output_tokens = 1;
    r.cost_usd = Some(0.001);
    r
}

#[test]
fn rows_fold_by_hour_and_dimensions_and_report_by_day() {
    let h = 1_800_000_000_000 - 1_800_000_000_000 % DAY_MS;
    let rows = vec![
        row(h + 10, "a", 200, 40, 10),
        row(h + 20, "a", 200, 400, 5),
        row(h + HOUR_MS + 1, "a", 500, 30, 0),
        row(h + 5, "b", 429, 10, 1),
    ];
    let folded = fold(&rows);
    assert_eq!(folded.len(), 3, "a/2xx/hour0, a/5xx/hour1, b/4xx/hour0 … {folded:#?}");
    let a0 = folded.iter().find(|r| r.key.provider == "a" && r.key.hour_ms == h).unwrap();
    assert_eq!((a0.counts.requests, a0.counts.input_tokens, a0.counts.errors), (2, 15, 0));
    assert_eq!(a0.key.model, "m1", "the served model is the model dimension");

    let f = UsageFilter { since_ms: h, until_ms: h + DAY_MS, ..UsageFilter::default() };
    let by_hour = report(&folded, &f, Some(GroupBy::Provider), Bucket::Hour);
    assert_eq!(by_hour.data.len(), 3);
    let by_day = report(&folded, &f, Some(GroupBy::Provider), Bucket::Day);
    let a = by_day.data.iter().find(|r| r.group.as_deref() == Some("a")).unwrap();
    assert_eq!((a.point.requests, a.point.errors, a.point.input_tokens), (3, 1, 15));
    assert_eq!(a.bucket_start_ms, h);
    assert_eq!(by_day.totals.requests, 4);
    assert_eq!(by_day.totals.errors, 2, "4xx and 5xx are errors");
    assert!((by_day.totals.cost_usd - 0.004).abs() < 1e-9);
    assert_eq!(by_day.totals.unpriced_requests, 0);
    let mut unpriced = row(h, "c", 200, 10, 1);
    unpriced.cost_usd = None;
    let f2 = report(&fold(&[unpriced]), &f, None, Bucket::Day);
    assert_eq!((f2.totals.unpriced_requests, f2.totals.cost_usd), (1, 0.0), "unknown cost is counted, not hidden");
    let by_status = report(&folded, &f, Some(GroupBy::Status), Bucket::Day);
    let classes: Vec<_> = by_status.data.iter().filter_map(|r| r.group.clone()).collect();
    assert_eq!(classes, ["2xx", "4xx", "5xx"]);
}

#[test]
fn a_stream_that_broke_after_200_is_a_5xx_error() {
    let mut r = row(0, "a", 200, 10, 1);
    r.end = "broke".into();
    let f = fold(&[r]);
    assert_eq!(f[0].key.status_class, "5xx");
    assert_eq!(f[0].counts.errors, 1);
}

#[test]
fn quantiles_interpolate_inside_buckets() {
    let mut h = Histogram::default();
    assert_eq!(h.quantile(0.5), None);
    for ms in [10, 20, 30, 40, 60, 70, 80, 90, 95, 2000] {
        h.record(ms);
    }
    let p50 = h.quantile(0.5).unwrap();
    assert!((25..=100).contains(&p50), "p50 {p50}");
    let p95 = h.quantile(0.95).unwrap();
    assert!((1000..=2500).contains(&p95), "p95 {p95} sits in the slowest bucket seen");
    assert_eq!(Histogram::decode(&h.encode()), h);
    assert_eq!(Histogram::decode("garbage"), Histogram::default());
}

#[test]
fn csv_quotes_and_defuses_formulas() {
    let h = 0;
    let mut r = row(h, "a", 200, 10, 1);
    r.user = Some("=HYPERLINK(\"x\",1)".into());
    let f = UsageFilter { since_ms: 0, until_ms: DAY_MS, ..UsageFilter::default() };
    let out = csv(&report(&fold(&[r]), &f, Some(GroupBy::User), Bucket::Hour));
    let line = out.lines().nth(1).unwrap();
    assert!(line.starts_with("1970-01-01T00:00:00Z,\"'=HYPERLINK(\"\"x\"\",1)\",1,0,"), "{line}");
    assert_eq!(out.lines().next().unwrap().split(',').count(), 15);
}

#[test]
fn interleaved_keys_fold_into_one_rollup_each_with_the_last_key_name() {
    let h = 1_800_000_000_000 - 1_800_000_000_000 % DAY_MS;
    let mut rows =
        vec![row(h, "a", 200, 10, 1), row(h, "b", 200, 10, 2), row(h, "a", 200, 10, 4), row(h, "b", 503, 10, 8)];
    rows[0].key_name = Some("old".into());
    rows[2].key_name = Some("new".into());
    let folded = fold(&rows);
    let got: Vec<_> =
        folded.iter().map(|r| (r.key.provider.as_str(), r.key.status_class.as_str(), r.counts.requests)).collect();
    assert_eq!(got, [("a", "2xx", 2), ("b", "2xx", 1), ("b", "5xx", 1)], "in key order");
    assert_eq!((folded[0].counts.input_tokens, folded[0].key_name.as_str()), (5, "new"));
    assert_eq!(folded[1].key_name, "", "no row named a key");
}
