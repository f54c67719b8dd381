//! Request and response bodies: the shallow `RawObject` view the passthrough
//! path uses, each dialect's `request_to_canonical`, the whole translation
//! across every client × upstream pair, and upstream answers coming back.

use std::sync::OnceLock;

use serde_json::Value;
use switchyard_core::shaping::DropFields;
use switchyard_protocol::anthropic::request::{self as anthropic_request, AnthropicTarget};
use switchyard_protocol::canonical::estimate::estimate_input_tokens;
use switchyard_protocol::canonical::Request;
use switchyard_protocol::dialect::{Dialect, UpstreamDialect};
use switchyard_protocol::openai::chat::{request as chat_request, ToolNames};
use switchyard_protocol::openai::{completions, responses};
use switchyard_protocol::raw_json::RawObject;
use switchyard_protocol::translate::{translate_request as translate, Translation};

const CREATED: i64 = 1_700_000_000;

pub(crate) const CLIENTS: [Dialect; 4] =
    [Dialect::OpenAiChat, Dialect::OpenAiResponses, Dialect::OpenAiCompletions, Dialect::AnthropicMessages];

pub(crate) const UPSTREAMS: [UpstreamDialect; 2] = [UpstreamDialect::OpenAiChat, UpstreamDialect::AnthropicMessages];

/// The fields the gateway reads before routing, then the passthrough rewrite.
pub fn raw_object(data: &[u8]) {
    let Ok(obj) = RawObject::parse(data) else { return };
    let _ = obj.required_str("model");
    let _ = obj.optional_bool("stream");
    let _ = obj.require_non_empty_array("messages");
    let _ = obj.require_non_empty_array("input");
    let _ = obj.contains("tools");
    let _ = obj.parse_member::<Value>("stream_options");
    let _ = obj.parse_member::<u64>("max_tokens");
    for model in ["m", "dbx/\"q\"\u{0}\u{2028}"] {
        let out = obj.rewrite(model, &["store"]);
        check_rewrite(&out, model);
        let shaped = DropFields::new(&["store".into(), "tools[].function.strict".into(), "messages[].name".into()])
            .rewrite_raw(&obj, model, &[]);
        check_rewrite(&shaped, model);
    }
}

/// A rewritten body is still a JSON object, carrying the new model.
fn check_rewrite(out: &[u8], model: &str) {
    let reparsed = RawObject::parse(out);
    assert!(reparsed.is_ok(), "rewrite produced invalid JSON: {:?}", String::from_utf8_lossy(out));
    if let Ok(obj) = reparsed {
        assert_eq!(obj.required_str("model").ok().as_deref(), Some(model), "rewrite lost the model");
    }
}

fn json(data: &[u8]) -> Option<Value> {
    serde_json::from_slice(data).ok()
}

/// What every dialect's request goes through once canonical.
fn downstream_of(req: &Request) {
    let _ = estimate_input_tokens(req);
    let _ = anthropic_request::request_from_canonical(req, &AnthropicTarget::default());
    let _ = anthropic_request::request_from_canonical(req, &AnthropicTarget { default_max_tokens: 0 });
    let _ = chat_request::request_from_canonical(req, &mut ToolNames::default());
}

/// Anthropic Messages `POST /v1/messages` (also `count_tokens`).
pub fn anthropic_request(data: &[u8]) {
    let Some(body) = json(data) else { return };
    if let Ok(req) = anthropic_request::request_to_canonical(&body) {
        downstream_of(&req);
    }
}

/// OpenAI `POST /v1/chat/completions`.
pub fn chat_request(data: &[u8]) {
    let Some(body) = json(data) else { return };
    if let Ok(req) = chat_request::request_to_canonical(&body) {
        downstream_of(&req);
    }
}

/// OpenAI `POST /v1/responses`.
pub fn responses_request(data: &[u8]) {
    let Some(body) = json(data) else { return };
    if let Ok((req, _ctx)) = responses::request_to_canonical(&body) {
        downstream_of(&req);
    }
}

/// OpenAI legacy `POST /v1/completions`.
pub fn completions_request(data: &[u8]) {
    let Some(body) = json(data) else { return };
    if let Ok(req) = completions::request_to_canonical(&body) {
        downstream_of(&req);
    }
}

/// The whole way out, for every client × upstream pair.
pub fn translate_request(data: &[u8]) {
    let Some(body) = json(data) else { return };
    for client in CLIENTS {
        for upstream in UPSTREAMS {
            let _ = translate(client, upstream, &body, "upstream/model", &AnthropicTarget::default(), CREATED);
        }
    }
}

/// Translations set up from minimal requests, one per client × upstream pair
/// (built once: the targets run millions of times).
pub(crate) fn translations() -> &'static [Translation] {
    static ALL: OnceLock<Vec<Translation>> = OnceLock::new();
    ALL.get_or_init(build_translations)
}

fn build_translations() -> Vec<Translation> {
    let bodies = [
        (Dialect::OpenAiChat, r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true}"#),
        (Dialect::OpenAiResponses, r#"{"model":"m","input":"hi","stream":true}"#),
        (Dialect::OpenAiCompletions, r#"{"model":"m","prompt":"hi","stream":true}"#),
        (
            Dialect::AnthropicMessages,
            r#"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"stream":true}"#,
        ),
    ];
    let mut out = Vec::new();
    for (client, body) in bodies {
        let Ok(body) = serde_json::from_str::<Value>(body) else { continue };
        for upstream in UPSTREAMS {
            if let Ok((_, t)) = translate(client, upstream, &body, "m", &AnthropicTarget::default(), CREATED) {
                out.push(t);
            }
        }
    }
    out
}

/// An upstream's complete (non-streamed) answer, back into each client dialect.
pub fn upstream_response(data: &[u8]) {
    let Some(body) = json(data) else { return };
    for t in translations() {
        if let Ok(resp) = t.upstream_response(&body) {
            let _ = t.client_response(&resp);
            let _ = t.replay_as_stream(&resp);
        }
    }
}
