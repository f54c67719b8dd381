//! Where each dialect reports usage and the finish reason, read from one
//! parsed event or from a body's end. Only the few events that carry usage
//! are parsed, into typed structs (no tree, no JSON-pointer walks).

use memchr::memmem::Finder;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use switchyard_protocol::canonical::Usage;
use switchyard_protocol::dialect::Dialect;

use crate::inbound::Inbound;
use crate::usage::Meter;

/// Every dialect's usage members; each reads the ones it sends.
#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<Details>,
    completion_tokens_details: Option<Details>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    input_tokens_details: Option<Details>,
    output_tokens_details: Option<Details>,
    cache_read_input_tokens: Option<u64>,
    cache_creation_input_tokens: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
struct Details {
    cached_tokens: Option<u64>,
    cache_write_tokens: Option<u64>,
    reasoning_tokens: Option<u64>,
}

#[derive(Clone, Copy)]
enum Shape {
    /// Chat, completions, embeddings: `prompt_tokens` includes the cached ones.
    OpenAi,
    /// Responses: `input_tokens` includes the cached ones.
    Responses,
    /// Messages: `input_tokens` excludes the cache.
    Anthropic,
}

impl WireUsage {
    /// The canonical usage and which halves were reported.
    fn read(&self, shape: Shape) -> (Usage, bool, bool) {
        let n = |v: Option<u64>| v.unwrap_or(0);
        let detail = |d: &Option<Details>, f: fn(&Details) -> Option<u64>| d.as_ref().and_then(f).unwrap_or(0);
        match shape {
            Shape::OpenAi => {
                let cached = detail(&self.prompt_tokens_details, |d| d.cached_tokens);
                let written = detail(&self.prompt_tokens_details, |d| d.cache_write_tokens);
                let usage = Usage {
                    input_tokens: n(self.prompt_tokens).saturating_sub(cached.saturating_add(written)),
                    cache_read_tokens: cached,
                    cache_write_tokens: written,
                    output_tokens: n(self.completion_tokens),
                    reasoning_tokens: detail(&self.completion_tokens_details, |d| d.reasoning_tokens),
                };
                // Embeddings report no completion: their output is reported as none.
                (usage, self.prompt_tokens.is_some(), self.prompt_tokens.is_some())
            }
            Shape::Responses => {
                let cached = detail(&self.input_tokens_details, |d| d.cached_tokens);
                let usage = Usage {
                    input_tokens: n(self.input_tokens).saturating_sub(cached),
                    cache_read_tokens: cached,
                    cache_write_tokens: 0,
                    output_tokens: n(self.output_tokens),
                    reasoning_tokens: detail(&self.output_tokens_details, |d| d.reasoning_tokens),
                };
                (usage, self.input_tokens.is_some(), self.output_tokens.is_some())
            }
            Shape::Anthropic => {
                let usage = Usage {
                    input_tokens: n(self.input_tokens),
                    cache_read_tokens: n(self.cache_read_input_tokens),
                    cache_write_tokens: n(self.cache_creation_input_tokens),
                    output_tokens: n(self.output_tokens),
                    reasoning_tokens: 0,
                };
                (usage, self.input_tokens.is_some(), self.output_tokens.is_some())
            }
        }
    }
}

fn report(m: &mut Meter, usage: Option<WireUsage>, shape: Shape, input_only: bool) {
    if let Some(u) = usage {
        let (usage, has_input, has_output) = u.read(shape);
        m.report(&usage, has_input, has_output && !input_only);
    }
}

fn finish(m: &mut Meter, reason: Option<String>) {
    if reason.is_some() {
        m.finish_reason = reason;
    }
}

/// A member read when it has the expected shape, and ignored otherwise (a
/// `null` usage, a number where a string was expected): one odd member must
/// not cost the event's other members.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    let raw = <&RawValue>::deserialize(d)?;
    Ok(serde_json::from_str(raw.get()).ok())
}

