//! The relay's own dialect facts (`relay::StreamDialect`) and the protocol's
//! descriptor (`protocol::dialect::Dialect`) must say the same thing until the
//! relay takes them from the descriptor; then this file can go.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use switchyard_core::protocol::dialect::Dialect;
use switchyard_core::relay::{relay, ByteStream, RelayMode, StreamDialect};

const PAIRS: [(StreamDialect, Dialect); 4] = [
    (StreamDialect::OpenAiChat, Dialect::OpenAiChat),
    (StreamDialect::OpenAiChat, Dialect::OpenAiCompletions),
    (StreamDialect::OpenAiResponses, Dialect::OpenAiResponses),
    (StreamDialect::AnthropicMessages, Dialect::AnthropicMessages),
];

#[test]
fn terminal_markers_are_the_descriptors() {
    for (relay_dialect, dialect) in PAIRS {
        assert_eq!(relay_dialect.terminal_markers(), dialect.terminal_markers(), "{dialect:?}");
    }
}

#[tokio::test]
async fn a_truncated_passthrough_ends_with_the_descriptors_error_event() {
    for (relay_dialect, dialect) in PAIRS {
        let sent: &'static [u8] = b"data: {\"a\":1}\n\n";
        let upstream: ByteStream = Box::pin(futures::stream::iter([Ok(Bytes::from_static(sent))]));
        let mode = RelayMode::Passthrough(relay_dialect);
        let chunks: Vec<Bytes> = relay(upstream, mode, Duration::from_secs(5), "p", Box::new(()))
            .filter_map(|r| async move { r.ok() })
            .collect()
            .await;
        let out: Vec<u8> = chunks.concat();
        let message = "provider \"p\" closed the stream before it completed";
        let mut expected = sent.to_vec();
        expected.extend_from_slice(&dialect.stream_error_event(message, "upstream_stream_truncated"));
        assert_eq!(String::from_utf8_lossy(&out), String::from_utf8_lossy(&expected), "{dialect:?}");
    }
}
