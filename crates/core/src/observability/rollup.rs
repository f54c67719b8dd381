//! Hourly usage rollups, kept by the writer as it writes rows, so usage
//! and dashboards never scan raw rows. Pure: folding rows into rollups,
//! and rollups into a usage report (by hour or day, by one dimension).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::record::LogRow;
use crate::governance::period;

pub const HOUR_MS: u64 = 3_600_000;
pub const DAY_MS: u64 = 24 * HOUR_MS;

/// Upper bounds (ms) of the latency histogram's buckets; one more bucket
/// holds everything slower. Wide enough for a 5-minute agent turn.
pub const BOUNDS_MS: [u64; 13] = [25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000];
pub const BUCKETS: usize = BOUNDS_MS.len() + 1;

/// Counts per latency bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Histogram(pub [u64; BUCKETS]);

impl Histogram {
    pub fn record(&mut self, ms: u64) {
        let i = BOUNDS_MS.iter().position(|b| ms <= *b).unwrap_or(BOUNDS_MS.len());
        self.0[i] += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a += b;
        }
    }

    pub fn count(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The `q` quantile (0..1), interpolated inside its bucket; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = (q.clamp(0.0, 1.0) * total as f64).max(1.0);
        let mut seen = 0u64;
        for (i, n) in self.0.iter().enumerate() {
            if *n == 0 {
                continue;
            }
            if (seen + n) as f64 >= rank {
                let lo = if i == 0 { 0 } else { BOUNDS_MS[i - 1] };
                // The open last bucket reads as twice its lower bound.
                let hi = BOUNDS_MS.get(i).copied().unwrap_or(lo * 2);
                let within = (rank - seen as f64) / *n as f64;
                return Some(lo + ((hi - lo) as f64 * within).round() as u64);
            }
            seen += n;
        }
        Some(BOUNDS_MS[BOUNDS_MS.len() - 1])
    }

    /// As stored: the counts, comma-separated.
    pub fn encode(&self) -> String {
        self.0.iter().map(u64::to_string).collect::<Vec<_>>().join(",")
    }

    /// A stored histogram; a malformed one reads as empty (never fails a report).
    pub fn decode(s: &str) -> Self {
        let mut h = Self::default();
        for (slot, v) in h.0.iter_mut().zip(s.split(',')) {
            *slot = v.trim().parse().unwrap_or(0);
        }
        h
    }
}

/// What a rollup counts rows by. Absent values are empty strings (so the
/// key is a plain unique key in every database).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct RollupKey {
    pub hour_ms: u64,
    pub provider: String,
    /// `served_model` when known, else the model as asked for.
    pub model: String,
    pub route: String,
    pub key_id: String,
    pub team: String,
    pub user: String,
    /// `2xx`, `4xx`, `5xx`; a stream that broke after a 200 counts as `5xx`.
    pub status_class: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Counts {
    pub requests: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost_usd: f64,
    /// Answered requests no price covered (their cost is unknown, not 0).
    pub unpriced: u64,
    pub duration: Histogram,
    pub ttft: Histogram,
}

impl Counts {
    pub fn merge(&mut self, o: &Counts) {
        self.requests += o.requests;
        self.errors += o.errors;
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cache_read_tokens += o.cache_read_tokens;
        self.cache_write_tokens += o.cache_write_tokens;
        self.reasoning_tokens += o.reasoning_tokens;
        self.cost_usd += o.cost_usd;
        self.unpriced += o.unpriced;
        self.duration.merge(&o.duration);
        self.ttft.merge(&o.ttft);
    }
}

/// One hour of one combination of dimensions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollup {
    pub key: RollupKey,
    /// The key's name as last seen (a rename shows on later rows).
    pub key_name: String,
    pub counts: Counts,
}

fn is_error(row: &LogRow) -> bool {
    row.status >= 400 || row.end == "broke"
}

fn status_class(row: &LogRow) -> &'static str {
    let class = if row.end == "broke" { 5 } else { (row.status / 100).clamp(1, 5) };
    ["1xx", "2xx", "3xx", "4xx", "5xx"][usize::from(class - 1)]
}

