//! Where each dialect reports usage and the finish reason, read from one
//! parsed event or body. Only the few events that carry usage are parsed.

use serde_json::Value;
use switchyard_protocol::anthropic::response::usage_from as anthropic_usage;
use switchyard_protocol::canonical::Usage;
use switchyard_protocol::openai::chat::response::usage_from as openai_usage;

use crate::inbound::Inbound;
use crate::usage::Meter;
use switchyard_protocol::dialect::Dialect;

/// OpenAI Responses usage: `input_tokens` includes the cached ones.
fn responses_usage(u: &Value) -> Usage {
    let n = |p: &str| u.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    let cached = n("/input_tokens_details/cached_tokens");
    Usage {
        input_tokens: n("/input_tokens").saturating_sub(cached),
        cache_read_tokens: cached,
        cache_write_tokens: 0,
        output_tokens: n("/output_tokens"),
        reasoning_tokens: n("/output_tokens_details/reasoning_tokens"),
    }
}

fn has(u: &Value, key: &str) -> bool {
    u.get(key).is_some_and(Value::is_u64)
}

fn finish(m: &mut Meter, v: Option<&Value>) {
    if let Some(s) = v.and_then(Value::as_str) {
        m.finish_reason = Some(s.to_string());
    }
}

/// The members of a non-stream answer that accounting reads; everything
/// else is skipped by the parser without being built.
#[derive(Debug, Default, serde::Deserialize)]
pub(super) struct BodyPeek {
    usage: Option<Value>,
    #[serde(default)]
    choices: Vec<ChoicePeek>,
    status: Option<String>,
    stop_reason: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct ChoicePeek {
    finish_reason: Option<String>,
}

impl BodyPeek {
    pub fn usage_only(usage: Value) -> Self {
        Self { usage: Some(usage), ..Self::default() }
    }
}

/// A non-stream answer's body, by the API that produced it.
pub(super) fn read_body(inbound: Inbound, body: &BodyPeek, m: &mut Meter) {
    let usage = body.usage.as_ref().filter(|u| u.is_object());
    let finish = match inbound {
        Inbound::OpenAiChat | Inbound::OpenAiCompletions | Inbound::OpenAiEmbeddings => {
            if let Some(u) = usage {
                m.report(&openai_usage(Some(u)), true, true);
            }
            body.choices.first().and_then(|c| c.finish_reason.clone())
        }
        Inbound::OpenAiResponses => {
            if let Some(u) = usage {
                m.report(&responses_usage(u), true, true);
            }
            body.status.clone()
        }
        Inbound::AnthropicMessages => {
            if let Some(u) = usage {
                m.report(&anthropic_usage(Some(u)), has(u, "input_tokens"), has(u, "output_tokens"));
            }
            body.stop_reason.clone()
        }
        // Counting tokens consumes none.
        Inbound::AnthropicCountTokens => {
            m.report(&Usage::default(), true, true);
            None
        }
    };
    if finish.is_some() {
        m.finish_reason = finish;
    }
}

/// One passthrough stream event's data (already known to mention usage or a finish).
pub(super) fn read_event(dialect: Dialect, data: &Value, m: &mut Meter) {
    match dialect {
        Dialect::OpenAiChat | Dialect::OpenAiCompletions => {
            if let Some(u) = data.get("usage").filter(|u| u.is_object()) {
                m.report(&openai_usage(Some(u)), true, true);
            }
            finish(m, data.pointer("/choices/0/finish_reason"));
        }
        Dialect::OpenAiResponses => {
            let terminal = data
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| matches!(t, "response.completed" | "response.incomplete" | "response.failed"));
            if terminal {
                if let Some(u) = data.pointer("/response/usage").filter(|u| u.is_object()) {
                    m.report(&responses_usage(u), true, true);
                }
                finish(m, data.pointer("/response/status"));
            }
        }
        Dialect::AnthropicMessages => match data.get("type").and_then(Value::as_str) {
            // The output count at the start is a placeholder; the final one comes in message_delta.
            Some("message_start") => {
                if let Some(u) = data.pointer("/message/usage").filter(|u| u.is_object()) {
                    m.report(&anthropic_usage(Some(u)), has(u, "input_tokens"), false);
                }
            }
            Some("message_delta") => {
                if let Some(u) = data.get("usage").filter(|u| u.is_object()) {
                    // Newer APIs repeat the (cumulative) input counts here.
                    m.report(&anthropic_usage(Some(u)), has(u, "input_tokens"), has(u, "output_tokens"));
                }
                finish(m, data.pointer("/delta/stop_reason"));
            }
            _ => {}
        },
    }
}
