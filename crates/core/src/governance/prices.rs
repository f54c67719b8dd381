//! The price table: USD per million tokens by `<provider>/<model>` glob.
//! An exact name beats a glob; among globs the longest pattern wins (the most
//! specific). A model no entry matches has **no** price, never a price of 0:
//! under a USD budget it is refused, or priced by the configured default.

use wildmatch::WildMatch;

use super::records::Price;
use crate::usage::Usage;

pub use crate::config::UnknownPrice;

#[derive(Debug, Default)]
pub struct PriceTable {
    /// Most specific first.
    entries: Vec<(WildMatch, Price)>,
}

impl PriceTable {
    pub fn new(prices: &[Price]) -> Self {
        let mut sorted: Vec<&Price> = prices.iter().collect();
        let exact = |p: &Price| !p.model.contains(['*', '?']);
        sorted.sort_by(|a, b| exact(b).cmp(&exact(a)).then(b.model.len().cmp(&a.model.len())));
        Self { entries: sorted.into_iter().map(|p| (WildMatch::new(&p.model), p.clone())).collect() }
    }

    /// The price of `model` (`<provider>/<model>`), if any entry matches.
    pub fn find(&self, model: &str) -> Option<&Price> {
        self.entries.iter().find(|(glob, _)| glob.matches(model)).map(|(_, p)| p)
    }
}

/// USD for `usage` at `price`. Cache reads and writes fall back to the input
/// rate when the entry has none (never free).
pub fn cost(price: &Price, usage: &Usage) -> f64 {
    let per = |tokens: u64, rate: f64| tokens as f64 * rate / 1_000_000.0;
    per(usage.input_tokens, price.input)
        + per(usage.cache_read_tokens, price.cache_read.unwrap_or(price.input))
        + per(usage.cache_write_tokens, price.cache_write.unwrap_or(price.input))
        + per(usage.output_tokens, price.output)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(model: &str, input: f64) -> Price {
        Price { model: model.into(), input, output: input * 5.0, cache_read: None, cache_write: None }
    }

    #[test]
    fn exact_beats_glob_and_longer_globs_beat_shorter() {
        let t = PriceTable::new(&[
            price("db/*", 1.0),
            price("db/*claude-sonnet*", 3.0),
            price("db/databricks-claude-sonnet-4", 2.5),
        ]);
        assert_eq!(t.find("db/databricks-claude-sonnet-4").map(|p| p.input), Some(2.5));
        assert_eq!(t.find("db/databricks-claude-sonnet-4-5").map(|p| p.input), Some(3.0));
        assert_eq!(t.find("db/llama").map(|p| p.input), Some(1.0));
        assert!(t.find("other/llama").is_none(), "unknown is no price, not a zero price");
    }

    #[test]
    fn cost_counts_every_kind_of_token() {
        let p = Price { model: "m".into(), input: 3.0, output: 15.0, cache_read: Some(0.3), cache_write: None };
        let u = Usage {
            input_tokens: 1_000_000,
            output_tokens: 100_000,
            cache_read_tokens: 1_000_000,
            cache_write_tokens: 1_000_000,
            reasoning_tokens: 0,
        };
        assert!((cost(&p, &u) - (3.0 + 1.5 + 0.3 + 3.0)).abs() < 1e-9);
    }
}
