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

/// The members of a non-stream answer that accounting reads.
#[derive(Debug, Default)]
pub(super) struct BodyPeek {
    usage: Option<Value>,
    finish_reason: Option<String>,
    status: Option<String>,
    stop_reason: Option<String>,
}

impl BodyPeek {
    /// Found by searching from the end, where every dialect puts `usage`
    /// and the finish: the body is not parsed (a key inside a string is
    /// escaped, `\"usage\"`, and so never matches).
    pub fn scan(body: &[u8]) -> Self {
        Self {
            usage: value_after_key(body, b"\"usage\""),
            finish_reason: string_after_key(body, b"\"finish_reason\""),
            status: string_after_key(body, b"\"status\""),
            stop_reason: string_after_key(body, b"\"stop_reason\""),
        }
    }
}

/// The JSON value of the last top-level-looking `key` in `body`.
fn value_after_key(body: &[u8], key: &[u8]) -> Option<Value> {
    let mut end = body.len();
    while let Some(at) = memchr::memmem::rfind(&body[..end], key) {
        end = at;
        if at > 0 && body[at - 1] == b'\\' {
            continue;
        }
        let mut rest = &body[at + key.len()..];
        while let Some((b' ' | b'\n' | b'\r' | b'\t', r)) = rest.split_first() {
            rest = r;
        }
        let Some((b':', rest)) = rest.split_first() else { continue };
        return serde_json::Deserializer::from_slice(rest).into_iter::<Value>().next().and_then(Result::ok);
    }
    None
}

fn string_after_key(body: &[u8], key: &[u8]) -> Option<String> {
    match value_after_key(body, key)? {
        Value::String(s) => Some(s),
        _ => None,
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
            body.finish_reason.clone()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_read_from_its_end_without_being_fooled_by_its_text() {
        let chat =
            br#"{"choices":[{"message":{"content":"say \"usage\": {\"prompt_tokens\": 99}"},"finish_reason":"length"}],
            "usage" : {"prompt_tokens": 12, "completion_tokens": 3, "prompt_tokens_details": {"cached_tokens": 2}}}"#;
        let mut m = Meter::default();
        read_body(Inbound::OpenAiChat, &BodyPeek::scan(chat), &mut m);
        assert_eq!((m.reported.input_tokens, m.reported.cache_read_tokens, m.reported.output_tokens), (10, 2, 3));
        assert_eq!(m.finish_reason.as_deref(), Some("length"));
        let anthropic = br#"{"content":[{"type":"text","text":"hi"}],"stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":7}}"#;
        let mut m = Meter::default();
        read_body(Inbound::AnthropicMessages, &BodyPeek::scan(anthropic), &mut m);
        assert_eq!((m.reported.input_tokens, m.reported.output_tokens), (5, 7));
        assert_eq!(m.finish_reason.as_deref(), Some("tool_use"));
        let mut m = Meter::default();
        read_body(Inbound::OpenAiChat, &BodyPeek::scan(b"{\"id\":\"x\"}"), &mut m);
        assert!(!m.input_reported && !m.output_reported, "no usage: left to the estimate");
    }
}
