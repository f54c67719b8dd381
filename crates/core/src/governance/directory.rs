//! One consistent view of every key, team, policy and price, rebuilt whole
//! after each edit and swapped in (like the gateway's snapshot): a request
//! reads it lock-free and sees the old or the new version, never a mix.

use std::collections::HashMap;
use std::sync::Arc;

use wildmatch::WildMatch;

use super::policy::{Policy, Scope};
use super::prices::PriceTable;
use super::records::{KeyRecord, Price, Team};

/// The `governance` settings of the config file.
pub use crate::config::GovernanceSettings as Settings;

/// A policy ready to match.
#[derive(Debug)]
pub struct Compiled {
    pub id: Arc<str>,
    pub policy: Policy,
    glob: Option<WildMatch>,
}

#[derive(Debug, Default)]
pub struct Directory {
    pub keys: HashMap<String, Arc<KeyRecord>>,
    pub teams: HashMap<String, Team>,
    pub policies: Vec<Compiled>,
    pub prices: PriceTable,
    pub settings: Settings,
}

/// What a policy is matched against.
pub struct Subject<'a> {
    pub key_id: Option<&'a str>,
    pub team: Option<&'a str>,
    pub user: Option<&'a str>,
    pub requested_model: &'a str,
    pub route: Option<&'a str>,
    /// `<provider>/<model>` of the first candidate (the one that serves unless it fails).
    pub primary: Option<(&'a str, &'a str)>,
}

impl Directory {
    pub fn new(
        keys: Vec<KeyRecord>,
        teams: Vec<Team>,
        policies: Vec<Policy>,
        prices: &[Price],
        settings: Settings,
    ) -> Self {
        let policies = policies
            .into_iter()
            .filter(|p| p.enabled)
            .map(|policy| {
                let glob = match &policy.scope {
                    Scope::Model(m) => Some(WildMatch::new(m)),
                    _ => None,
                };
                Compiled { id: Arc::from(policy.id.as_str()), policy, glob }
            })
            .collect();
        Self {
            keys: keys.into_iter().map(|k| (k.id.clone(), Arc::new(k))).collect(),
            teams: teams.into_iter().map(|t| (t.name.clone(), t)).collect(),
            policies,
            prices: PriceTable::new(prices),
            settings,
        }
    }

    /// Every enabled policy that applies to `s`, with its counter subject
    /// (the user's name for `user:*`, else empty).
    pub fn matching<'d, 's>(&'d self, s: &'s Subject<'s>) -> impl Iterator<Item = (&'d Compiled, &'s str)> + 'd
    where
        's: 'd,
    {
        self.policies.iter().filter_map(move |c| {
            let applies = match &c.policy.scope {
                Scope::Global => true,
                Scope::Team(t) => s.team == Some(t.as_str()),
                Scope::Key(k) => s.key_id == Some(k.as_str()),
                Scope::User(None) => return s.user.map(|u| (c, u)),
                Scope::User(Some(u)) => s.user == Some(u.as_str()),
                Scope::Provider(p) => s.primary.is_some_and(|(provider, _)| provider == p),
                Scope::Route(r) => s.route == Some(r.as_str()),
                Scope::Model(_) => c.glob.as_ref().is_some_and(|g| {
                    g.matches(s.requested_model) || s.primary.is_some_and(|(p, m)| g.matches(&format!("{p}/{m}")))
                }),
            };
            applies.then_some((c, ""))
        })
    }
}

/// Whether a model list (globs; empty = all) lets a request through: it names
/// the model the client asked for, or every candidate it resolves to.
pub fn allows(list: &[String], requested: &str, candidates: &[String]) -> bool {
    if list.is_empty() {
        return true;
    }
    let globs: Vec<WildMatch> = list.iter().map(|m| WildMatch::new(m)).collect();
    let any = |m: &str| globs.iter().any(|g| g.matches(m));
    any(requested) || (!candidates.is_empty() && candidates.iter().all(|c| any(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_list_names_the_model_or_every_candidate() {
        let list = vec!["db/*".to_string(), "fast".to_string()];
        assert!(allows(&list, "db/llama", &["db/llama".into()]));
        assert!(allows(&list, "fast", &["other/x".into()]), "the route is named");
        assert!(allows(&list, "smart", &["db/a".into(), "db/b".into()]), "every target is allowed");
        assert!(!allows(&list, "smart", &["db/a".into(), "other/b".into()]));
        assert!(!allows(&list, "other/x", &["other/x".into()]));
        assert!(allows(&[], "anything", &[]));
    }
}
