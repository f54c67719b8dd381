//! `GET /v1/models`: every provider that allows `list_models` is asked
//! concurrently (default path or override, typically the Unity Catalog URL on
//! the workspace host), its body's format detected, pages followed, and the
//! ids prefixed with the provider name. A provider that fails or is slow is
//! reported and left out; it never fails the whole list. Lists are cached
//! briefly and then served stale while a refresh runs behind; a failure is
//! remembered, so a hanging provider costs the wait once, not on every call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{HeaderMap, Method};
use switchyard_protocol::model_list::parse_model_list;
use switchyard_protocol::openai::models::Model;

use crate::error::GatewayError;
use crate::provider::Provider;
use crate::request_type::RequestType;
use crate::snapshot::Snapshot;
use crate::upstream::{send, UpstreamRequest};

/// How long one provider may take to list its models (all pages).
pub const PROVIDER_LIST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a provider's list is reused.
pub const CACHE_TTL: Duration = Duration::from_secs(60);
/// Guard against an upstream that never stops paging.
const MAX_PAGES: usize = 100;

#[derive(Debug, Clone)]
pub struct ModelsReport {
    pub models: Vec<Model>,
    pub failures: Vec<ProviderFailure>,
}

#[derive(Debug, Clone)]
pub struct ProviderFailure {
    pub provider: String,
    pub error: String,
}

/// What is known of one provider's list under one snapshot generation.
#[derive(Default)]
struct CacheEntry {
    generation: u64,
    /// The last list fetched, and when.
    models: Option<(Instant, Arc<Vec<Model>>)>,
    /// The last failure, and when: a provider that hangs is not waited for again
    /// on every call while it is remembered.
    failure: Option<(Instant, String)>,
    /// A background refresh is running.
    refreshing: bool,
}

/// Provider lists, served stale while a refresh runs behind.
#[derive(Default)]
pub(crate) struct ModelCache {
    entries: Mutex<HashMap<String, CacheEntry>>,
}

/// What the cache says for one provider.
enum Lookup {
    Fresh(Arc<Vec<Model>>),
    /// Served at once; `refresh` says whether this caller starts the refresh.
    Stale {
        models: Arc<Vec<Model>>,
        refresh: bool,
    },
    Failed {
        error: String,
        refresh: bool,
    },
    Unknown,
}

impl ModelCache {
    fn lookup(&self, provider: &str, generation: u64) -> Lookup {
        let Ok(mut entries) = self.entries.lock() else { return Lookup::Unknown };
        let e = entries.entry(provider.to_string()).or_default();
        if e.generation != generation {
            // The provider may have changed: nothing from before counts.
            *e = CacheEntry { generation, ..CacheEntry::default() };
        }
        let refresh = !e.refreshing;
        match (&e.models, &e.failure) {
            (Some((at, models)), _) if at.elapsed() < CACHE_TTL => Lookup::Fresh(models.clone()),
            (Some((_, models)), _) => {
                e.refreshing = true;
                Lookup::Stale { models: models.clone(), refresh }
            }
            (None, Some((at, error))) => {
                // Reported at once; once it is old, one caller also asks again behind.
                let refresh = refresh && at.elapsed() >= FAILURE_TTL;
                e.refreshing |= refresh;
                Lookup::Failed { error: error.clone(), refresh }
            }
            _ => Lookup::Unknown,
        }
    }

    fn record(&self, provider: &str, generation: u64, result: &Result<Arc<Vec<Model>>, String>) {
        let Ok(mut entries) = self.entries.lock() else { return };
        let e = entries.entry(provider.to_string()).or_default();
        if e.generation != generation {
            return;
        }
        e.refreshing = false;
        match result {
            Ok(models) => {
                e.models = Some((Instant::now(), models.clone()));
                e.failure = None;
            }
            Err(error) => e.failure = Some((Instant::now(), error.clone())),
        }
    }
}

/// How long a failed listing is reported without asking the provider again inline.
const FAILURE_TTL: Duration = Duration::from_secs(30);

async fn fetch_bounded(p: &Provider) -> Result<Arc<Vec<Model>>, String> {
    match tokio::time::timeout(PROVIDER_LIST_TIMEOUT, fetch_provider_models(p)).await {
        Ok(Ok(models)) => Ok(Arc::new(models)),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no complete model list within {} s", PROVIDER_LIST_TIMEOUT.as_secs())),
    }
}

/// Refreshes one provider's list behind the caller.
fn refresh_behind(p: Arc<Provider>, generation: u64, cache: Arc<ModelCache>) {
    tokio::spawn(async move {
        let result = fetch_bounded(&p).await;
        cache.record(&p.name, generation, &result);
    });
}

