//! The request lifecycle. Every inference request passes the same phases,
//! each with one home (Pingora's `ProxyHttp` names the same idea):
//!
//! | phase    | home                         | does |
//! |----------|------------------------------|------|
//! | receive  | [`crate::dispatch`]          | shallow parse, request id, shape checks |
//! | identify | [`RequestHooks::identify`]   | who is calling (virtual keys plug in here) |
//! | route    | [`crate::routing`]           | model or route name → ordered candidates |
//! | admit    | [`RequestHooks::admit`]      | limits and budgets (one acquire per request) |
//! | plan     | [`crate::plan`]              | passthrough / translate / emulate, per candidate |
//! | send     | [`crate::call`]              | one upstream call per attempt, retries, next candidate; [`RequestHooks::attempt`] before each |
//! | relay    | [`crate::relay`] + [`crate::tap`] | passthrough or transcode; the tap sees every event |
//! | settle   | [`Settlement`]               | exactly once: usage, outcome → [`RequestHooks::settle`] |
//!
//! Features attach to a hook or to the tap; they never edit the relay's loop.

mod context;
mod settle;

use futures::future::BoxFuture;

pub use context::{Attempt, Credentials, Identity, RequestContext};
pub use settle::Settlement;

use crate::error::GatewayError;
use crate::usage::Outcome;

/// The hooks in force, shared by every request (swapped whole when one is added).
pub type Hooks = std::sync::Arc<Vec<std::sync::Arc<dyn RequestHooks>>>;

/// What governance and observability plug into. Every method has a no-op
/// default, so a hook implements only the phases it cares about.
pub trait RequestHooks: Send + Sync {
    /// Who is calling: fill `ctx.identity`, or refuse (the error reaches the
    /// client in its dialect).
    fn identify(&self, _ctx: &mut RequestContext, _credentials: &Credentials) -> Result<(), GatewayError> {
        Ok(())
    }

    /// Whether the request may proceed now, after routing; may wait on a
    /// shared store, and may keep what it took in `ctx.extensions` for
    /// *settle*. A refusal is settled like any failure.
    fn admit<'a>(&'a self, _ctx: &'a mut RequestContext) -> BoxFuture<'a, Result<(), GatewayError>> {
        Box::pin(async { Ok(()) })
    }

    /// Before each candidate is tried (`ctx.provider` and `ctx.served_model`
    /// name it): may add headers for its upstream call to
    /// `ctx.upstream_headers` (a tracer's `traceparent`). Must not block.
    fn attempt(&self, _ctx: &mut RequestContext) {}

    /// Runs exactly once per request that passed *receive*, on success,
    /// error or client disconnect. Must not block: it may run inside a
    /// stream's drop.
    fn settle(&self, _ctx: &RequestContext, _outcome: &Outcome) {}
}
