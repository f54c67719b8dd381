//! What the phases learn about one request, carried from *receive* to *settle*.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use crate::inbound::Inbound;

/// The credential a client presented (`Authorization: Bearer`, `x-api-key`
/// or `api-key`). Never forwarded upstream; `Debug` never shows it.
#[derive(Clone, Default)]
pub struct Credentials {
    pub presented_key: Option<String>,
    /// The caller is the embedding program or the admin API's own test call,
    /// not a client: it needs no virtual key (limits still apply).
    pub in_process: bool,
}

impl Credentials {
    pub fn in_process() -> Self {
        Self { presented_key: None, in_process: true }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("presented_key", &self.presented_key.as_ref().map(|_| "<redacted>"))
            .field("in_process", &self.in_process)
            .finish()
    }
}

/// Who is calling, as *identify* found out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub key_id: Option<String>,
    pub key_name: Option<String>,
    pub team: Option<String>,
    pub tags: BTreeMap<String, String>,
    /// The key's (else its team's) payload-logging choice; `None`: the global setting.
    pub log_payloads: Option<bool>,
}

/// One candidate tried (its retries inside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// `<provider>/<model>`.
    pub candidate: String,
    /// `None` when this candidate answered.
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub inbound: Inbound,
    pub started: Instant,
    pub started_at: SystemTime,
    pub user_agent: Option<String>,
    /// From `x-switchyard-user`, OpenAI `user` or Anthropic `metadata.user_id`.
    pub user: Option<String>,
    pub identity: Option<Identity>,
    /// The `model` as the client sent it.
    pub requested_model: String,
    /// The configured route the model named, if any.
    pub route: Option<String>,
    pub stream: bool,
    /// Every candidate, in the order they would be tried.
    pub candidates: Vec<String>,
    pub attempts: Vec<Attempt>,
    /// Provider and model of the candidate that answered.
    pub provider: Option<String>,
    pub served_model: Option<String>,
    /// Input tokens estimated from the request body, for when the upstream reports none.
    pub estimated_input_tokens: u64,
    /// The request's own cap on output (`max_tokens`, `max_completion_tokens`, `max_output_tokens`).
    pub max_output_tokens: Option<u64>,
    /// Headers every answer to this request carries (rate-limit state, …),
    /// errors included; hooks add to them.
    pub response_headers: http::HeaderMap,
    /// What a hook keeps between its phases (governance: its reservation).
    pub extensions: http::Extensions,
    /// A hook needs this request's real usage (token or cost limits): if the
    /// client leaves, the answer is read on to its usage (see `tap::drain`).
    pub drain_on_disconnect: bool,
    /// The client's request body as received (a shared handle, not a copy):
    /// what payload logging stores.
    pub body: bytes::Bytes,
    /// Upstream retries (inside candidates), counted by *send*.
    pub retries: u32,
    /// The client's W3C trace context (`traceparent`, `tracestate`), as it sent it.
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
    /// Headers the coming upstream call carries on top of (and over) the
    /// client's forwarded ones: set by [`super::RequestHooks::attempt`],
    /// emptied before each candidate.
    pub upstream_headers: http::HeaderMap,
}

impl RequestContext {
    pub fn new(request_id: String, inbound: Inbound) -> Self {
        Self {
            request_id,
            inbound,
            started: Instant::now(),
            started_at: SystemTime::now(),
            user_agent: None,
            user: None,
            identity: None,
            requested_model: String::new(),
            route: None,
            stream: false,
            candidates: Vec::new(),
            attempts: Vec::new(),
            provider: None,
            served_model: None,
            estimated_input_tokens: 0,
            max_output_tokens: None,
            response_headers: http::HeaderMap::new(),
            extensions: http::Extensions::new(),
            drain_on_disconnect: false,
            body: bytes::Bytes::new(),
            retries: 0,
            traceparent: None,
            tracestate: None,
            upstream_headers: http::HeaderMap::new(),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}
