//! Server-sent events framing (WHATWG `text/event-stream`), incremental and
//! chunk-boundary safe: bytes may arrive split anywhere, even inside a `\r\n`.

use bytes::{Bytes, BytesMut};

/// One dispatched event. `data` joins multiple `data:` lines with `\n`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
    pub id: Option<String>,
}

impl SseEvent {
    pub fn data(data: impl Into<String>) -> Self {
        Self { event: None, data: data.into(), id: None }
    }

    pub fn named(event: impl Into<String>, data: impl Into<String>) -> Self {
        Self { event: Some(event.into()), data: data.into(), id: None }
    }

    /// Encodes the event in wire form, ending with the blank line that dispatches it.
    pub fn encode(&self) -> Bytes {
        let mut out = String::with_capacity(self.data.len() + 32);
        if let Some(event) = &self.event {
            out.push_str("event: ");
            out.push_str(event);
            out.push('\n');
        }
        if let Some(id) = &self.id {
            out.push_str("id: ");
            out.push_str(id);
            out.push('\n');
        }
        for line in self.data.split('\n') {
            out.push_str("data: ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
        Bytes::from(out)
    }
}

/// Incremental parser. Feed it byte chunks; it returns the events completed so far.
#[derive(Debug)]
pub struct SseParser {
    /// Most bytes one event (its unterminated line and data) may hold.
    max_event: usize,
    /// An event passed `max_event`: the parser holds nothing more and yields nothing.
    overflowed: bool,
    /// Bytes of the current, not yet terminated line.
    line: BytesMut,
    /// The previous chunk ended in `\r`; a leading `\n` in the next one belongs to it.
    pending_cr: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::with_limit(usize::MAX)
    }
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser that gives up on an event (or line) larger than `max_event`
    /// bytes instead of buffering it whole.
    pub fn with_limit(max_event: usize) -> Self {
        Self {
            max_event,
            overflowed: false,
            line: BytesMut::new(),
            pending_cr: false,
            event: None,
            data: String::new(),
            has_data: false,
            id: None,
        }
    }

    pub fn max_event(&self) -> usize {
        self.max_event
    }

    /// Whether an event passed the limit; nothing is parsed after that.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Feeds a chunk and returns every event it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        if self.overflowed {
            return events;
        }
        let mut rest = chunk;
        if self.pending_cr && !rest.is_empty() {
            self.pending_cr = false;
            if let Some(b'\n') = rest.first() {
                rest = &rest[1..];
            }
        }
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', rest) {
            self.line.extend_from_slice(&rest[..pos]);
            if rest[pos] == b'\r' {
                match rest.get(pos + 1) {
                    Some(b'\n') => rest = &rest[pos + 2..],
                    Some(_) => rest = &rest[pos + 1..],
                    None => {
                        self.pending_cr = true;
                        rest = &[];
                    }
                }
            } else {
                rest = &rest[pos + 1..];
            }
            let line = self.line.split().freeze();
            if let Some(event) = self.process_line(&line) {
                events.push(event);
            }
            if self.data.len() > self.max_event {
                self.overflow();
                return events;
            }
        }
        if self.line.len() + rest.len() + self.data.len() > self.max_event {
            self.overflow();
            return events;
        }
        self.line.extend_from_slice(rest);
        events
    }

    fn overflow(&mut self) {
        self.overflowed = true;
        self.line = BytesMut::new();
        self.data = String::new();
        self.has_data = false;
    }

    /// Bytes held that do not yet form a complete event (an unterminated line or
    /// fields awaiting their blank line). Non-zero at end of stream means truncation.
    pub fn has_partial_event(&self) -> bool {
        !self.line.is_empty() || self.has_data || self.event.is_some()
    }

    fn process_line(&mut self, line: &[u8]) -> Option<SseEvent> {
        if line.is_empty() {
            if !self.has_data {
                self.event = None;
                return None;
            }
            self.has_data = false;
            return Some(SseEvent {
                event: self.event.take(),
                data: std::mem::take(&mut self.data),
                id: self.id.clone(),
            });
        }
        if line[0] == b':' {
            return None;
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(i) => {
                let value = &line[i + 1..];
                let value = value.strip_prefix(b" ").unwrap_or(value);
                (&line[..i], value)
            }
            None => (line, &b""[..]),
        };
        let value = String::from_utf8_lossy(value);
        match field {
            b"event" => self.event = Some(value.into_owned()),
            b"data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"id" if !value.contains('\0') => self.id = Some(value.into_owned()),
            _ => {}
        }
        None
    }
}

