//! Prometheus metrics, with OpenTelemetry GenAI names where they exist
//! (`gen_ai_client_token_usage`, `gen_ai_server_request_duration_seconds`,
//! `gen_ai_server_time_to_first_token_seconds`), recorded by a settle hook.
//! Labels are bounded: providers are the configured ones, models only the
//! configured ones (named by a route, a provider key's model list or the
//! price table; anything else reads `other`), and key ids only when asked
//! for (`switchyard_key_requests_total`).

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::inbound::Inbound;
use crate::lifecycle::{Credentials, RequestContext, RequestHooks};
use crate::usage::{End, Outcome};
use crate::GatewayError;

/// Whether `<provider>/<model>` (or a route name) is configured, so may be a label value.
pub type ModelFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The configured models of the gateway's live configuration: route names
/// and targets, models on a provider key's list, and (with `priced`) any
/// model the price table covers.
pub fn configured_models(gateway: crate::Gateway, priced: Option<ModelFilter>) -> ModelFilter {
    Arc::new(move |model: &str| {
        let snapshot = gateway.snapshot();
        let routes = &snapshot.config.routes;
        if routes.contains_key(model)
            || routes
                .values()
                .any(|r| r.targets.iter().any(|t| t.model == model) || r.fallbacks.iter().any(|f| f == model))
        {
            return true;
        }
        if let Some((provider, bare)) = model.split_once('/') {
            if snapshot
                .providers
                .get(provider)
                .is_some_and(|p| p.keys.iter().any(|k| k.models.iter().any(|m| m == bare)))
            {
                return true;
            }
        }
        priced.as_ref().is_some_and(|p| p(model))
    })
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    inbound: &'static str,
    provider: String,
    model: String,
    status_class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KeyLabels {
    key_id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    gen_ai_operation_name: &'static str,
    gen_ai_provider_name: String,
    gen_ai_request_model: String,
    gen_ai_token_type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    gen_ai_operation_name: &'static str,
    gen_ai_provider_name: String,
    gen_ai_request_model: String,
    /// The error kind; empty on success.
    error_type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    /// `gateway` (a Switchyard limit) or `upstream` (the provider's 429).
    source: &'static str,
}

type Hist<S> = Family<S, Histogram, fn() -> Histogram>;

/// The request metrics, registered in a [`Registry`].
pub struct RequestMetrics {
    requests: Family<RequestLabels, Counter>,
    key_requests: Option<Family<KeyLabels, Counter>>,
    tokens: Hist<TokenLabels>,
    duration: Hist<OperationLabels>,
    ttft: Hist<OperationLabels>,
    retries: Family<ProviderLabels, Counter>,
    fallbacks: Family<RouteLabels, Counter>,
    rate_limited: Family<SourceLabels, Counter>,
    inflight: Gauge<i64, std::sync::atomic::AtomicI64>,
    models: ModelFilter,
}

/// OTel's advice for `gen_ai.client.token.usage`: powers of 4 from 1 to 4^13.
fn token_histogram() -> Histogram {
    Histogram::new([1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0])
}

/// OTel's advice for `gen_ai.server.request.duration`, up to 82 s (agent turns are long).
fn duration_histogram() -> Histogram {
    Histogram::new([0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92])
}

/// OTel's advice for `gen_ai.server.time_to_first_token`.
fn ttft_histogram() -> Histogram {
    Histogram::new([0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0])
}

/// Marks a request counted in flight (so settle only decrements what identify incremented).
#[derive(Clone, Copy)]
struct InFlight;

impl RequestMetrics {
    /// Registers every request metric in `registry`; `key_labels` adds
    /// `switchyard_key_requests_total{key_id}` (one series per key: opt in).
    pub fn register(registry: &mut Registry, models: ModelFilter, key_labels: bool) -> Arc<Self> {
        let m = Self {
            requests: Family::default(),
            key_requests: key_labels.then(Family::default),
            tokens: Family::new_with_constructor(token_histogram),
            duration: Family::new_with_constructor(duration_histogram),
            ttft: Family::new_with_constructor(ttft_histogram),
            retries: Family::default(),
            fallbacks: Family::default(),
            rate_limited: Family::default(),
            inflight: Gauge::default(),
            models,
        };
        registry.register(
            "switchyard_requests",
            "Inference requests settled, by inbound API, provider, model and status class",
            m.requests.clone(),
        );
        if let Some(k) = &m.key_requests {
            registry.register("switchyard_key_requests", "Inference requests settled, by virtual key id", k.clone());
        }
        registry.register("gen_ai_client_token_usage", "Tokens used per request, by token type", m.tokens.clone());
        registry.register_with_unit(
            "gen_ai_server_request_duration",
            "Time from a request's arrival to its last byte",
            Unit::Seconds,
            m.duration.clone(),
        );
        registry.register_with_unit(
            "gen_ai_server_time_to_first_token",
            "Time from a request's arrival to the first byte of its answer",
            Unit::Seconds,
            m.ttft.clone(),
        );
        registry.register(
            "switchyard_upstream_retries",
            "Upstream calls retried (connect errors, 429, 5xx)",
            m.retries.clone(),
        );
        registry.register(
            "switchyard_fallbacks",
            "Times a request moved on to its next candidate, by route",
            m.fallbacks.clone(),
        );
        registry.register(
            "switchyard_rate_limited",
            "Requests refused with 429, by who refused them",
            m.rate_limited.clone(),
        );
        registry.register("switchyard_inflight_requests", "Inference requests being served", m.inflight.clone());
        Arc::new(m)
    }

    fn model_label(&self, ctx: &RequestContext) -> String {
        let served = ctx.provider.as_deref().zip(ctx.served_model.as_deref()).map(|(p, m)| format!("{p}/{m}"));
        if let Some(s) = served.filter(|s| (self.models)(s)) {
            return s;
        }
        if !ctx.requested_model.is_empty() && (self.models)(&ctx.requested_model) {
            return ctx.requested_model.clone();
        }
        if ctx.requested_model.is_empty() { "none" } else { "other" }.to_string()
    }
}

fn operation(inbound: Inbound) -> Option<&'static str> {
    match inbound {
        Inbound::OpenAiChat | Inbound::OpenAiResponses | Inbound::AnthropicMessages => Some("chat"),
        Inbound::OpenAiCompletions => Some("text_completion"),
        Inbound::OpenAiEmbeddings => Some("embeddings"),
        Inbound::AnthropicCountTokens => None,
    }
}

