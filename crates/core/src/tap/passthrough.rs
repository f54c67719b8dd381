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
use switchyard_protocol::dialect::Dialect;

use super::wire::{is_usage_only_chunk, read_event};
use crate::usage::Meter;

/// A line (or, when stripping, an event) longer than this is passed on
/// unread: usage is never that large, and holding it would be unbounded.
const MAX_HELD: usize = 1 << 20;

/// Searchers built once: a `memmem::find` builds its searcher at every call.
struct Finders {
    usage: memmem::Finder<'static>,
    finish_reason: memmem::Finder<'static>,
    stop_reason: memmem::Finder<'static>,
    content: memmem::Finder<'static>,
    arguments: memmem::Finder<'static>,
    text: memmem::Finder<'static>,
    partial_json: memmem::Finder<'static>,
    thinking: memmem::Finder<'static>,
    delta: memmem::Finder<'static>,
    response_type: memmem::Finder<'static>,
}

static FINDERS: std::sync::LazyLock<Finders> = std::sync::LazyLock::new(|| Finders {
    usage: memmem::Finder::new(b"\"usage\""),
    finish_reason: memmem::Finder::new(b"\"finish_reason\":\""),
    stop_reason: memmem::Finder::new(b"\"stop_reason\""),
    content: memmem::Finder::new(b"\"content\":\""),
    arguments: memmem::Finder::new(b"\"arguments\":\""),
    text: memmem::Finder::new(b"\"text\":\""),
    partial_json: memmem::Finder::new(b"\"partial_json\":\""),
    thinking: memmem::Finder::new(b"\"thinking\":\""),
    delta: memmem::Finder::new(b"\"delta\":\""),
    response_type: memmem::Finder::new(b"{\"type\":\"response."),
});

pub(crate) struct PassthroughScan {
    dialect: Dialect,
    /// Strip what the gateway asked for (events are then relayed whole).
    strip: bool,
    /// The unfinished line (scan) or event (strip) of the previous chunk.
    held: BytesMut,
    /// The upstream ended the stream with its own error event.
    pub error_seen: bool,
}

impl PassthroughScan {
    pub fn new(dialect: Dialect, strip: bool) -> Self {
        Self { dialect, strip, held: BytesMut::new(), error_seen: false }
    }

    /// Observes the chunk's complete lines (or, when stripping, relays its
    /// complete events without the requested usage). Searches run over the
    /// whole region, not line by line: a stream has many small events.
    pub fn chunk(&mut self, chunk: Bytes, m: &mut Meter) -> Bytes {
        let joined;
        let fresh = self.held.is_empty();
        let region: &[u8] = if fresh {
            &chunk
        } else {
            self.held.extend_from_slice(&chunk);
            joined = self.held.split().freeze();
            &joined
        };
        let complete = if self.strip { last_event_end(region) } else { memchr::memrchr(b'\n', region).map(|i| i + 1) };
        let complete = complete.unwrap_or(0);
        let (whole, rest) = region.split_at(complete);
        // One search tells both the strip and the reading whether there is usage to look at.
        let has_usage = FINDERS.usage.find(whole).is_some();
        let edited = (self.strip && has_usage).then(|| self.strip_region(whole));
        let out = match (self.strip, edited) {
            (false, _) => Bytes::new(),
            (true, Some(edited)) => edited,
            // Nothing to hide: the chunk's own bytes, not a copy.
            (true, None) if fresh => chunk.slice(..complete),
            (true, None) => Bytes::copy_from_slice(whole),
        };
        self.observe(whole, has_usage, m);
        if self.held.len() + rest.len() > MAX_HELD {
            // A line or event this long is not usage: passed on unread.
            self.held.clear();
            if self.strip {
                self.strip = false;
                let mut all = BytesMut::from(&out[..]);
                all.extend_from_slice(rest);
                return all.freeze();
            }
        } else {
            self.held.extend_from_slice(rest);
        }
        if self.strip {
            out
        } else {
            chunk
        }
    }

    pub fn flush(&mut self) -> Bytes {
        if self.strip {
            self.held.split().freeze()
        } else {
            Bytes::new()
        }
    }

    /// Usage, finish, errors and text length in complete lines.
    fn observe(&mut self, region: &[u8], has_usage: bool, m: &mut Meter) {
        if region.is_empty() {
            return;
        }
        let f = &*FINDERS;
        m.text_bytes += text_bytes(self.dialect, region);
        let mut last_line = usize::MAX;
        if has_usage {
            for key in f.usage.find_iter(region) {
                if !is_null_after(region, key + f.usage.needle().len()) {
                    self.read_line(region, key, &mut last_line, m);
                }
            }
        }
        match self.dialect {
            Dialect::OpenAiChat | Dialect::OpenAiCompletions => {
                for at in f.finish_reason.find_iter(region) {
                    self.read_line(region, at, &mut last_line, m);
                }
            }
            Dialect::AnthropicMessages => {
                for at in f.stop_reason.find_iter(region) {
                    self.read_line(region, at, &mut last_line, m);
                }
            }
            // The terminal event carries the status (and the usage, read above).
            Dialect::OpenAiResponses => {
                for at in f.response_type.find_iter(region) {
                    let kind = &region[at + f.response_type.needle().len()..];
                    if [&b"completed\""[..], b"incomplete\"", b"failed\""].iter().any(|k| kind.starts_with(k)) {
                        self.read_line(region, at, &mut last_line, m);
                    }
                }
            }
        }
        // An upstream's error event is its stream's last: only the last data line is looked at.
        if let Some(data) = last_data_line(region) {
            self.error_seen = is_error_event(self.dialect, data);
        }
    }