/// Tracks whether a relayed byte stream currently ends on an event boundary, so
/// that an in-band error can be appended without corrupting a half-sent event.
#[derive(Debug, Default, Clone, Copy)]
pub struct BoundaryTracker {
    /// Number of consecutive line terminators at the end of the stream (0, 1, 2+).
    trailing_newlines: u8,
    last_was_cr: bool,
    seen_any: bool,
}

impl BoundaryTracker {
    pub fn observe(&mut self, chunk: &[u8]) {
        for &b in chunk {
            self.seen_any = true;
            match b {
                b'\n' if self.last_was_cr => self.last_was_cr = false,
                b'\n' | b'\r' => {
                    self.trailing_newlines = self.trailing_newlines.saturating_add(1);
                    self.last_was_cr = b == b'\r';
                }
                _ => {
                    self.trailing_newlines = 0;
                    self.last_was_cr = false;
                }
            }
        }
    }

    /// The bytes to write before a new event so that it starts on a fresh event.
    pub fn separator(&self) -> &'static [u8] {
        if !self.seen_any {
            return b"";
        }
        match self.trailing_newlines {
            0 => b"\n\n",
            1 => b"\n",
            _ => b"",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        chunks.iter().flat_map(|c| p.push(c)).collect()
    }

    #[test]
    fn parses_data_only_and_named_events() {
        let events = parse_all(&[b"data: {\"a\":1}\n\nevent: ping\ndata: {}\n\n"]);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0], SseEvent::data("{\"a\":1}"));
        assert_eq!(events[1], SseEvent::named("ping", "{}"));
    }

    #[test]
    fn same_events_for_every_split_point_and_line_ending() {
        let inputs: [&[u8]; 3] = [
            b"event: a\ndata: x\ndata: y\n\n: comment\ndata: [DONE]\n\n",
            b"event: a\r\ndata: x\r\ndata: y\r\n\r\n: comment\r\ndata: [DONE]\r\n\r\n",
            b"event: a\rdata: x\rdata: y\r\r: comment\rdata: [DONE]\r\r",
        ];
        let expected = vec![SseEvent::named("a", "x\ny"), SseEvent::data("[DONE]")];
        for input in inputs {
            for i in 0..=input.len() {
                for j in i..=input.len() {
                    let got = parse_all(&[&input[..i], &input[i..j], &input[j..]]);
                    assert_eq!(got, expected, "split at {i},{j} of {:?}", String::from_utf8_lossy(input));
                }
            }
        }
    }

    #[test]
    fn field_without_space_and_without_colon() {
        let events = parse_all(&[b"data:x\ndata\n\n"]);
        assert_eq!(events, vec![SseEvent::data("x\n")]);
    }

    #[test]
    fn an_event_past_the_limit_stops_the_parser_without_buffering_it() {
        let mut p = SseParser::with_limit(64);
        assert_eq!(p.push(b"data: small\n\n").len(), 1);
        let big = vec![b'x'; 100];
        assert!(p.push(b"data: ").is_empty() && !p.overflowed());
        assert!(p.push(&big).is_empty());
        assert!(p.overflowed() && !p.has_partial_event());
        assert!(p.push(b"\n\ndata: later\n\n").is_empty(), "nothing after the overflow");
        // Many lines of one event count together.
        let mut p = SseParser::with_limit(64);
        let lines: Vec<u8> = (0..10).flat_map(|_| b"data: 0123456789\n".to_vec()).collect();
        assert!(p.push(&lines).is_empty() && p.overflowed());
    }

    #[test]
    fn partial_event_is_reported() {
        let mut p = SseParser::new();
        assert!(p.push(b"data: {\"half").is_empty());
        assert!(p.has_partial_event());
        let mut p = SseParser::new();
        p.push(b"data: 1\n\n");
        assert!(!p.has_partial_event());
    }

    #[test]
    fn encode_round_trips() {
        let e = SseEvent::named("message_start", "{\"x\":\"a\nb\"}");
        let got = parse_all(&[&e.encode()]);
        assert_eq!(got, vec![e]);
    }

    #[test]
    fn boundary_tracker_separators() {
        let mut t = BoundaryTracker::default();
        assert_eq!(t.separator(), b"");
        t.observe(b"data: {\"a\"");
        assert_eq!(t.separator(), b"\n\n");
        t.observe(b"}\n");
        assert_eq!(t.separator(), b"\n");
        t.observe(b"\r\n");
        assert_eq!(t.separator(), b"");
    }
}

