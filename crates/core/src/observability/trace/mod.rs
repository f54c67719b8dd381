//! Traces: one OpenTelemetry span per request (kind SERVER) and one per
//! upstream attempt (kind CLIENT), with the GenAI conventions' `gen_ai.*`
//! attributes, exported over OTLP/HTTP.
//!
//! The spans are built whole at *settle*, with the ids and times the
//! request's phases recorded, and handed to the SDK's batch processor; the
//! request path only generates ids and writes a header:
//!
//! - *identify* ([`RequestTracer`]): the request span's id, in the client's
//!   trace when it sent a valid `traceparent` (else a new, sampled trace);
//! - *attempt*: a span id per candidate, sent upstream as its `traceparent`
//!   (the client's own `tracestate` travels through the header allow-list);
//! - *settle*: the spans, unless the client's `traceparent` said not sampled.
//!
//! Without a tracer the client's `traceparent` reaches the upstream
//! unchanged. Payloads (prompts, completions) are never put in a span.
//!
//! - [`w3c`]: `traceparent` parsing and formatting.
//! - [`spans`]: a settled request as span data (names, attributes, status).
//! - [`hook`]: [`RequestTracer`], the lifecycle hook.
//! - [`export`]: [`OtlpExport`], the batch processor and its OTLP/HTTP exporter.

pub mod export;
pub mod hook;
pub mod spans;
pub mod w3c;

pub use export::{exact_url, parse_header, traces_url, OtlpConfig, OtlpExport, TraceError};
pub use hook::RequestTracer;
pub(crate) use w3c::client_context;