/// A row's [`RollupKey`], borrowed from the row: a batch folds without
/// allocating except once per distinct key (a batch holds thousands of rows
/// and usually a handful of keys).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct KeyOf<'a> {
    hour_ms: u64,
    provider: &'a str,
    model: &'a str,
    route: &'a str,
    key_id: &'a str,
    team: &'a str,
    user: &'a str,
    status_class: &'static str,
}

impl<'a> KeyOf<'a> {
    fn of(row: &'a LogRow) -> Self {
        Self {
            hour_ms: row.started_at_ms - row.started_at_ms % HOUR_MS,
            provider: row.provider.as_deref().unwrap_or_default(),
            model: row.served_model.as_deref().unwrap_or(&row.model),
            route: row.route.as_deref().unwrap_or_default(),
            key_id: row.key_id.as_deref().unwrap_or_default(),
            team: row.team.as_deref().unwrap_or_default(),
            user: row.user.as_deref().unwrap_or_default(),
            status_class: status_class(row),
        }
    }

    fn owned(&self) -> RollupKey {
        RollupKey {
            hour_ms: self.hour_ms,
            provider: self.provider.into(),
            model: self.model.into(),
            route: self.route.into(),
            key_id: self.key_id.into(),
            team: self.team.into(),
            user: self.user.into(),
            status_class: self.status_class.into(),
        }
    }
}

/// Folds a batch of rows into one delta per hour and combination, in key order.
pub fn fold<'a>(rows: impl IntoIterator<Item = &'a LogRow>) -> Vec<Rollup> {
    let mut slots: Vec<(KeyOf<'a>, Option<&'a str>, Counts)> = Vec::new();
    let mut index: HashMap<KeyOf<'a>, usize> = HashMap::new();
    for row in rows {
        let key = KeyOf::of(row);
        // Neighbours mostly share a key: compared first, hashed only on a change.
        let i = match slots.last() {
            Some((last, ..)) if *last == key => slots.len() - 1,
            _ => match index.get(&key) {
                Some(&i) => i,
                None => {
                    index.insert(key, slots.len());
                    slots.push((key, None, Counts::default()));
                    slots.len() - 1
                }
            },
        };
        let (_, key_name, c) = &mut slots[i];
        if let Some(n) = &row.key_name {
            *key_name = Some(n);
        }
        c.requests += 1;
        c.errors += u64::from(is_error(row));
        c.input_tokens += row.input_tokens;
        c.output_tokens += row.output_tokens;
        c.cache_read_tokens += row.cache_read_tokens;
        c.cache_write_tokens += row.cache_write_tokens;
        c.reasoning_tokens += row.reasoning_tokens;
        c.cost_usd += row.cost_usd.unwrap_or(0.0);
        c.unpriced += u64::from(row.cost_usd.is_none() && row.provider.is_some() && !is_error(row));
        c.duration.record(row.duration_ms);
        if let Some(t) = row.ttft_ms {
            c.ttft.record(t);
        }
    }
    let mut folded: Vec<Rollup> = slots
        .into_iter()
        .map(|(k, key_name, counts)| Rollup { key: k.owned(), key_name: key_name.unwrap_or_default().into(), counts })
        .collect();
    folded.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    folded
}

/// The dimension a usage report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Provider,
    Model,
    Route,
    Key,
    Team,
    User,
    Status,
}

impl GroupBy {
    fn of(self, r: &Rollup) -> &str {
        let k = &r.key;
        match self {
            Self::Provider => &k.provider,
            Self::Model => &k.model,
            Self::Route => &k.route,
            Self::Key => &k.key_id,
            Self::Team => &k.team,
            Self::User => &k.user,
            Self::Status => &k.status_class,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    #[default]
    Hour,
    Day,
}

impl Bucket {
    pub fn ms(self) -> u64 {
        match self {
            Self::Hour => HOUR_MS,
            Self::Day => DAY_MS,
        }
    }
}

/// What `GET /api/usage` narrows rollups by (equality on each dimension).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageFilter {
    pub since_ms: u64,
    pub until_ms: u64,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub route: Option<String>,
    pub key: Option<String>,
    pub team: Option<String>,
    pub user: Option<String>,
}

/// The figures of one bucket (and group), as the API shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsagePoint {
    pub requests: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost_usd: f64,
    /// Requests in `cost_usd`'s bucket that no price covered: the cost is a lower bound when > 0.
    pub unpriced_requests: u64,
    pub p50_ms: Option<u64>,
    pub p95_ms: Option<u64>,
    pub ttft_p50_ms: Option<u64>,
    pub ttft_p95_ms: Option<u64>,
}

