//! The route phase: a model name becomes the ordered list of candidates to
//! try. A configured route contributes one target chosen by weight, then its
//! fallbacks; a request's own `fallbacks` field (Bifrost's way, for clients
//! that can add body fields) follows. Each candidate is planned and sent on
//! its own, so a fallback may have another base format than the primary.

use std::sync::Arc;

use rand::Rng;
use serde_json::Value;
use switchyard_protocol::raw_json::RawObject;

use crate::config::RouteConfig;
use crate::error::GatewayError;
pub use crate::model_id::split_model;
use crate::provider::Provider;
use crate::snapshot::Snapshot;

/// One provider and the model name it is sent.
#[derive(Clone)]
pub(crate) struct Candidate {
    pub provider: Arc<Provider>,
    pub model: String,
}

impl Candidate {
    /// `<provider>/<model>`, as logs and headers show it.
    pub fn label(&self) -> String {
        format!("{}/{}", self.provider.name, self.model)
    }
}

/// Resolves `<provider>/<model>`; a model without a known provider goes, whole,
/// to the default provider when one is configured.
pub(crate) fn resolve(snapshot: &Snapshot, model: &str) -> Result<Candidate, GatewayError> {
    if let Some((name, rest)) = split_model(model) {
        if let Some(p) = snapshot.providers.get(name) {
            return Ok(Candidate { provider: p.clone(), model: rest.to_string() });
        }
    }
    if let Some(p) = snapshot.config.default_provider.as_ref().and_then(|d| snapshot.providers.get(d)) {
        return Ok(Candidate { provider: p.clone(), model: model.to_string() });
    }
    match split_model(model) {
        None => {
            Err(GatewayError::MissingProviderPrefix { model: model.to_string(), configured: snapshot.provider_names() })
        }
        Some((name, _)) => {
            Err(GatewayError::UnknownProvider { provider: name.to_string(), configured: snapshot.provider_names() })
        }
    }
}

fn pick_target<'r, R: Rng + ?Sized>(route: &'r RouteConfig, rng: &mut R) -> Option<&'r str> {
    let total: f64 = route.targets.iter().map(|t| t.weight).sum();
    let mut x = rng.random_range(0.0..total.max(f64::MIN_POSITIVE));
    for t in &route.targets {
        if x < t.weight {
            return Some(&t.model);
        }
        x -= t.weight;
    }
    route.targets.last().map(|t| t.model.as_str())
}

/// Every candidate for the request, in the order they are tried.
pub(crate) fn candidates(
    snapshot: &Snapshot,
    model: &str,
    obj: &RawObject<'_>,
) -> Result<Vec<Candidate>, GatewayError> {
    let mut out = Vec::with_capacity(2);
    match snapshot.config.routes.get(model) {
        Some(route) => {
            let target = pick_target(route, &mut rand::rng()).unwrap_or(model);
            out.push(resolve(snapshot, target)?);
            for f in &route.fallbacks {
                out.push(resolve(snapshot, f)?);
            }
        }
        None => out.push(resolve(snapshot, model)?),
    }
    if let Some(raw) = obj.get("fallbacks") {
        let items: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
        let Value::Array(items) = items else {
            return Err(GatewayError::invalid(
                "`fallbacks` must be an array of \"<provider>/<model>\" strings",
                Some("fallbacks"),
            ));
        };
        for (i, item) in items.iter().enumerate() {
            let param = format!("fallbacks[{i}]");
            let Some(m) = item.as_str() else {
                return Err(GatewayError::invalid(
                    format!("`{param}` must be a \"<provider>/<model>\" string"),
                    Some(&param),
                ));
            };
            let c = resolve(snapshot, m).map_err(|e| GatewayError::invalid(format!("`{param}`: {e}"), Some(&param)))?;
            out.push(c);
        }
    }
    Ok(out)
}

/// Whether a candidate's failure lets the next one be tried: it could not be
/// reached, timed out, was overloaded or broke, and nothing reached the client.
pub(crate) fn falls_back(e: &GatewayError) -> bool {
    match e {
        GatewayError::UpstreamTransport { .. }
        | GatewayError::BadUpstreamResponse { .. }
        | GatewayError::UpstreamAuth { .. }
        | GatewayError::UpstreamTooLarge { .. } => true,
        GatewayError::Upstream { status, .. } => *status == 429 || *status >= 500,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RouteTarget;
    use rand::SeedableRng;

    #[test]
    fn targets_are_picked_in_proportion_to_weight() {
        let route = RouteConfig {
            targets: vec![
                RouteTarget { model: "a/m".into(), weight: 3.0 },
                RouteTarget { model: "b/m".into(), weight: 1.0 },
            ],
            fallbacks: vec![],
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let a = (0..10_000).filter(|_| pick_target(&route, &mut rng) == Some("a/m")).count();
        assert!((7_300..=7_700).contains(&a), "{a}");
    }
}
