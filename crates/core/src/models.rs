//! `GET /v1/models`: every provider that allows `list_models` is asked
//! concurrently (default path or override, typically the Unity Catalog URL on
//! the workspace host), its body's format detected, pages followed, and the
//! ids prefixed with the provider name. A provider that fails or is slow is
//! reported and left out; it never fails the whole list. Lists are cached briefly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{HeaderMap, Method};
use switchyard_protocol::model_list::parse_model_list;
use switchyard_protocol::openai::models::Model;

use crate::error::GatewayError;
use crate::gateway::Snapshot;
use crate::provider::Provider;
use crate::request_type::RequestType;
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

/// A provider's list, the snapshot generation it was fetched under, and when.
type CacheEntry = (u64, Instant, Arc<Vec<Model>>);

#[derive(Default)]
pub(crate) struct ModelCache {
    entries: Mutex<HashMap<String, CacheEntry>>,
}

impl ModelCache {
    fn get(&self, provider: &str, generation: u64) -> Option<Arc<Vec<Model>>> {
        let entries = self.entries.lock().ok()?;
        let (gen, at, models) = entries.get(provider)?;
        (*gen == generation && at.elapsed() < CACHE_TTL).then(|| models.clone())
    }

    fn put(&self, provider: &str, generation: u64, models: Arc<Vec<Model>>) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.insert(provider.to_string(), (generation, Instant::now(), models));
        }
    }
}

pub(crate) async fn list_models(snapshot: Arc<Snapshot>, cache: &ModelCache) -> ModelsReport {
    let listing: Vec<&Arc<Provider>> = snapshot
        .providers
        .values()
        .filter(|p| p.allows(RequestType::ListModels) && p.url_for(RequestType::ListModels).is_some())
        .collect();
    let tasks = listing.iter().map(|p| async {
        if let Some(models) = cache.get(&p.name, snapshot.generation) {
            return (p.name.clone(), Ok(models));
        }
        let result = match tokio::time::timeout(PROVIDER_LIST_TIMEOUT, fetch_provider_models(p)).await {
            Ok(Ok(models)) => {
                let models = Arc::new(models);
                cache.put(&p.name, snapshot.generation, models.clone());
                Ok(models)
            }
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no complete model list within {} s", PROVIDER_LIST_TIMEOUT.as_secs())),
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
    let key = if p.keyless { None } else { crate::keys::choose(&p.keys, "", &mut rand::rng()).or(p.keys.first()) };
    let mut out = Vec::new();
    let mut next: Option<(&'static str, String)> = None;
    for _ in 0..MAX_PAGES {
        let url = match &next {
            None => base.clone(),
            Some((param, value)) => with_query(&base, param, value),
        };
        let url = reqwest::Url::parse(&url).map_err(|e| GatewayError::UpstreamTransport {
            provider: p.name.clone(),
            message: format!("invalid model list URL {url}: {e}"),
            timed_out: false,
        })?;
        let resp = send(UpstreamRequest {
            provider: p,
            method: Method::GET,
            url,
            body: None,
            key,
            forwarded: HeaderMap::new(),
            accept_event_stream: false,
        })
        .await?;
        let body = resp.bytes(&p.name).await?;
        let page = parse_model_list(&body)
            .map_err(|e| GatewayError::BadUpstreamResponse { provider: p.name.clone(), message: e.to_string() })?;
        out.extend(page.models.into_iter().map(|m| {
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