/// The members of a stream event that accounting reads, for every dialect;
/// the rest of the event is skipped, not built.
#[derive(Default, Deserialize)]
#[serde(default)]
struct WireEvent {
    #[serde(rename = "type", deserialize_with = "lenient")]
    kind: Option<String>,
    #[serde(deserialize_with = "lenient")]
    usage: Option<WireUsage>,
    /// Chat and completions: the finish is in the first choice.
    #[serde(deserialize_with = "lenient")]
    choices: Option<Vec<WireChoice>>,
    /// Responses' terminal event.
    #[serde(deserialize_with = "lenient")]
    response: Option<WireTail>,
    /// Anthropic's `message_start`.
    #[serde(deserialize_with = "lenient")]
    message: Option<WireTail>,
    /// Anthropic's `message_delta`.
    #[serde(deserialize_with = "lenient")]
    delta: Option<WireDelta>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct WireChoice {
    #[serde(deserialize_with = "lenient")]
    finish_reason: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct WireTail {
    #[serde(deserialize_with = "lenient")]
    usage: Option<WireUsage>,
    #[serde(deserialize_with = "lenient")]
    status: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct WireDelta {
    #[serde(deserialize_with = "lenient")]
    stop_reason: Option<String>,
}

/// Whether an OpenAI chat event is the usage-only chunk (`choices: []` and a
/// `usage` object) that `stream_options.include_usage` adds.
pub(super) fn is_usage_only_chunk(data: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(default, deserialize_with = "lenient")]
        choices: Option<Vec<IgnoredAny>>,
        #[serde(borrow, default)]
        usage: Option<&'a RawValue>,
    }
    serde_json::from_slice::<Probe>(data)
        .is_ok_and(|p| p.choices.is_some_and(|c| c.is_empty()) && p.usage.is_some_and(|u| u.get().starts_with('{')))
}

/// The members of a non-stream answer that accounting reads.
#[derive(Debug, Default)]
pub(super) struct BodyPeek {
    usage: Option<WireUsage>,
    finish: Option<String>,
}

struct Keys {
    usage: Finder<'static>,
    finish_reason: Finder<'static>,
    status: Finder<'static>,
    stop_reason: Finder<'static>,
}

/// Built once: a searcher costs more to build than to run on a small body.
/// Forward searchers, whose SIMD pass over a whole body is faster than a
/// reverse search (which has none).
static KEYS: std::sync::LazyLock<Keys> = std::sync::LazyLock::new(|| Keys {
    usage: Finder::new(b"\"usage\""),
    finish_reason: Finder::new(b"\"finish_reason\""),
    status: Finder::new(b"\"status\""),
    stop_reason: Finder::new(b"\"stop_reason\""),
});

impl BodyPeek {
    /// Found by searching from the end, where every dialect puts `usage`
    /// and the finish: the body is not parsed (a key inside a string is
    /// escaped, `\"usage\"`, and so never matches).
    pub fn scan(inbound: Inbound, body: &[u8]) -> Self {
        let k = &*KEYS;
        let finish = match inbound {
            Inbound::OpenAiChat | Inbound::OpenAiCompletions => &k.finish_reason,
            Inbound::OpenAiResponses => &k.status,
            Inbound::AnthropicMessages => &k.stop_reason,
            Inbound::OpenAiEmbeddings | Inbound::AnthropicCountTokens => {
                return Self { usage: after_key(body, &k.usage), finish: None };
            }
        };
        Self { usage: after_key(body, &k.usage), finish: after_key(body, finish) }
    }
}

/// The value of the last top-level-looking `key` in `body`.
fn after_key<T: DeserializeOwned>(body: &[u8], key: &Finder<'static>) -> Option<T> {
    let value_at = |at: usize| -> Option<&[u8]> {
        if at > 0 && body[at - 1] == b'\\' {
            return None;
        }
        let mut rest = &body[at + key.needle().len()..];
        while let Some((b' ' | b'\n' | b'\r' | b'\t', r)) = rest.split_first() {
            rest = r;
        }
        match rest.split_first() {
            Some((b':', rest)) => Some(rest),
            _ => None,
        }
    };
    let rest = key.find_iter(body).filter_map(value_at).last()?;
    serde_json::Deserializer::from_slice(rest).into_iter::<T>().next().and_then(Result::ok)
}

/// A non-stream answer's body, by the API that produced it.
pub(super) fn read_body(inbound: Inbound, body: BodyPeek, m: &mut Meter) {
    let shape = match inbound {
        Inbound::OpenAiChat | Inbound::OpenAiCompletions | Inbound::OpenAiEmbeddings => Shape::OpenAi,
        Inbound::OpenAiResponses => Shape::Responses,
        Inbound::AnthropicMessages => Shape::Anthropic,
        // Counting tokens consumes none.
        Inbound::AnthropicCountTokens => {
            m.report(&Usage::default(), true, true);
            return;
        }
    };
    report(m, body.usage, shape, false);
    if body.finish.is_some() {
        m.finish_reason = body.finish;
    }
}

/// One passthrough stream event's data (already known to mention usage or a
/// finish), parsed into the few members read.
pub(super) fn read_event(dialect: Dialect, data: &[u8], m: &mut Meter) {
    let Ok(event) = serde_json::from_slice::<WireEvent>(data) else { return };
    match dialect {
        Dialect::OpenAiChat | Dialect::OpenAiCompletions => {
            report(m, event.usage, Shape::OpenAi, false);
            finish(m, event.choices.and_then(|c| c.into_iter().next()).and_then(|c| c.finish_reason));
        }
        Dialect::OpenAiResponses => {
            let terminal = event
                .kind
                .as_deref()
                .is_some_and(|t| matches!(t, "response.completed" | "response.incomplete" | "response.failed"));
            if let (true, Some(response)) = (terminal, event.response) {
                report(m, response.usage, Shape::Responses, false);
                finish(m, response.status);
            }
        }
        Dialect::AnthropicMessages => match event.kind.as_deref() {
            // The output count at the start is a placeholder; the final one comes in message_delta.
            Some("message_start") => report(m, event.message.and_then(|x| x.usage), Shape::Anthropic, true),
            Some("message_delta") => {
                // Newer APIs repeat the (cumulative) input counts here.
                report(m, event.usage, Shape::Anthropic, false);
                finish(m, event.delta.and_then(|d| d.stop_reason));
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
        read_body(Inbound::OpenAiChat, BodyPeek::scan(Inbound::OpenAiChat, chat), &mut m);
        assert_eq!((m.reported.input_tokens, m.reported.cache_read_tokens, m.reported.output_tokens), (10, 2, 3));
        assert_eq!(m.finish_reason.as_deref(), Some("length"));
        let anthropic = br#"{"content":[{"type":"text","text":"hi"}],"stop_reason":"tool_use","usage":{"input_tokens":5,"output_tokens":7}}"#;
        let mut m = Meter::default();
        read_body(Inbound::AnthropicMessages, BodyPeek::scan(Inbound::AnthropicMessages, anthropic), &mut m);
        assert_eq!((m.reported.input_tokens, m.reported.output_tokens), (5, 7));
        assert_eq!(m.finish_reason.as_deref(), Some("tool_use"));
        let mut m = Meter::default();
        read_body(Inbound::OpenAiChat, BodyPeek::scan(Inbound::OpenAiChat, b"{\"id\":\"x\"}"), &mut m);
        assert!(!m.input_reported && !m.output_reported, "no usage: left to the estimate");
    }
}
