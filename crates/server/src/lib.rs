//! Switchyard's HTTP server.
//!
//! What happens to a request, in order:
//! 1. The listener accepts the connection and sets TCP_NODELAY on it
//!    ([`serve`]), so small SSE frames leave at once.
//! 2. The edge ([`edge`]) gives it a request id, applies the browser checks
//!    ([`guard`]) and notes method, path, status and latency in the access log
//!    (never headers or bodies: they carry secrets).
//! 3. The edge matches the inference routes (`/v1/...`, its `/openai/v1/...`
//!    alias, `/anthropic/v1/messages`); everything else (admin API, UI, model
//!    lists, `/health`, the JSON 404) goes to the axum router.
//! 4. The handler reads the body up to the configured limit (413 beyond it),
//!    filters client headers through the allow-list ([`headers`]), and calls
//!    the core `Gateway`, which takes a config snapshot, routes
//!    `<provider>/<model>`, checks the request type is allowed, picks a key and
//!    sends upstream with retries.
//!    Management routes (`/api`, `/ui/`) pass [`admin::auth::require_admin`]
//!    first, then go to the configuration service, which validates, persists
//!    and swaps the gateway's snapshot.
//! 5. The response is relayed: whole bodies as received, streams chunk by chunk
//!    as they arrive. Errors render in the client's dialect ([`error`]).

mod admin;
mod body;
pub mod edge;
pub mod error;
pub mod guard;
pub mod headers;
pub mod host_policy;
pub mod request_id;
mod routes;
mod serve;
mod state;

pub use edge::{router, App};
pub use serve::{bind, serve, serve_with, ConnLimits};
pub use state::AppState;
