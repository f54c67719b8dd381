//! The measured rows of a run grouped by (scenario, target), one row per
//! round, and the figures the tables show of each group: the median over the
//! rounds, the max (peak RSS), the sum (counts) and the spread.

use serde_json::Value;

/// The rows that hold a measurement (an `ok` count), by scenario and target.
pub struct Groups<'a> {
    /// In the order they first appear in the file.
    pub scenarios: Vec<&'a str>,
    /// In the order they first appear in the file: direct, nginx, switchyard, baseline from run.sh.
    pub targets: Vec<&'a str>,
    groups: Vec<Group<'a>>,
}

/// The rounds of one scenario against one target.
pub struct Group<'a> {
    scenario: &'a str,
    target: &'a str,
    /// Sorted by round.
    pub rows: Vec<&'a Value>,
}

impl<'a> Groups<'a> {
    pub fn new(rows: &'a [Value]) -> Self {
        let mut g = Groups { scenarios: Vec::new(), targets: Vec::new(), groups: Vec::new() };
        for r in rows.iter().filter(|r| r.get("ok").is_some()) {
            let (scenario, target) = (r["scenario"].as_str().unwrap_or(""), r["target"].as_str().unwrap_or(""));
            if !g.scenarios.contains(&scenario) {
                g.scenarios.push(scenario);
            }
            if !g.targets.contains(&target) {
                g.targets.push(target);
            }
            match g.groups.iter_mut().find(|x| x.scenario == scenario && x.target == target) {
                Some(x) => x.rows.push(r),
                None => g.groups.push(Group { scenario, target, rows: vec![r] }),
            }
        }
        for x in &mut g.groups {
            // Stable: two rows of the same round (a file appended to twice) keep their order.
            x.rows.sort_by_key(|r| round(r));
        }
        g
    }

    pub fn get(&self, scenario: &str, target: &str) -> Option<&Group<'a>> {
        self.groups.iter().find(|x| x.scenario == scenario && x.target == target)
    }

    /// The most rounds any scenario and target has: 1 means a table as without rounds.
    pub fn max_rounds(&self) -> usize {
        self.groups.iter().map(|x| x.rows.len()).max().unwrap_or(0)
    }
}

impl Group<'_> {
    /// The median over the rounds of the number at `path` (`&["latency_us", "p50"]`); rounds
    /// without it (no request succeeded) are left out.
    pub fn median(&self, path: &[&str]) -> Option<f64> {
        median(self.values(path))
    }

    pub fn max(&self, path: &[&str]) -> Option<f64> {
        self.values(path).into_iter().reduce(f64::max)
    }

    /// The smallest and the largest value over the rounds.
    pub fn range(&self, path: &[&str]) -> Option<(f64, f64)> {
        let v = self.values(path);
        Some((v.iter().copied().reduce(f64::min)?, v.iter().copied().reduce(f64::max)?))
    }

    /// A count summed over the rounds.
    pub fn sum(&self, key: &str) -> Option<u64> {
        let v: Vec<u64> = self.rows.iter().filter_map(|r| r[key].as_u64()).collect();
        (!v.is_empty()).then(|| v.iter().sum())
    }

    fn values(&self, path: &[&str]) -> Vec<f64> {
        self.rows.iter().filter_map(|r| at(r, path).as_f64()).collect()
    }
}

/// For every round both groups measured: `a`'s figure ÷ `b`'s (b > 0).
pub fn per_round_ratios(a: &Group, b: &Group, path: &[&str]) -> Vec<f64> {
    a.rows
        .iter()
        .filter_map(|ra| {
            let rb = b.rows.iter().find(|rb| round(rb) == round(ra))?;
            Some(at(ra, path).as_f64()? / at(rb, path).as_f64().filter(|x| *x > 0.0)?)
        })
        .collect()
}

pub fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// A row without `round` (from before rounds existed) is round 1.
fn round(r: &Value) -> u64 {
    r["round"].as_u64().unwrap_or(1)
}

fn at<'v>(row: &'v Value, path: &[&str]) -> &'v Value {
    path.iter().fold(row, |v, k| &v[*k])
}
