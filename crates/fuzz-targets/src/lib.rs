//! Fuzz targets for every parser in Switchyard that sees untrusted bytes:
//! client request bodies (per dialect), upstream response bodies, SSE framing
//! and the stream decoders, the config file, model lists and upstream error
//! bodies.
//!
//! Each target is a `fn(&[u8])` that must never panic. Besides "does not
//! panic", a few targets check cheap invariants that the gateway relies on
//! (SSE framing is independent of chunk boundaries; a rewritten body is still
//! a JSON object with the new model); a broken invariant panics too, so the
//! fuzzers report it like a crash.
//!
//! Two drivers call these functions: the libFuzzer harness in `fuzz/`
//! (nightly, coverage-guided) and `fuzz-run` (stable, bounded, mutation-based),
//! which is what CI runs. See `fuzz/README.md`.

pub mod corpus;
pub mod mutate;
mod other;
mod requests;
mod streams;

pub use other::{config, model_list, upstream_error};
pub use requests::{
    anthropic_request, chat_request, completions_request, raw_object, responses_request, translate_request,
    upstream_response,
};
pub use streams::{anthropic_stream, chat_stream, sse};

/// One fuzz target: its name (also its corpus directory) and its entry point.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, in the order `fuzz-run` runs them.
pub const TARGETS: &[Target] = &[
    Target { name: "raw_object", run: raw_object },
    Target { name: "anthropic_request", run: anthropic_request },
    Target { name: "chat_request", run: chat_request },
    Target { name: "responses_request", run: responses_request },
    Target { name: "completions_request", run: completions_request },
    Target { name: "translate_request", run: translate_request },
    Target { name: "upstream_response", run: upstream_response },
    Target { name: "sse", run: sse },
    Target { name: "chat_stream", run: chat_stream },
    Target { name: "anthropic_stream", run: anthropic_stream },
    Target { name: "config", run: config },
    Target { name: "model_list", run: model_list },
    Target { name: "upstream_error", run: upstream_error },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().copied().find(|t| t.name == name)
}
