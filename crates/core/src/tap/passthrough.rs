//! Usage on a passthrough stream, read without parsing every event: each
//! complete `data:` line is searched for the few keys that matter, and only
//! a line that mentions usage or a finish is parsed.
//!
//! When the gateway asked an OpenAI upstream for usage the client did not
//! ask for (`stream_options.include_usage`), the upstream adds a final chunk
//! with empty `choices`, and `"usage":null` to every other chunk. Both are
//! removed here, event by event, so the client's bytes are what they would
//! have been without the request.

use bytes::{Bytes, BytesMut};
use memchr::memmem;
use serde_json::Value;

use super::wire::read_event;
use crate::usage::Meter;
use switchyard_protocol::dialect::Dialect;

/// A line (or, when stripping, an event) longer than this is passed on
/// unread: usage is never that large, and holding it would be unbounded.
const MAX_HELD: usize = 1 << 20;

/// Searchers built once: a `memmem::find` builds its searcher at every call.
struct Finders {
    usage: memmem::Finder<'static>,
    finish_reason: memmem::Finder<'static>,
    stop_reason: memmem::Finder<'static>,
    status: memmem::Finder<'static>,
    content: memmem::Finder<'static>,
    arguments: memmem::Finder<'static>,
    text: memmem::Finder<'static>,
    partial_json: memmem::Finder<'static>,
    thinking: memmem::Finder<'static>,
    delta: memmem::Finder<'static>,
}

static FINDERS: std::sync::LazyLock<Finders> = std::sync::LazyLock::new(|| Finders {
    usage: memmem::Finder::new(b"\"usage\""),
    finish_reason: memmem::Finder::new(b"\"finish_reason\":\""),
    stop_reason: memmem::Finder::new(b"\"stop_reason\""),
    status: memmem::Finder::new(b"\"status\""),
    content: memmem::Finder::new(b"\"content\":\""),
    arguments: memmem::Finder::new(b"\"arguments\":\""),
    text: memmem::Finder::new(b"\"text\":\""),
    partial_json: memmem::Finder::new(b"\"partial_json\":\""),
    thinking: memmem::Finder::new(b"\"thinking\":\""),
    delta: memmem::Finder::new(b"\"delta\":\""),
});

pub(crate) struct PassthroughScan {
    dialect: Dialect,
    /// Strip what the gateway asked for (events are then relayed whole).
    strip: bool,
    /// The unfinished line (scan) or event (strip) of the previous chunk.
    held: BytesMut,
    /// The held line ran past [`MAX_HELD`]: skip to its end.
    skipping: bool,
    /// The upstream ended the stream with its own error event.
    pub error_seen: bool,
}

impl PassthroughScan {
    pub fn new(dialect: Dialect, strip: bool) -> Self {
        Self { dialect, strip, held: BytesMut::new(), skipping: false, error_seen: false }
    }

    pub fn chunk(&mut self, chunk: Bytes, m: &mut Meter) -> Bytes {
        if self.strip {
            return self.strip_chunk(&chunk, m);
        }
        self.scan_lines(&chunk, m);
        chunk
    }

    pub fn flush(&mut self) -> Bytes {
        if self.strip {
            self.held.split().freeze()
        } else {
            Bytes::new()
        }
    }

