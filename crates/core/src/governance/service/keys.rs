//! Virtual keys and teams through the API. A key's secret exists in clear
//! only in the answer to its creation or rotation; the store keeps its hash.
//! Edits merge: fields left out keep their value; `null` clears one.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::policies::{check_shorthand, PolicyState};
use super::{now_secs, GovernanceService};
use crate::config::ConfigDiagnostic;
use crate::config_service::{ConfigError, Entity};
use crate::governance::period;
use crate::governance::policy::{Budget, Scope};
use crate::governance::records::{KeyRecord, PreviousSecret, Team};
use crate::governance::validate::{error, typed, RateLimitShorthand};

/// `Some(None)` for an explicit `null`, `None` when the field is absent.
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `POST /api/keys` and `PUT /api/keys/{id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub team: Option<Option<String>>,
    pub models: Option<Vec<String>>,
    /// RFC 3339, or `null` for never.
    #[serde(default, deserialize_with = "present")]
    pub expires_at: Option<Option<String>>,
    pub enabled: Option<bool>,
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "present")]
    pub rate_limit: Option<Option<RateLimitShorthand>>,
    #[serde(default, deserialize_with = "present")]
    pub budget: Option<Option<Budget>>,
    /// `null`: as the team, else the global setting.
    #[serde(default, deserialize_with = "present")]
    pub log_payloads: Option<Option<bool>>,
}

/// A key as the API shows it: never its secret.
#[derive(Debug, Clone, Serialize)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub team: Option<String>,
    pub models: Vec<String>,
    pub expires_at: Option<String>,
    pub enabled: bool,
    /// `active`, `disabled`, `expired` or `revoked`.
    pub status: &'static str,
    pub revoked_at: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub created_at: String,
    pub rotated_at: Option<String>,
    /// Until when the secret before the last rotation still works.
    pub previous_secret_valid_until: Option<String>,
    pub rate_limit: Option<RateLimitShorthand>,
    pub budget: Option<Budget>,
    /// The key's own policy (its shorthand) and its live counters.
    pub policy: Option<String>,
    pub usage: Option<PolicyState>,
    pub log_payloads: Option<bool>,
}

/// `POST /api/teams` and `PUT /api/teams/{name}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    pub name: Option<String>,
    pub models: Option<Vec<String>>,
    pub tags: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "present")]
    pub rate_limit: Option<Option<RateLimitShorthand>>,
    #[serde(default, deserialize_with = "present")]
    pub budget: Option<Option<Budget>>,
    #[serde(default, deserialize_with = "present")]
    pub log_payloads: Option<Option<bool>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamView {
    pub name: String,
    pub models: Vec<String>,
    pub tags: BTreeMap<String, String>,
    pub created_at: String,
    /// Keys of the team, by id.
    pub keys: Vec<String>,
    pub rate_limit: Option<RateLimitShorthand>,
    pub budget: Option<Budget>,
    pub policy: Option<String>,
    pub usage: Option<PolicyState>,
    pub log_payloads: Option<bool>,
}

fn time(secs: i64) -> String {
    period::rfc3339(u64::try_from(secs).unwrap_or(0) * 1000)
}

fn check_models(models: Option<&Vec<String>>, out: &mut Vec<ConfigDiagnostic>) {
    for (i, m) in models.into_iter().flatten().enumerate() {
        if m.trim().is_empty() {
            out.push(error(
                format!("models[{i}]"),
                "must not be empty",
                Some("`<provider>/<model>`, a route name, or a glob such as `databricks/*`"),
            ));
        }
    }
}

impl GovernanceService {
    async fn key_view(&self, k: KeyRecord) -> Result<KeyView, ConfigError> {
        let now = now_secs();
        let status = if k.revoked_at.is_some() {
            "revoked"
        } else if k.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else if !k.enabled {
            "disabled"
        } else {
            "active"
        };
        let policy = self.owned(&Scope::Key(k.id.clone())).await?;
        Ok(KeyView {
            status,
            expires_at: k.expires_at.map(time),
            revoked_at: k.revoked_at.map(time),
            created_at: time(k.created_at),
            rotated_at: k.rotated_at.map(time),
            previous_secret_valid_until: k.previous.as_ref().filter(|p| p.until > now).map(|p| time(p.until)),
            rate_limit: policy.as_ref().filter(|p| !p.limits.is_empty()).map(|p| RateLimitShorthand::of(&p.limits)),
            budget: policy.as_ref().and_then(|p| p.budget.as_ref().map(Budget::redacted)),
            usage: policy.as_ref().map(|p| self.state_of(p)),
            policy: policy.map(|p| p.id),
            id: k.id,
            name: k.name,
            team: k.team,
            models: k.models,
            enabled: k.enabled,
            tags: k.tags,
            log_payloads: k.log_payloads,
        })
    }