impl From<&Counts> for UsagePoint {
    fn from(c: &Counts) -> Self {
        Self {
            requests: c.requests,
            errors: c.errors,
            input_tokens: c.input_tokens,
            output_tokens: c.output_tokens,
            cache_read_tokens: c.cache_read_tokens,
            cache_write_tokens: c.cache_write_tokens,
            reasoning_tokens: c.reasoning_tokens,
            // Sums of many small floats: shown to the micro-dollar.
            cost_usd: (c.cost_usd * 1e6).round() / 1e6,
            unpriced_requests: c.unpriced,
            p50_ms: c.duration.quantile(0.5),
            p95_ms: c.duration.quantile(0.95),
            ttft_p50_ms: c.ttft.quantile(0.5),
            ttft_p95_ms: c.ttft.quantile(0.95),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageRow {
    pub bucket_start: String,
    pub bucket_start_ms: u64,
    /// The group's value; `None` when not grouped, or the dimension was absent
    /// (no key, no route, …).
    pub group: Option<String>,
    /// A key's name, when grouped by key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(flatten)]
    pub point: UsagePoint,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageReport {
    pub bucket: Bucket,
    pub group_by: Option<GroupBy>,
    pub since: String,
    pub until: String,
    pub data: Vec<UsageRow>,
    pub totals: UsagePoint,
}

/// Rollups (already narrowed to the filter's range and dimensions) as a report.
pub fn report(rollups: &[Rollup], filter: &UsageFilter, group_by: Option<GroupBy>, bucket: Bucket) -> UsageReport {
    let mut groups: BTreeMap<(u64, String), (Counts, String)> = BTreeMap::new();
    let mut totals = Counts::default();
    for r in rollups {
        let start = r.key.hour_ms - r.key.hour_ms % bucket.ms();
        let group = group_by.map(|g| g.of(r).to_string()).unwrap_or_default();
        let (c, label) = groups.entry((start, group)).or_default();
        c.merge(&r.counts);
        if !r.key_name.is_empty() {
            label.clone_from(&r.key_name);
        }
        totals.merge(&r.counts);
    }
    let data = groups
        .into_iter()
        .map(|((start, group), (c, label))| UsageRow {
            bucket_start: period::rfc3339(start),
            bucket_start_ms: start,
            group: Some(group).filter(|g| !g.is_empty()),
            label: Some(label).filter(|l| group_by == Some(GroupBy::Key) && !l.is_empty()),
            point: UsagePoint::from(&c),
        })
        .collect();
    UsageReport {
        bucket,
        group_by,
        since: period::rfc3339(filter.since_ms),
        until: period::rfc3339(filter.until_ms),
        data,
        totals: UsagePoint::from(&totals),
    }
}

/// The report as CSV (one line per bucket and group).
pub fn csv(report: &UsageReport) -> String {
    let mut out = String::from(
        "bucket_start,group,requests,errors,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,\
         reasoning_tokens,cost_usd,unpriced_requests,p50_ms,p95_ms,ttft_p50_ms,ttft_p95_ms\n",
    );
    let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    for r in &report.data {
        let p = &r.point;
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            r.bucket_start,
            csv_field(r.group.as_deref().unwrap_or("")),
            p.requests,
            p.errors,
            p.input_tokens,
            p.output_tokens,
            p.cache_read_tokens,
            p.cache_write_tokens,
            p.reasoning_tokens,
            p.cost_usd,
            p.unpriced_requests,
            opt(p.p50_ms),
            opt(p.p95_ms),
            opt(p.ttft_p50_ms),
            opt(p.ttft_p95_ms),
        ));
    }
    out
}

/// Quoted when it holds a comma, quote or line break; a leading `=+-@` is
/// prefixed with `'` so a spreadsheet never runs a user name as a formula.
fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) { format!("'{v}") } else { v.to_string() };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

#[cfg(test)]
#[path = "rollup_tests.rs"]
mod tests;