    /// Observes every complete line; the bytes go on untouched.
    fn scan_lines(&mut self, chunk: &[u8], m: &mut Meter) {
        let mut rest = chunk;
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            let (line, after) = rest.split_at(nl);
            rest = &after[1..];
            if self.skipping {
                self.skipping = false;
                self.held.clear();
            } else if self.held.is_empty() {
                self.line(line, m);
            } else {
                self.held.extend_from_slice(line);
                let whole = self.held.split();
                self.line(&whole, m);
            }
        }
        if !rest.is_empty() && !self.skipping {
            if self.held.len() + rest.len() > MAX_HELD {
                self.held.clear();
                self.skipping = true;
            } else {
                self.held.extend_from_slice(rest);
            }
        }
    }

    fn line(&mut self, line: &[u8], m: &mut Meter) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(data) = line.strip_prefix(b"data:") else { return };
        let data = data.strip_prefix(b" ").unwrap_or(data);
        self.error_seen |= is_error_event(self.dialect, data);
        m.text_bytes += text_bytes(self.dialect, data);
        if mentions_usage_or_finish(self.dialect, data) {
            self.read(data, m);
        }
    }

    /// Relays complete events only, without the ones the gateway asked for.
    fn strip_chunk(&mut self, chunk: &Bytes, m: &mut Meter) -> Bytes {
        let joined;
        let input: &[u8] = if self.held.is_empty() {
            chunk
        } else {
            self.held.extend_from_slice(chunk);
            joined = self.held.split().freeze();
            &joined
        };
        let mut out = BytesMut::with_capacity(input.len());
        let mut at = 0;
        while let Some(end) = event_end(&input[at..]) {
            self.strip_event(&input[at..at + end], &mut out, m);
            at += end;
        }
        let rest = &input[at..];
        if self.held.len() + rest.len() > MAX_HELD {
            // Not an event stream we understand: give up stripping, relay as is.
            self.strip = false;
            out.extend_from_slice(rest);
        } else {
            self.held.extend_from_slice(rest);
        }
        out.freeze()
    }

    fn strip_event(&mut self, event: &[u8], out: &mut BytesMut, m: &mut Meter) {
        let start = out.len();
        for line in event.split_inclusive(|&b| b == b'\n') {
            let body = line.strip_suffix(b"\n").unwrap_or(line);
            let body = body.strip_suffix(b"\r").unwrap_or(body);
            let Some(data) = body.strip_prefix(b"data:") else {
                out.extend_from_slice(line);
                continue;
            };
            let data = data.strip_prefix(b" ").unwrap_or(data);
            self.error_seen |= is_error_event(self.dialect, data);
            m.text_bytes += text_bytes(self.dialect, data);
            // The common case: `"usage":null` on a content chunk, removed without a parse.
            if let Some(rewritten) = without_null_usage(line) {
                if FINDERS.finish_reason.find(data).is_some() {
                    self.read(data, m);
                }
                out.extend_from_slice(&rewritten);
                continue;
            }
            if FINDERS.usage.find(data).is_none() {
                if mentions_usage_or_finish(self.dialect, data) {
                    self.read(data, m);
                }
                out.extend_from_slice(line);
                continue;
            }
            let Ok(v) = serde_json::from_slice::<Value>(data) else {
                out.extend_from_slice(line);
                continue;
            };
            read_event(self.dialect, &v, m);
            let usage_only = v.get("choices").and_then(Value::as_array).is_some_and(Vec::is_empty)
                && v.get("usage").is_some_and(Value::is_object);
            if usage_only {
                // The chunk the client did not ask for: the whole event goes.
                out.truncate(start);
                return;
            }
            out.extend_from_slice(line);
        }
    }

    fn read(&self, data: &[u8], m: &mut Meter) {
        if let Ok(v) = serde_json::from_slice::<Value>(data) {
            read_event(self.dialect, &v, m);
        }
    }
}

/// The end of the first complete event (after its blank line), if any.
fn event_end(buf: &[u8]) -> Option<usize> {
    let mut at = 0;
    let mut line_start = 0;
    while let Some(nl) = memchr::memchr(b'\n', &buf[at..]) {
        let end = at + nl;
        let line = &buf[line_start..end];
        if line.is_empty() || line == b"\r" {
            return Some(end + 1);
        }
        at = end + 1;
        line_start = at;
    }
    None
}

/// The line without its `"usage":null` member, when it has one at the top level.
fn without_null_usage(line: &[u8]) -> Option<Vec<u8>> {
    let key = FINDERS.usage.find(line)?;
    let mut after = key + b"\"usage\"".len();
    while line.get(after).is_some_and(|b| *b == b' ') {
        after += 1;
    }
    if line.get(after) != Some(&b':') {
        return None;
    }
    after += 1;
    while line.get(after).is_some_and(|b| *b == b' ') {
        after += 1;
    }
    if !line[after..].starts_with(b"null") {
        return None;
    }
    after += 4;
    // Take the comma on one side with the member.
    let mut start = key;
    while start > 0 && line[start - 1] == b' ' {
        start -= 1;
    }
    let (from, to) = if start > 0 && line[start - 1] == b',' {
        (start - 1, after)
    } else if start > 0 && line[start - 1] == b'{' {
        let mut to = after;
        while line.get(to).is_some_and(|b| *b == b' ') {
            to += 1;
        }
        if line.get(to) == Some(&b',') {
            to += 1;
            while line.get(to).is_some_and(|b| *b == b' ') {
                to += 1;
            }
        }
        (start, to)
    } else {
        return None;
    };
    let mut out = Vec::with_capacity(line.len());
    out.extend_from_slice(&line[..from]);
    out.extend_from_slice(&line[to..]);
    Some(out)
}

fn is_error_event(dialect: Dialect, data: &[u8]) -> bool {
    match dialect {
        Dialect::OpenAiChat | Dialect::OpenAiCompletions => data.starts_with(b"{\"error\""),
        Dialect::OpenAiResponses => {
            data.starts_with(b"{\"type\":\"response.failed\"") || data.starts_with(b"{\"type\":\"error\"")
        }
        Dialect::AnthropicMessages => data.starts_with(b"{\"type\":\"error\""),
    }
}

fn mentions_usage_or_finish(dialect: Dialect, data: &[u8]) -> bool {
    let f = &*FINDERS;
    match dialect {
        Dialect::OpenAiChat | Dialect::OpenAiCompletions => {
            f.usage.find(data).is_some() || f.finish_reason.find(data).is_some()
        }
        Dialect::OpenAiResponses => {
            data.starts_with(b"{\"type\":\"response.")
                && memmem::find(&data[..data.len().min(48)], b"delta").is_none()
                && (f.usage.find(data).is_some() || f.status.find(data).is_some())
        }
        Dialect::AnthropicMessages => f.usage.find(data).is_some() || f.stop_reason.find(data).is_some(),
    }
}

