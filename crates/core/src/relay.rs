//! The streaming relay: forwards upstream SSE bytes to the client as they
//! arrive (no buffering, no channel: the client's pace pulls the upstream, which
//! is the backpressure), with an idle timeout per chunk. A stream that breaks,
//! goes silent or ends before its terminal event is closed with an in-band
//! error event in the client's dialect, never as if it had completed.

use std::any::Any;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use switchyard_protocol::openai::error::ErrorResponse;
use switchyard_protocol::sse::{BoundaryTracker, SseEvent, SseParser};

pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// How a dialect marks the end of a stream and expresses an in-band error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamDialect {
    /// `data:` events, ended by `data: [DONE]`; errors as `data: {"error":{…}}`.
    OpenAiChat,
}

impl StreamDialect {
    fn is_terminal(self, event: &SseEvent) -> bool {
        match self {
            Self::OpenAiChat => {
                let data = event.data.trim_start();
                data.starts_with("[DONE]") || data.starts_with("{\"error\"")
            }
        }
    }

    pub fn error_event(self, message: &str, code: &str) -> Bytes {
        match self {
            Self::OpenAiChat => {
                let body = ErrorResponse::new(message, "server_error").with_code(Some(code.to_string()));
                let json = serde_json::to_string(&body).unwrap_or_else(|_| "{\"error\":{}}".into());
                SseEvent::data(json).encode()
            }
        }
    }
}

struct RelayState {
    upstream: ByteStream,
    dialect: StreamDialect,
    idle: Duration,
    provider: String,
    parser: SseParser,
    boundary: BoundaryTracker,
    terminal_seen: bool,
    done: bool,
    /// Kept alive for the stream's lifetime (e.g. the config snapshot it started on).
    _hold: Box<dyn Any + Send + Sync>,
}

impl RelayState {
    fn fail(&mut self, message: &str, code: &str) -> Bytes {
        self.done = true;
        tracing::warn!(provider = %self.provider, code, "{message}");
        let mut out = Vec::from(self.boundary.separator());
        out.extend_from_slice(&self.dialect.error_event(message, code));
        Bytes::from(out)
    }
}

/// Wraps an upstream byte stream into the client-facing relay.
pub fn relay(
    upstream: ByteStream,
    dialect: StreamDialect,
    idle: Duration,
    provider: &str,
    hold: Box<dyn Any + Send + Sync>,
) -> ByteStream {
    let state = RelayState {
        upstream,
        dialect,
        idle,
        provider: provider.to_string(),
        parser: SseParser::new(),
        boundary: BoundaryTracker::default(),
        terminal_seen: false,
        done: false,
        _hold: hold,
    };
    Box::pin(futures::stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        let item = match tokio::time::timeout(s.idle, s.upstream.next()).await {
            Ok(Some(Ok(chunk))) => {
                s.boundary.observe(&chunk);
                if !s.terminal_seen {
                    let dialect = s.dialect;
                    s.terminal_seen = s.parser.push(&chunk).iter().any(|e| dialect.is_terminal(e));
                }
                chunk
            }
            Ok(Some(Err(e))) => {
                let message = format!("upstream stream from provider {:?} broke: {e}", s.provider);
                s.fail(&message, "upstream_stream_error")
            }
            Ok(None) if s.terminal_seen => return None,
            Ok(None) => {
                let message = format!("provider {:?} closed the stream before it completed", s.provider);
                s.fail(&message, "upstream_stream_truncated")
            }
            Err(_) => {
                let message = format!(
                    "provider {:?} sent nothing for {} s (stream_idle_timeout_in_seconds); stream aborted",
                    s.provider,
                    s.idle.as_secs()
                );
                s.fail(&message, "upstream_stream_idle_timeout")
            }
        };
        Some((Ok(item), s))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(chunks: Vec<Result<&'static [u8], std::io::Error>>, idle_ms: u64, hang: bool) -> String {
        let items: Vec<Result<Bytes, std::io::Error>> = chunks.into_iter().map(|c| c.map(Bytes::from_static)).collect();
        let mut upstream: ByteStream = Box::pin(futures::stream::iter(items));
        if hang {
            upstream = Box::pin(upstream.chain(futures::stream::pending()));
        }
        let out: Vec<_> = relay(upstream, StreamDialect::OpenAiChat, Duration::from_millis(idle_ms), "p", Box::new(()))
            .collect()
            .await;
        out.into_iter().filter_map(Result::ok).map(|b| String::from_utf8_lossy(&b).into_owned()).collect()
    }

    #[tokio::test]
    async fn complete_stream_is_relayed_verbatim() {
        let out = collect(vec![Ok(b"data: {\"a\":1}\n\nda"), Ok(b"ta: [DONE]\n\n")], 1000, false).await;
        assert_eq!(out, "data: {\"a\":1}\n\ndata: [DONE]\n\n");
    }

    #[tokio::test]
    async fn truncated_stream_ends_with_error_event_on_a_boundary() {
        let out = collect(vec![Ok(b"data: {\"a\":1}\n\ndata: {\"b\"")], 1000, false).await;
        assert!(out.starts_with("data: {\"a\":1}\n\ndata: {\"b\"\n\ndata: {\"error\":"), "{out}");
        assert!(out.contains("upstream_stream_truncated"));
        assert!(!out.contains("[DONE]"));
    }

    #[tokio::test]
    async fn broken_stream_ends_with_error_event() {
        let out =
            collect(vec![Ok(b"data: {\"a\":1}\n"), Err(std::io::Error::other("connection reset"))], 1000, false).await;
        assert!(out.starts_with("data: {\"a\":1}\n\ndata: {\"error\":"), "{out}");
        assert!(out.contains("connection reset"));
    }

    #[tokio::test]
    async fn silent_upstream_hits_idle_timeout() {
        let out = collect(vec![Ok(b"data: {\"a\":1}\n\n")], 50, true).await;
        assert!(out.contains("upstream_stream_idle_timeout"), "{out}");
    }

    #[tokio::test]
    async fn upstream_error_event_counts_as_terminal() {
        let out = collect(vec![Ok(b"data: {\"error\":{\"message\":\"x\"}}\n\n")], 1000, false).await;
        assert_eq!(out, "data: {\"error\":{\"message\":\"x\"}}\n\n");
    }
}
