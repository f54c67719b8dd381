//! Upstream event streams: SSE framing (parser, terminal-marker scanner,
//! boundary tracker) and the two stream decoders, whose canonical events are
//! then encoded into every client dialect.

use switchyard_protocol::anthropic::stream::AnthropicDecoder;
use switchyard_protocol::canonical::{Accumulator, StreamDecoder, StreamEvent};
use switchyard_protocol::dialect::Dialect;
use switchyard_protocol::openai::chat::stream::ChatDecoder;
use switchyard_protocol::openai::chat::ToolNames;
use switchyard_protocol::sse::{BoundaryTracker, SseEvent, SseParser, TerminalScanner};

use crate::requests::translations;

/// Chunk boundaries derived from the input itself, so that the fuzzer
/// explores splits together with contents: whole, halves, a few bytes at a
/// time, and byte by byte.
fn splits(data: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut out = vec![vec![data]];
    let mid = data.len() / 2;
    out.push(vec![&data[..mid], &data[mid..]]);
    let pick = usize::from(data.first().copied().unwrap_or(0));
    if data.len() <= 256 {
        out.push(data.chunks(1 + pick % 7).collect());
        out.push(data.chunks(1).collect());
    } else {
        // Long streams in small pieces cost more than they find (a libFuzzer
        // run does ~20x fewer execs when every input is also fed byte by byte).
        out.push(data.chunks(8 + pick % 57).collect());
    }
    out
}

fn parse_chunks(chunks: &[&[u8]]) -> (Vec<SseEvent>, bool) {
    let mut parser = SseParser::new();
    let events = chunks.iter().flat_map(|c| parser.push(c)).collect();
    (events, parser.has_partial_event())
}

/// SSE framing must not depend on where the bytes were split.
pub fn sse(data: &[u8]) {
    let all = splits(data);
    let whole = parse_chunks(&all[0]);
    // The descriptor's terminal markers, which the passthrough relay scans for.
    for markers in Dialect::ALL.map(Dialect::terminal_markers) {
        let whole_done = TerminalScanner::new(markers).push(data);
        for chunks in &all {
            let mut scanner = TerminalScanner::new(markers);
            let mut done = false;
            for c in chunks {
                done |= scanner.push(c);
            }
            assert_eq!(done, whole_done, "TerminalScanner depends on chunking ({} chunks)", chunks.len());
        }
    }
    let mut whole_tracker = BoundaryTracker::default();
    whole_tracker.observe(data);
    for chunks in &all[1..] {
        assert_eq!(parse_chunks(chunks), whole, "SseParser depends on chunking ({} chunks)", chunks.len());
        let mut tracker = BoundaryTracker::default();
        for c in chunks {
            tracker.observe(c);
        }
        assert_eq!(tracker.separator(), whole_tracker.separator(), "BoundaryTracker depends on chunking");
    }
    for e in &whole.0 {
        let mut again = SseParser::new();
        let _ = again.push(&e.encode());
    }
}

/// Feeds a whole upstream stream through `decoder`, then on to every client
/// dialect's encoder and the accumulator (the non-streaming fallback).
fn decode(mut decoder: Box<dyn StreamDecoder>, data: &[u8]) {
    let mut parser = SseParser::new();
    let mid = data.len() / 2;
    let mut events: Vec<StreamEvent> = Vec::new();
    for chunk in [&data[..mid], &data[mid..]] {
        for e in parser.push(chunk) {
            events.extend(decoder.event(e.event.as_deref(), &e.data));
        }
    }
    let _ = decoder.is_complete();
    events.extend(decoder.end());
    let mut acc = Accumulator::default();
    for e in &events {
        acc.push(e);
    }
    let _ = acc.response();
    for t in translations() {
        let mut encoder = t.encoder();
        for e in &events {
            let _ = encoder.encode(e);
        }
    }
}

/// OpenAI chat-completions chunks (`data: {…}` … `data: [DONE]`).
pub fn chat_stream(data: &[u8]) {
    decode(Box::new(ChatDecoder::new(ToolNames::default())), data);
    let mut names = ToolNames::default();
    let _ = names.to_openai("mcp__server__a.tool/with odd chars that is also rather long, past sixty-four");
    decode(Box::new(ChatDecoder::new(names)), data);
}

/// Anthropic Messages events (`message_start` … `message_stop`).
pub fn anthropic_stream(data: &[u8]) {
    decode(Box::new(AnthropicDecoder::new()), data);
}