/// Bytes of generated text in one event, for the output estimate when no usage comes.
fn text_bytes(dialect: Dialect, data: &[u8]) -> usize {
    let f = &*FINDERS;
    let keys: &[&memmem::Finder<'static>] = match dialect {
        Dialect::OpenAiChat | Dialect::OpenAiCompletions => &[&f.content, &f.arguments, &f.text],
        Dialect::OpenAiResponses => &[&f.delta],
        Dialect::AnthropicMessages => &[&f.text, &f.partial_json, &f.thinking],
    };
    keys.iter().map(|k| string_values_len(data, k)).sum()
}

/// Total length of the string values that follow `key` (which ends in the opening quote).
fn string_values_len(data: &[u8], key: &memmem::Finder<'static>) -> usize {
    let mut total = 0;
    for start in key.find_iter(data) {
        let value = &data[start + key.needle().len()..];
        let mut i = 0;
        while i < value.len() {
            match value[i] {
                b'\\' => i += 2,
                b'"' => break,
                _ => i += 1,
            }
        }
        total += i.min(value.len());
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(dialect: Dialect, strip: bool, chunks: &[&str]) -> (String, Meter) {
        let mut s = PassthroughScan::new(dialect, strip);
        let mut m = Meter::default();
        let mut out = Vec::new();
        for c in chunks {
            out.extend_from_slice(&s.chunk(Bytes::copy_from_slice(c.as_bytes()), &mut m));
        }
        out.extend_from_slice(&s.flush());
        (String::from_utf8(out).unwrap(), m)
    }

    const WITH_USAGE: &str = concat!(
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
        "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11,",
        "\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n",
        "data: [DONE]\n\n"
    );
    const WITHOUT_USAGE: &str = concat!(
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n",
        "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: [DONE]\n\n"
    );

    #[test]
    fn the_requested_usage_is_read_and_hidden_at_any_chunk_split() {
        for split in 1..WITH_USAGE.len() {
            let (a, b) = WITH_USAGE.split_at(split);
            let (out, m) = scan(Dialect::OpenAiChat, true, &[a, b]);
            assert_eq!(out, WITHOUT_USAGE, "split at {split}");
            assert_eq!((m.reported.input_tokens, m.reported.cache_read_tokens, m.reported.output_tokens), (5, 4, 2));
            assert!(m.input_reported && m.output_reported);
            assert_eq!(m.finish_reason.as_deref(), Some("stop"));
        }
    }

    #[test]
    fn usage_the_client_asked_for_is_read_and_left_alone() {
        for split in [1, 17, 100, 200, WITH_USAGE.len() - 3] {
            let (a, b) = WITH_USAGE.split_at(split);
            let (out, m) = scan(Dialect::OpenAiChat, false, &[a, b]);
            assert_eq!(out, WITH_USAGE);
            assert_eq!(m.reported.output_tokens, 2);
            assert_eq!(m.text_bytes, 3);
        }
    }

    #[test]
    fn anthropic_usage_comes_from_message_start_and_message_delta() {
        let stream = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":12,\"cache_read_input_tokens\":3,\"output_tokens\":1}}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi there\"}}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":7}}\n\n",
        );
        let (out, m) = scan(Dialect::AnthropicMessages, false, &[stream]);
        assert_eq!(out, stream);
        assert_eq!((m.reported.input_tokens, m.reported.cache_read_tokens, m.reported.output_tokens), (12, 3, 7));
        assert_eq!(m.finish_reason.as_deref(), Some("end_turn"));
        assert_eq!(m.text_bytes, 8);
    }

    #[test]
    fn responses_usage_comes_from_the_terminal_event() {
        let stream = concat!(
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hey\"}\n\n",
            "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",",
            "\"usage\":{\"input_tokens\":10,\"input_tokens_details\":{\"cached_tokens\":6},\"output_tokens\":5,\"output_tokens_details\":{\"reasoning_tokens\":2}}}}\n\n",
        );
        let (_, m) = scan(Dialect::OpenAiResponses, false, &[stream]);
        let u = m.reported;
        assert_eq!((u.input_tokens, u.cache_read_tokens, u.output_tokens, u.reasoning_tokens), (4, 6, 5, 2));
        assert_eq!(m.finish_reason.as_deref(), Some("completed"));
        assert_eq!(m.text_bytes, 3);
    }

    #[test]
    fn null_usage_is_removed_wherever_it_sits() {
        let cut = |s: &str| without_null_usage(s.as_bytes()).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(cut(r#"data: {"a":1,"usage":null}"#).as_deref(), Some(r#"data: {"a":1}"#));
        assert_eq!(cut(r#"data: {"usage": null, "a":1}"#).as_deref(), Some(r#"data: {"a":1}"#));
        assert_eq!(cut(r#"data: {"a":"\"usage\":null"}"#), None, "inside a string");
        assert_eq!(cut(r#"data: {"usage":{"x":1}}"#), None);
    }

    #[test]
    fn an_endless_line_is_passed_on_without_being_held() {
        let big = "x".repeat(MAX_HELD + 10);
        let (out, _) = scan(Dialect::OpenAiChat, true, &["data: ", &big]);
        assert_eq!(out.len(), 6 + big.len());
    }
}