    pub async fn list_keys(&self) -> Result<Vec<KeyView>, ConfigError> {
        let mut keys = self.store.list_keys().await?;
        keys.sort_by_key(|k| std::cmp::Reverse(k.created_at));
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(self.key_view(k).await?);
        }
        Ok(out)
    }

    async fn key(&self, id: &str) -> Result<KeyRecord, ConfigError> {
        self.store
            .list_keys()
            .await?
            .into_iter()
            .find(|k| k.id == id)
            .ok_or_else(|| ConfigError::NotFound(Entity::Key, id.to_string()))
    }

    pub async fn get_key(&self, id: &str) -> Result<KeyView, ConfigError> {
        let k = self.key(id).await?;
        self.key_view(k).await
    }

    /// Checks a key body; returns its expiry in unix seconds when it sets one.
    async fn check_key_body(&self, b: &KeyBody, creating: bool) -> Result<Option<Option<i64>>, ConfigError> {
        let mut out = Vec::new();
        match &b.name {
            None if creating => {
                out.push(error("name", "is required", Some("a label for the key: who or what uses it")))
            }
            Some(n) if n.trim().is_empty() => out.push(error("name", "must not be empty", None)),
            _ => {}
        }
        if let Some(Some(team)) = &b.team {
            if !self.store.list_teams().await?.iter().any(|t| &t.name == team) {
                out.push(error(
                    "team",
                    format!("team {team:?} does not exist"),
                    Some("create it first (POST /api/teams)"),
                ));
            }
        }
        check_models(b.models.as_ref(), &mut out);
        let expires = match &b.expires_at {
            Some(Some(s)) => match period::parse_rfc3339(s) {
                Some(at) if at > now_secs() => Some(Some(at)),
                Some(_) => {
                    out.push(error("expires_at", format!("{s:?} is in the past"), None));
                    None
                }
                None => {
                    out.push(error(
                        "expires_at",
                        format!("{s:?} is not an RFC 3339 time"),
                        Some("for example 2027-01-31T00:00:00Z"),
                    ));
                    None
                }
            },
            Some(None) => Some(None),
            None => None,
        };
        check_shorthand(b.rate_limit.as_ref(), b.budget.as_ref(), &mut out);
        if out.is_empty() {
            Ok(expires)
        } else {
            Err(ConfigError::Invalid(out))
        }
    }

    /// Creates a key; the answer holds the whole `sk-sy-…` token, shown only this once.
    pub async fn create_key(&self, body: Value) -> Result<(KeyView, String, Vec<ConfigDiagnostic>), ConfigError> {
        let b: KeyBody = typed(&body, "").map_err(ConfigError::Invalid)?;
        let _guard = self.write.lock().await;
        let expires = self.check_key_body(&b, true).await?;
        let new = self.gov.pepper().generate();
        let record = KeyRecord {
            id: new.id.clone(),
            name: b.name.clone().unwrap_or_default().trim().to_string(),
            team: b.team.clone().flatten(),
            models: b.models.clone().unwrap_or_default(),
            expires_at: expires.flatten(),
            enabled: b.enabled.unwrap_or(true),
            revoked_at: None,
            tags: b.tags.clone().unwrap_or_default(),
            hash: new.hash,
            previous: None,
            created_at: now_secs(),
            rotated_at: None,
            log_payloads: b.log_payloads.flatten(),
        };
        self.store.put_key(&record).await?;
        let warnings = self
            .put_owned(Scope::Key(record.id.clone()), &format!("key {}", record.name), b.rate_limit, b.budget)
            .await?;
        self.reload().await?;
        Ok((self.key_view(record).await?, new.token, warnings))
    }

    pub async fn update_key(&self, id: &str, body: Value) -> Result<(KeyView, Vec<ConfigDiagnostic>), ConfigError> {
        let mut body = body;
        if let Value::Object(o) = &mut body {
            // What the view shows but an edit cannot set.
            for k in [
                "id",
                "status",
                "revoked_at",
                "created_at",
                "rotated_at",
                "previous_secret_valid_until",
                "policy",
                "usage",
            ] {
                o.remove(k);
            }
        }
        let b: KeyBody = typed(&body, "").map_err(ConfigError::Invalid)?;
        let _guard = self.write.lock().await;
        let mut k = self.key(id).await?;
        let expires = self.check_key_body(&b, false).await?;
        if let Some(n) = &b.name {
            k.name = n.trim().to_string();
        }
        if let Some(t) = b.team.clone() {
            k.team = t;
        }
        if let Some(m) = b.models.clone() {
            k.models = m;
        }
        if let Some(e) = expires {
            k.expires_at = e;
        }
        if let Some(e) = b.enabled {
            k.enabled = e;
        }
        if let Some(t) = b.tags.clone() {
            k.tags = t;
        }
        if let Some(l) = b.log_payloads {
            k.log_payloads = l;
        }
        self.store.put_key(&k).await?;
        let warnings =
            self.put_owned(Scope::Key(k.id.clone()), &format!("key {}", k.name), b.rate_limit, b.budget).await?;
        self.reload().await?;
        Ok((self.key_view(k).await?, warnings))
    }

    /// A new secret for the same id; the old one works for `grace_secs` more
    /// (the configured default when `None`; 0: not at all).
    pub async fn rotate_key(&self, id: &str, grace_secs: Option<u64>) -> Result<(KeyView, String), ConfigError> {
        let _guard = self.write.lock().await;
        let mut k = self.key(id).await?;
        if k.revoked_at.is_some() {
            return Err(ConfigError::Rejected(format!("virtual key {id:?} was revoked; create a new key instead")));
        }
        let grace = i64::try_from(grace_secs.unwrap_or(self.settings.rotation_grace_secs)).unwrap_or(i64::MAX);
        let new = self.gov.pepper().rotate(&k.id);
        let now = now_secs();
        k.previous = (grace > 0).then(|| PreviousSecret { hash: k.hash.clone(), until: now.saturating_add(grace) });
        k.hash = new.hash;
        k.rotated_at = Some(now);
        self.store.put_key(&k).await?;
        self.reload().await?;
        Ok((self.key_view(k).await?, new.token))
    }

    /// Revokes a key for good, at once: every secret it had stops working.
    pub async fn revoke_key(&self, id: &str) -> Result<KeyView, ConfigError> {
        let _guard = self.write.lock().await;
        let mut k = self.key(id).await?;
        if k.revoked_at.is_none() {
            k.revoked_at = Some(now_secs());
        }
        k.previous = None;
        self.store.put_key(&k).await?;
        self.reload().await?;
        self.key_view(k).await
    }

    pub async fn delete_key(&self, id: &str) -> Result<(), ConfigError> {
        let _guard = self.write.lock().await;
        if !self.store.delete_key(id).await? {
            return Err(ConfigError::NotFound(Entity::Key, id.to_string()));
        }
        if let Some(p) = self.owned(&Scope::Key(id.to_string())).await? {
            self.store.delete_policy(&p.id).await?;
            self.gov.limits().reset(&format!("{}/", p.id));
        }
        self.reload().await
    }

    async fn team_view(&self, t: Team) -> Result<TeamView, ConfigError> {
        let keys = self
            .store
            .list_keys()
            .await?
            .into_iter()
            .filter(|k| k.team.as_deref() == Some(&t.name))
            .map(|k| k.id)
            .collect();
        let policy = self.owned(&Scope::Team(t.name.clone())).await?;
        Ok(TeamView {
            created_at: time(t.created_at),
            keys,
            rate_limit: policy.as_ref().filter(|p| !p.limits.is_empty()).map(|p| RateLimitShorthand::of(&p.limits)),
            budget: policy.as_ref().and_then(|p| p.budget.as_ref().map(Budget::redacted)),
            usage: policy.as_ref().map(|p| self.state_of(p)),
            policy: policy.map(|p| p.id),
            name: t.name,
            models: t.models,
            tags: t.tags,
            log_payloads: t.log_payloads,
        })
    }

    pub async fn list_teams(&self) -> Result<Vec<TeamView>, ConfigError> {
        let mut out = Vec::new();
        for t in self.store.list_teams().await? {
            out.push(self.team_view(t).await?);
        }
        Ok(out)
    }

    async fn team(&self, name: &str) -> Result<Team, ConfigError> {
        self.store
            .list_teams()
            .await?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| ConfigError::NotFound(Entity::Team, name.to_string()))
    }

    pub async fn get_team(&self, name: &str) -> Result<TeamView, ConfigError> {
        let t = self.team(name).await?;
        self.team_view(t).await
    }

    fn check_team_body(b: &TeamBody, name: Option<&str>) -> Result<(), ConfigError> {
        let mut out = Vec::new();
        if let Some(n) = name {
            if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
                out.push(error("name", format!("{n:?} is not a team name"), Some("letters, digits, `-`, `_` and `.`")));
            }
        }
        check_models(b.models.as_ref(), &mut out);
        check_shorthand(b.rate_limit.as_ref(), b.budget.as_ref(), &mut out);
        if out.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(out))
        }
    }

    pub async fn create_team(&self, body: Value) -> Result<(TeamView, Vec<ConfigDiagnostic>), ConfigError> {
        let b: TeamBody = typed(&body, "").map_err(ConfigError::Invalid)?;
        let Some(name) = b.name.clone() else {
            return Err(ConfigError::Invalid(vec![error("name", "is required", None)]));
        };
        Self::check_team_body(&b, Some(&name))?;
        let _guard = self.write.lock().await;
        if self.store.list_teams().await?.iter().any(|t| t.name == name) {
            return Err(ConfigError::Exists(Entity::Team, name));
        }
        let team = Team {
            name: name.clone(),
            models: b.models.unwrap_or_default(),
            tags: b.tags.unwrap_or_default(),
            created_at: now_secs(),
            log_payloads: b.log_payloads.flatten(),
        };
        self.store.put_team(&team).await?;
        let warnings =
            self.put_owned(Scope::Team(name.clone()), &format!("team {name}"), b.rate_limit, b.budget).await?;
        self.reload().await?;
        Ok((self.team_view(team).await?, warnings))
    }

    pub async fn update_team(&self, name: &str, body: Value) -> Result<(TeamView, Vec<ConfigDiagnostic>), ConfigError> {
        let mut body = body;
        if let Value::Object(o) = &mut body {
            for k in ["created_at", "keys", "policy", "usage"] {
                o.remove(k);
            }
        }
        let b: TeamBody = typed(&body, "").map_err(ConfigError::Invalid)?;
        if b.name.as_deref().is_some_and(|n| n != name) {
            return Err(ConfigError::Rejected(
                "renaming a team is not supported; create a new one and move its keys".into(),
            ));
        }
        Self::check_team_body(&b, None)?;
        let _guard = self.write.lock().await;
        let mut t = self.team(name).await?;
        if let Some(m) = b.models {
            t.models = m;
        }
        if let Some(tags) = b.tags {
            t.tags = tags;
        }
        if let Some(l) = b.log_payloads {
            t.log_payloads = l;
        }
        self.store.put_team(&t).await?;
        let warnings =
            self.put_owned(Scope::Team(t.name.clone()), &format!("team {name}"), b.rate_limit, b.budget).await?;
        self.reload().await?;
        Ok((self.team_view(t).await?, warnings))
    }

    /// Refused while keys or policies name the team.
    pub async fn delete_team(&self, name: &str) -> Result<(), ConfigError> {
        let _guard = self.write.lock().await;
        self.team(name).await?;
        let keys: Vec<String> = self
            .store
            .list_keys()
            .await?
            .into_iter()
            .filter(|k| k.team.as_deref() == Some(name))
            .map(|k| k.id)
            .collect();
        if !keys.is_empty() {
            return Err(ConfigError::Rejected(format!(
                "team {name:?} still has keys ({}): move or delete them first",
                keys.join(", ")
            )));
        }
        let scope = Scope::Team(name.to_string());
        for p in self.store.list_policies().await?.into_iter().filter(|p| p.scope == scope) {
            self.store.delete_policy(&p.id).await?;
            self.gov.limits().reset(&format!("{}/", p.id));
        }
        self.store.delete_team(name).await?;
        self.reload().await
    }
}
