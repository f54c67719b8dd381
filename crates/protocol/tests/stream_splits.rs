//! Property: however the upstream's bytes are cut into chunks, the decoded
//! canonical events (and the client stream) are the same.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use switchyard_protocol::anthropic::stream::AnthropicDecoder;
use switchyard_protocol::canonical::{StreamDecoder, StreamEvent};
use switchyard_protocol::openai::chat::stream::ChatDecoder;
use switchyard_protocol::openai::chat::ToolNames;
use switchyard_protocol::sse::SseParser;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/upstream/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn decode(bytes: &[u8], cuts: &[usize], mut decoder: Box<dyn StreamDecoder>) -> Vec<StreamEvent> {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    let mut start = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    points.push(bytes.len());
    for p in points {
        for e in parser.push(&bytes[start..p]) {
            events.extend(decoder.event(e.event.as_deref(), &e.data));
        }
        start = p;
    }
    events.extend(decoder.end());
    events
}

/// The same stream with CRLF line endings, as some servers send.
fn crlf(bytes: &[u8]) -> Vec<u8> {
    String::from_utf8(bytes.to_vec()).unwrap().replace('\n', "\r\n").into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn anthropic_stream_decodes_the_same_at_any_split(cuts in proptest::collection::vec(0usize..10_000, 0..40), use_crlf in any::<bool>()) {
        let mut bytes = fixture("anthropic-stream.sse");
        if use_crlf { bytes = crlf(&bytes); }
        let whole = decode(&bytes, &[], Box::new(AnthropicDecoder::new()));
        let split = decode(&bytes, &cuts, Box::new(AnthropicDecoder::new()));
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(whole.last(), Some(&StreamEvent::MessageStop));
    }

    #[test]
    fn chat_stream_decodes_the_same_at_any_split(cuts in proptest::collection::vec(0usize..10_000, 0..40), use_crlf in any::<bool>()) {
        let mut bytes = fixture("chat-stream.sse");
        if use_crlf { bytes = crlf(&bytes); }
        let whole = decode(&bytes, &[], Box::new(ChatDecoder::new(ToolNames::default())));
        let split = decode(&bytes, &cuts, Box::new(ChatDecoder::new(ToolNames::default())));
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(whole.last(), Some(&StreamEvent::MessageStop));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The passthrough relay's terminal detection gives the same answer however the stream is cut.
    #[test]
    fn terminal_scanner_is_split_independent(cuts in proptest::collection::vec(0usize..10_000, 0..30), complete in any::<bool>()) {
        use switchyard_protocol::sse::TerminalScanner;
        const MARKERS: &[&[u8]] = &[b"data: [DONE]", b"event: message_stop"];
        let mut bytes = fixture("chat-stream.sse");
        if !complete {
            let end = bytes.len() - "data: [DONE]\n\n".len();
            bytes.truncate(end);
        }
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.sort_unstable();
        points.push(bytes.len());
        let mut scanner = TerminalScanner::new(MARKERS);
        let mut start = 0;
        let mut found = false;
        for p in points {
            found |= scanner.push(&bytes[start..p]);
            start = p;
        }
        prop_assert_eq!(found, complete);
    }
}