fn status_class(outcome: &Outcome) -> &'static str {
    if outcome.end == End::Broke {
        return "5xx";
    }
    match outcome.status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

impl RequestHooks for RequestMetrics {
    fn identify(&self, ctx: &mut RequestContext, _credentials: &Credentials) -> Result<(), GatewayError> {
        self.inflight.inc();
        ctx.extensions.insert(InFlight);
        Ok(())
    }

    fn settle(&self, ctx: &RequestContext, outcome: &Outcome) {
        if ctx.extensions.get::<InFlight>().is_some() {
            self.inflight.dec();
        }
        let provider = ctx.provider.clone().unwrap_or_else(|| "none".into());
        let model = self.model_label(ctx);
        self.requests
            .get_or_create(&RequestLabels {
                inbound: ctx.inbound.as_str(),
                provider: provider.clone(),
                model: model.clone(),
                status_class: status_class(outcome),
            })
            .inc();
        if let (Some(keys), Some(id)) = (&self.key_requests, ctx.identity.as_ref().and_then(|i| i.key_id.clone())) {
            keys.get_or_create(&KeyLabels { key_id: id }).inc();
        }
        if ctx.retries > 0 {
            self.retries.get_or_create(&ProviderLabels { provider: provider.clone() }).inc_by(u64::from(ctx.retries));
        }
        let moved_on = ctx.attempts.len().saturating_sub(usize::from(outcome.end == End::Failed));
        if moved_on > 0 {
            let route = ctx.route.clone().unwrap_or_default();
            self.fallbacks.get_or_create(&RouteLabels { route }).inc_by(moved_on as u64);
        }
        if outcome.status == 429 {
            // A limit of Switchyard's refuses at admit, before any candidate is tried.
            let source = if ctx.provider.is_some() { "upstream" } else { "gateway" };
            self.rate_limited.get_or_create(&SourceLabels { source }).inc();
        }
        let Some(op) = operation(ctx.inbound) else { return };
        // Bounded: a status code or how the stream ended, never an upstream's own error code.
        let error_type = match outcome.end {
            End::Completed => String::new(),
            End::ClientLeft => "client_left".into(),
            End::Broke => "stream_broke".into(),
            End::Failed => outcome.status.to_string(),
        };
        let labels = OperationLabels {
            gen_ai_operation_name: op,
            gen_ai_provider_name: provider.clone(),
            gen_ai_request_model: model.clone(),
            error_type,
        };
        self.duration.get_or_create(&labels).observe(outcome.duration.as_secs_f64());
        if let Some(t) = outcome.ttft.filter(|_| outcome.end != End::Failed) {
            self.ttft.get_or_create(&labels).observe(t.as_secs_f64());
        }
        if outcome.end != End::Failed {
            let u = &outcome.usage;
            for (kind, n) in [("input", u.total_input()), ("output", u.output_tokens)] {
                self.tokens
                    .get_or_create(&TokenLabels {
                        gen_ai_operation_name: op,
                        gen_ai_provider_name: provider.clone(),
                        gen_ai_request_model: model.clone(),
                        gen_ai_token_type: kind,
                    })
                    .observe(n as f64);
            }
        }
    }
}