/// Finds a stream's terminal event without parsing every event: looks for
/// line-start markers (e.g. `data: [DONE]`) across chunk boundaries. A marker
/// only counts at the start of a line, and JSON payloads cannot contain a raw
/// newline, so text inside a payload never matches.
#[derive(Debug, Clone)]
pub struct TerminalScanner {
    /// Built once: building a searcher per chunk showed in profiles.
    finders: Vec<memchr::memmem::Finder<'static>>,
    /// The last bytes of the stream so far (a marker split across chunks),
    /// preceded by `\n` at the start of the stream.
    tail: [u8; TAIL],
    tail_len: usize,
}

/// Longest marker + the newline before it.
const TAIL: usize = 64;

impl TerminalScanner {
    /// `markers` are line prefixes, without the leading newline (at most 63 bytes).
    pub fn new(markers: &'static [&'static [u8]]) -> Self {
        let mut tail = [0u8; TAIL];
        tail[0] = b'\n';
        let finders = markers.iter().map(|m| memchr::memmem::Finder::new(*m)).collect();
        Self { finders, tail, tail_len: 1 }
    }

    /// Feeds a chunk; true once a terminal marker has been seen at a line start.
    /// Allocation-free: the chunk is searched in place, and only a marker that
    /// straddles the previous chunk is checked in a small stack window.
    pub fn push(&mut self, chunk: &[u8]) -> bool {
        let in_chunk = self.finders.iter().any(|f| {
            f.find_iter(chunk).any(|pos| {
                let before = if pos == 0 { self.tail[..self.tail_len].last().copied() } else { Some(chunk[pos - 1]) };
                matches!(before, Some(b'\n' | b'\r'))
            })
        });
        if in_chunk {
            return true;
        }
        // Markers split between the previous chunk's end and this chunk's start.
        let mut window = [0u8; 2 * TAIL];
        let head = chunk.len().min(TAIL);
        window[..self.tail_len].copy_from_slice(&self.tail[..self.tail_len]);
        window[self.tail_len..self.tail_len + head].copy_from_slice(&chunk[..head]);
        let window = &window[..self.tail_len + head];
        let split = self.finders.iter().any(|f| {
            f.find_iter(window).any(|pos| {
                pos > 0
                    && pos < self.tail_len
                    && pos + f.needle().len() > self.tail_len
                    && matches!(window[pos - 1], b'\n' | b'\r')
            })
        });
        // Keep the stream's last bytes for the next chunk.
        if chunk.len() >= TAIL {
            self.tail.copy_from_slice(&chunk[chunk.len() - TAIL..]);
            self.tail_len = TAIL;
        } else {
            let keep = (self.tail_len + chunk.len()).min(TAIL);
            let from_old = keep - chunk.len();
            self.tail.copy_within(self.tail_len - from_old..self.tail_len, 0);
            self.tail[from_old..keep].copy_from_slice(chunk);
            self.tail_len = keep;
        }
        split
    }
}

#[cfg(test)]
mod scanner_tests {
    use super::TerminalScanner;

    const CHAT: &[&[u8]] = &[b"data: [DONE]", b"data: {\"error\""];

    #[test]
    fn finds_markers_split_anywhere_but_only_at_line_starts() {
        let stream: &[u8] = b"data: {\"c\":\"say data: [DONE] now\"}\n\ndata: [DONE]\n\n";
        for cut in 0..=stream.len() {
            let mut s = TerminalScanner::new(CHAT);
            let a = s.push(&stream[..cut]);
            let b = s.push(&stream[cut..]);
            assert!(a || b, "cut at {cut}");
        }
        let mut s = TerminalScanner::new(CHAT);
        assert!(!s.push(b"data: {\"c\":\"say data: [DONE] now\"}\n\n"), "inside a payload it does not count");
        assert!(TerminalScanner::new(CHAT).push(b"data: [DONE]\n\n"), "at the very start it counts");
        assert!(TerminalScanner::new(CHAT).push(b"x\r\ndata: {\"error\":{}}\r\n\r\n"));
    }
}
