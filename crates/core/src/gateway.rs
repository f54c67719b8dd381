//! The gateway: an immutable configuration snapshot behind `ArcSwap` (read
//! lock-free per request; an edit builds and swaps a whole new snapshot, so a
//! request sees the old or the new one, never a mix) and the dispatch of each
//! request to its provider.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use bytes::Bytes;
use futures::TryStreamExt;
use http::{HeaderMap, HeaderValue, Method};
use switchyard_protocol::raw_json::{RawJsonError, RawObject};

use crate::config::{EnvResolver, GatewayConfig, ProcessEnv};
use crate::error::GatewayError;
use crate::models::{ModelCache, ModelsReport};
use crate::provider::{Provider, ProviderBuildError};
use crate::relay::{relay, ByteStream, StreamDialect};
use crate::request_type::{BaseFormat, RequestType};
use crate::routing::split_model;
use crate::upstream::{send, UpstreamRequest};

/// One consistent view of the configuration and the providers built from it.
#[derive(Debug)]
pub struct Snapshot {
    pub config: GatewayConfig,
    pub providers: BTreeMap<String, Arc<Provider>>,
    /// Increases with every swap; caches key on it.
    pub generation: u64,
}

impl Snapshot {
    pub fn provider_names(&self) -> Vec<String> {
        self.providers.keys().cloned().collect()
    }
}

struct Inner {
    state: ArcSwap<Snapshot>,
    env: Arc<dyn EnvResolver>,
    generation: AtomicU64,
    models: ModelCache,
}

/// The embeddable gateway. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

/// What the server relays back to the client.
pub struct ProxyResponse {
    pub status: u16,
    pub content_type: Option<HeaderValue>,
    pub provider: String,
    pub body: ProxyBody,
}

pub enum ProxyBody {
    Full(Bytes),
    Stream(ByteStream),
}

impl Gateway {
    /// Builds a gateway; `env.NAME` references resolve from the process environment.
    pub fn new(config: GatewayConfig) -> Result<Self, ProviderBuildError> {
        Self::with_env(config, Arc::new(ProcessEnv))
    }

    pub fn with_env(config: GatewayConfig, env: Arc<dyn EnvResolver>) -> Result<Self, ProviderBuildError> {
        let snapshot = build_snapshot(config, env.as_ref(), 1)?;
        Ok(Self {
            inner: Arc::new(Inner {
                state: ArcSwap::from_pointee(snapshot),
                env,
                generation: AtomicU64::new(1),
                models: ModelCache::default(),
            }),
        })
    }

