//! Weighted key choice among the keys allowed to serve a model.

use rand::Rng;

/// A key ready to send: resolved from `env.NAME`, never logged.
#[derive(Clone)]
pub struct ResolvedKey {
    pub name: Option<String>,
    pub(crate) secret: String,
    /// Empty = every model.
    pub models: Vec<String>,
    pub weight: f64,
}

impl std::fmt::Debug for ResolvedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedKey")
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .field("models", &self.models)
            .field("weight", &self.weight)
            .finish()
    }
}

impl ResolvedKey {
    pub fn serves(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|m| m == model)
    }
}

/// Picks a key for `model` with probability proportional to weight. Keys whose
/// weights are all zero are picked uniformly. `None` when no key serves the model.
pub fn choose<'a, R: Rng + ?Sized>(keys: &'a [ResolvedKey], model: &str, rng: &mut R) -> Option<&'a ResolvedKey> {
    let candidates: Vec<&ResolvedKey> = keys.iter().filter(|k| k.serves(model)).collect();
    if candidates.is_empty() {
        return None;
    }
    let total: f64 = candidates.iter().map(|k| k.weight).sum();
    if total <= 0.0 {
        return Some(candidates[rng.random_range(0..candidates.len())]);
    }
    let mut point = rng.random_range(0.0..total);
    for k in &candidates {
        if point < k.weight {
            return Some(k);
        }
        point -= k.weight;
    }
    candidates.last().copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn key(name: &str, weight: f64, models: &[&str]) -> ResolvedKey {
        ResolvedKey {
            name: Some(name.into()),
            secret: format!("sk-{name}"),
            models: models.iter().map(|m| m.to_string()).collect(),
            weight,
        }
    }

    #[test]
    fn only_keys_serving_the_model_are_chosen() {
        let keys = [key("a", 1.0, &["gpt-4o"]), key("b", 1.0, &["llama"])];
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..50 {
            assert_eq!(choose(&keys, "llama", &mut rng).and_then(|k| k.name.as_deref()), Some("b"));
        }
        assert!(choose(&keys, "other", &mut rng).is_none());
    }

    #[test]
    fn choice_follows_weights() {
        let keys = [key("a", 3.0, &[]), key("b", 1.0, &[]), key("z", 0.0, &[])];
        let mut rng = rand::rngs::StdRng::seed_from_u64(42);
        let mut counts = [0usize; 3];
        for _ in 0..8000 {
            match choose(&keys, "m", &mut rng).and_then(|k| k.name.as_deref()) {
                Some("a") => counts[0] += 1,
                Some("b") => counts[1] += 1,
                _ => counts[2] += 1,
            }
        }
        assert_eq!(counts[2], 0, "a zero-weight key is never chosen beside weighted ones");
        let ratio = counts[0] as f64 / counts[1] as f64;
        assert!((2.5..3.5).contains(&ratio), "ratio {ratio}");
    }

    #[test]
    fn all_zero_weights_pick_uniformly() {
        let keys = [key("a", 0.0, &[]), key("b", 0.0, &[])];
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let picked_b =
            (0..1000).filter(|_| choose(&keys, "m", &mut rng).and_then(|k| k.name.as_deref()) == Some("b")).count();
        assert!((350..650).contains(&picked_b));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert!(!format!("{:?}", key("a", 1.0, &[])).contains("sk-a"));
    }
}