pub(crate) async fn list_models(snapshot: Arc<Snapshot>, cache: &Arc<ModelCache>) -> ModelsReport {
    let listing: Vec<&Arc<Provider>> = snapshot
        .providers
        .values()
        .filter(|p| p.allows(RequestType::ListModels) && p.url_for(RequestType::ListModels).is_some())
        .collect();
    let generation = snapshot.generation;
    let tasks = listing.iter().map(|p| async {
        let result = match cache.lookup(&p.name, generation) {
            Lookup::Fresh(models) => Ok(models),
            Lookup::Stale { models, refresh } => {
                if refresh {
                    refresh_behind((*p).clone(), generation, cache.clone());
                }
                Ok(models)
            }
            Lookup::Failed { error, refresh } => {
                if refresh {
                    refresh_behind((*p).clone(), generation, cache.clone());
                }
                Err(error)
            }
            Lookup::Unknown => {
                let result = fetch_bounded(p).await;
                cache.record(&p.name, generation, &result);
                result
            }
        };
        (p.name.clone(), result)
    });
    let mut report = ModelsReport { models: Vec::new(), failures: Vec::new() };
    for (provider, result) in futures::future::join_all(tasks).await {
        match result {
            Ok(models) => report.models.extend(models.iter().cloned()),
            Err(error) => {
                tracing::warn!(%provider, %error, "listing models failed; provider left out of /v1/models");
                report.failures.push(ProviderFailure { provider, error });
            }
        }
    }
    report
}

/// Fetches every page of one provider's list.
pub async fn fetch_provider_models(p: &Provider) -> Result<Vec<Model>, GatewayError> {
    let Some(base) = p.url_for(RequestType::ListModels) else {
        return Ok(Vec::new());
    };
    let base = with_model_services_page_size(base);
    let key = if p.keyless || p.oauth.is_some() {
        None
    } else {
        crate::keys::choose(&p.keys, "", &mut rand::rng()).or(p.keys.first())
    };
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut next: Option<(&'static str, String)> = None;
    for _ in 0..MAX_PAGES {
        let url = match &next {
            None => base.clone(),
            Some((param, value)) => with_query(&base, param, value),
        };
        let url = reqwest::Url::parse(&url).map_err(|e| GatewayError::UpstreamTransport {
            provider: p.name.clone(),
            message: format!("invalid model list URL {}: {e}", crate::redact::url(&url)),
            timed_out: false,
        })?;
        let resp = send(
            UpstreamRequest {
                provider: p,
                method: Method::GET,
                url,
                body: None,
                key,
                forwarded: HeaderMap::new(),
                accept_event_stream: false,
            },
            &mut 0,
        )
        .await?;
        let body = resp.bytes(&p.name, p.max_response_body).await?;
        let page = parse_model_list(&body)
            .map_err(|e| GatewayError::BadUpstreamResponse { provider: p.name.clone(), message: e.to_string() })?;
        // A model listed twice (a service on two pages, a list that repeats itself) is listed once.
        out.extend(page.models.into_iter().filter(|m| seen.insert(m.id.clone())).map(|m| {
            Model::new(
                format!("{}/{}", p.name, m.id),
                m.created.unwrap_or(0),
                m.owned_by.unwrap_or_else(|| p.name.clone()),
            )
        }));
        match page.next {
            Some(n) if next.as_ref().is_none_or(|(_, prev)| *prev != n.value) => next = Some((n.param, n.value)),
            _ => return Ok(out),
        }
    }
    Err(GatewayError::BadUpstreamResponse {
        provider: p.name.clone(),
        message: format!("model list still had more pages after {MAX_PAGES}"),
    })
}

/// Sets one query parameter, replacing an existing value.
/// Unity AI Gateway's model-services list fails without a page size: one is
/// added (its largest, 100) unless the URL gives its own.
fn with_model_services_page_size(url: String) -> String {
    let Ok(parsed) = url::Url::parse(&url) else { return url };
    let services = parsed.path().trim_end_matches('/').ends_with("/unity-catalog/model-services");
    if services && !parsed.query_pairs().any(|(k, _)| k == "page_size") {
        return with_query(&url, "page_size", "100");
    }
    url
}

fn with_query(base: &str, param: &str, value: &str) -> String {
    match url::Url::parse(base) {
        Ok(mut url) => {
            let kept: Vec<(String, String)> =
                url.query_pairs().filter(|(k, _)| k != param).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            url.query_pairs_mut().clear().extend_pairs(kept).append_pair(param, value);
            url.to_string()
        }
        Err(_) => base.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::with_query;

    #[test]
    fn page_token_replaces_previous_and_keeps_other_params() {
        assert_eq!(
            with_query("https://h/api/2.1/unity-catalog/models?max_results=5", "page_token", "a b"),
            "https://h/api/2.1/unity-catalog/models?max_results=5&page_token=a+b"
        );
        assert_eq!(with_query("https://h/m?page_token=old", "page_token", "new"), "https://h/m?page_token=new");
    }
}