    /// Parses the `data:` line holding `at`, once per line.
    fn read_line(&self, region: &[u8], at: usize, last_line: &mut usize, m: &mut Meter) {
        let (start, end) = line_around(region, at);
        if start == *last_line {
            return;
        }
        *last_line = start;
        if let Some(data) = data_of(&region[start..end]) {
            read_event(self.dialect, data, m);
        }
    }

    /// Complete events without the requested usage: `"usage":null` members
    /// removed, the usage-only chunk dropped. Unchanged bytes are not copied
    /// twice.
    /// Called only when stripping and the region mentions usage.
    fn strip_region(&self, region: &[u8]) -> Bytes {
        let f = &*FINDERS;
        let mut out = BytesMut::with_capacity(region.len());
        let mut copied = 0;
        let mut skip_to = 0;
        for key in f.usage.find_iter(region) {
            if key < skip_to {
                continue;
            }
            let (line_start, line_end) = line_around(region, key);
            if is_null_after(region, key + f.usage.needle().len()) {
                if let Some(rewritten) = without_null_usage(&region[line_start..line_end]) {
                    out.extend_from_slice(&region[copied..line_start]);
                    out.extend_from_slice(&rewritten);
                    copied = line_end;
                }
                continue;
            }
            let usage_only = data_of(&region[line_start..line_end]).is_some_and(is_usage_only_chunk);
            if usage_only {
                // The chunk the client did not ask for: its whole event goes.
                let (event_start, event_end) = event_around(region, line_start);
                out.extend_from_slice(&region[copied..event_start.max(copied)]);
                copied = event_end;
                skip_to = event_end;
            }
        }
        out.extend_from_slice(&region[copied.min(region.len())..]);
        out.freeze()
    }
}

/// Whether `null` follows (after `:` and spaces) at `at`.
fn is_null_after(region: &[u8], mut at: usize) -> bool {
    while region.get(at).is_some_and(|b| *b == b' ') {
        at += 1;
    }
    if region.get(at) != Some(&b':') {
        return false;
    }
    at += 1;
    while region.get(at).is_some_and(|b| *b == b' ') {
        at += 1;
    }
    region[at.min(region.len())..].starts_with(b"null")
}

/// The line holding `at`: from after the previous newline to after its own.
fn line_around(region: &[u8], at: usize) -> (usize, usize) {
    let start = memchr::memrchr(b'\n', &region[..at]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &region[at..]).map_or(region.len(), |i| at + i + 1);
    (start, end)
}

/// The event holding the line at `line_start`: from after the blank line
/// before it to after the blank line that ends it.
fn event_around(region: &[u8], line_start: usize) -> (usize, usize) {
    let before = &region[..line_start];
    let lf = memchr::memmem::rfind(before, b"\n\n").map(|i| i + 2);
    let crlf = memchr::memmem::rfind(before, b"\n\r\n").map(|i| i + 3);
    let start = lf.max(crlf).unwrap_or(0);
    let end = event_end(&region[line_start..]).map_or(region.len(), |e| line_start + e);
    (start, end)
}

/// The payload of the last `data:` line of complete lines.
fn last_data_line(region: &[u8]) -> Option<&[u8]> {
    let mut end = region.len();
    while end > 0 {
        let start = memchr::memrchr(b'\n', &region[..end - 1]).map_or(0, |i| i + 1);
        if let Some(data) = data_of(&region[start..end]) {
            return Some(data);
        }
        end = start;
    }
    None
}

/// The payload of a `data:` line.
fn data_of(line: &[u8]) -> Option<&[u8]> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let data = line.strip_prefix(b"data:")?;
    Some(data.strip_prefix(b" ").unwrap_or(data))
}

/// The end of the last complete event (after its blank line), if any.
fn last_event_end(buf: &[u8]) -> Option<usize> {
    // From the end, the first newline that follows an empty line (`\n\n` or `\n\r\n`).
    memchr::memrchr_iter(b'\n', buf).find_map(|i| {
        match (i.checked_sub(1).map(|j| buf[j]), i.checked_sub(2).map(|j| buf[j])) {
            (Some(b'\n'), _) | (Some(b'\r'), Some(b'\n')) => Some(i + 1),
            _ => None,
        }
    })
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

/// Bytes of generated text in one event, for the output estimate when no usage comes.
fn text_bytes(dialect: Dialect, data: &[u8]) -> usize {
    let f = &*FINDERS;
    let keys: &[&memmem::Finder<'static>] = match dialect {
        Dialect::OpenAiChat => &[&f.content, &f.arguments],
        Dialect::OpenAiCompletions => &[&f.text],
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
    fn crlf_streams_are_stripped_too() {
        let crlf = WITH_USAGE.replace("\n\n", "\r\n\r\n");
        for split in [1, 50, 150, crlf.len() - 20] {
            let (a, b) = crlf.split_at(split);
            let (out, m) = scan(Dialect::OpenAiChat, true, &[a, b]);
            assert_eq!(out, WITHOUT_USAGE.replace("\n\n", "\r\n\r\n"), "split at {split}");
            assert_eq!(m.reported.output_tokens, 2);
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