    /// The current snapshot. Hold it for the life of a request.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.state.load_full()
    }

    /// Applies a new configuration to new requests at once; requests and
    /// streams in flight finish on the snapshot they started with.
    pub fn reload(&self, config: GatewayConfig) -> Result<(), ProviderBuildError> {
        let generation = self.inner.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let snapshot = build_snapshot(config, self.inner.env.as_ref(), generation)?;
        self.inner.state.store(Arc::new(snapshot));
        Ok(())
    }

    /// Lists every provider's models (see [`crate::models`]).
    pub async fn list_models(&self) -> ModelsReport {
        crate::models::list_models(self.snapshot(), &self.inner.models).await
    }

    /// `POST /v1/chat/completions`. `body` is the client's JSON; `forwarded`
    /// holds the client headers that passed the allow-list.
    pub async fn proxy_chat(&self, body: Bytes, forwarded: HeaderMap) -> Result<ProxyResponse, GatewayError> {
        let snapshot = self.snapshot();
        let obj = RawObject::parse(&body).map_err(invalid_json)?;
        let model = obj.required_str("model").map_err(invalid_json)?;
        obj.require_non_empty_array("messages").map_err(invalid_json)?;
        let stream = obj.optional_bool("stream").map_err(invalid_json)?.unwrap_or(false);
        if !stream && obj.get("stream_options").is_some_and(|v| v.get() != "null") {
            return Err(GatewayError::invalid(
                "`stream_options` is only allowed when `stream` is true",
                Some("stream_options"),
            ));
        }
        let (provider, upstream_model) = route(&snapshot, &model)?;
        let request_type = if stream { RequestType::ChatCompletionStream } else { RequestType::ChatCompletion };
        check_allowed(&provider, request_type)?;
        if provider.base_format != BaseFormat::Openai {
            return Err(GatewayError::Unsupported {
                provider: provider.name.clone(),
                base_format: provider.base_format.to_string(),
                request_type,
                detail: Some("translation to the anthropic base format is not available in this build".into()),
            });
        }
        let url = provider.url_for(request_type).ok_or_else(|| no_endpoint(&provider, request_type))?;
        let key = pick_key(&provider, upstream_model)?;
        let upstream_body = Bytes::from(obj.rewrite(upstream_model, &[]));
        tracing::debug!(provider = %provider.name, model = upstream_model, stream, %url, "dispatching chat completion");
        let resp = send(UpstreamRequest {
            provider: &provider,
            method: Method::POST,
            url,
            body: Some(upstream_body),
            key,
            forwarded,
            accept_event_stream: stream,
        })
        .await?;
        let status = resp.response.status().as_u16();
        let content_type = resp.response.headers().get(http::header::CONTENT_TYPE).cloned();
        let is_sse =
            content_type.as_ref().and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/event-stream"));
        let body = if stream && is_sse {
            let upstream: ByteStream = Box::pin(resp.response.bytes_stream().map_err(std::io::Error::other));
            let hold = Box::new((snapshot.clone(), provider.clone()));
            ProxyBody::Stream(relay(
                upstream,
                StreamDialect::OpenAiChat,
                provider.stream_idle_timeout,
                &provider.name,
                hold,
            ))
        } else {
            ProxyBody::Full(resp.bytes(&provider.name).await?)
        };
        Ok(ProxyResponse { status, content_type, provider: provider.name.clone(), body })
    }
}

fn build_snapshot(
    config: GatewayConfig,
    env: &dyn EnvResolver,
    generation: u64,
) -> Result<Snapshot, ProviderBuildError> {
    let mut providers = BTreeMap::new();
    for (name, cfg) in &config.providers {
        providers.insert(name.clone(), Arc::new(Provider::build(name, cfg, env)?));
    }
    Ok(Snapshot { config, providers, generation })
}

fn invalid_json(e: RawJsonError) -> GatewayError {
    let param = e.param().map(str::to_string);
    GatewayError::InvalidRequest { message: e.to_string(), param }
}

/// Resolves `<provider>/<model>` against the snapshot.
pub(crate) fn route<'m>(snapshot: &Snapshot, model: &'m str) -> Result<(Arc<Provider>, &'m str), GatewayError> {
    let Some((name, upstream_model)) = split_model(model) else {
        return Err(GatewayError::MissingProviderPrefix {
            model: model.to_string(),
            configured: snapshot.provider_names(),
        });
    };
    let provider = snapshot.providers.get(name).ok_or_else(|| GatewayError::UnknownProvider {
        provider: name.to_string(),
        configured: snapshot.provider_names(),
    })?;
    Ok((provider.clone(), upstream_model))
}

pub(crate) fn check_allowed(provider: &Provider, t: RequestType) -> Result<(), GatewayError> {
    if provider.allows(t) {
        return Ok(());
    }
    Err(GatewayError::RequestTypeNotAllowed {
        provider: provider.name.clone(),
        request_type: t,
        allowed: provider.allowed_names(),
    })
}

fn no_endpoint(provider: &Provider, t: RequestType) -> GatewayError {
    GatewayError::Unsupported {
        provider: provider.name.clone(),
        base_format: provider.base_format.to_string(),
        request_type: t,
        detail: Some(format!("set custom_provider_config.request_path_overrides.{t} to the upstream path or URL")),
    }
}

pub(crate) fn pick_key<'p>(
    provider: &'p Provider,
    model: &str,
) -> Result<Option<&'p crate::keys::ResolvedKey>, GatewayError> {
    if provider.keyless {
        return Ok(None);
    }
    crate::keys::choose(&provider.keys, model, &mut rand::rng())
        .map(Some)
        .ok_or_else(|| GatewayError::NoKeyForModel { provider: provider.name.clone(), model: model.to_string() })
}
