//! The streaming relay: forwards upstream SSE to the client as it arrives (no
//! buffering, no channel: the client's pace pulls the upstream, which is the
//! backpressure), with an idle timeout per chunk. Passthrough streams are
//! forwarded byte for byte; translated streams go through a decoder (upstream
//! dialect → canonical events) and an encoder (canonical → client dialect).
//! A stream that breaks, goes silent or ends before its terminal event is
//! closed with an in-band error in the client's dialect, never as if it had
//! completed.

use std::any::Any;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use futures::Stream;
use switchyard_protocol::canonical::{StreamDecoder, StreamEncoder, StreamEvent};
use switchyard_protocol::dialect::Dialect;
use switchyard_protocol::sse::{BoundaryTracker, SseParser, TerminalScanner};

use crate::tap::StreamTap;
use crate::usage::End;

pub use crate::byte_stream::ByteStream;

/// While translating, a slow upstream gets keep-alive pings this often so that
/// clients with stall timeouts (coding agents) keep waiting.
const PING_EVERY: Duration = Duration::from_secs(15);

pub enum RelayMode {
    Passthrough(Dialect),
    /// `max_event`: bytes one upstream event may hold before the stream fails.
    Transcode {
        decoder: Box<dyn StreamDecoder>,
        encoder: Box<dyn StreamEncoder>,
        max_event: usize,
    },
}

/// Each mode's own working state.
enum Mode {
    Passthrough {
        dialect: Dialect,
        /// Finds the terminal event without parsing every event.
        scanner: TerminalScanner,
        boundary: BoundaryTracker,
    },
    Transcode {
        parser: SseParser,
        decoder: Box<dyn StreamDecoder>,
        encoder: Box<dyn StreamEncoder>,
    },
}

struct RelayState {
    upstream: ByteStream,
    mode: Mode,
    idle: Duration,
    provider: String,
    terminal_seen: bool,
    done: bool,
    pending: VecDeque<Bytes>,
    last_data: Instant,
    last_ping: Instant,
    /// Sees every chunk or event and the end (usage, timings, settle).
    tap: Box<dyn StreamTap>,
    /// Kept alive for the stream's lifetime (e.g. the config snapshot it started on).
    _hold: Box<dyn Any + Send + Sync>,
}

impl RelayState {
    fn fail(&mut self, message: String, code: &str) {
        self.done = true;
        tracing::warn!(provider = %self.provider, code, "{message}");
        match &mut self.mode {
            Mode::Passthrough { dialect, boundary, scanner } => {
                release_held(&mut *self.tap, boundary, scanner, &mut self.terminal_seen, &mut self.pending);
                let mut out = Vec::from(boundary.separator());
                out.extend_from_slice(&dialect.stream_error_event(&message, code));
                self.pending.push_back(Bytes::from(out));
            }
            Mode::Transcode { encoder, .. } => {
                let e = StreamEvent::Error { kind: "server_error".into(), message };
                self.pending.extend(encoder.encode(&e));
            }
        }
        self.tap.end(End::Broke, Some(code));
    }

    fn on_chunk(&mut self, chunk: Bytes) {
        self.last_data = Instant::now();
        match &mut self.mode {
            Mode::Passthrough { scanner, boundary, .. } => {
                let chunk = self.tap.chunk(chunk);
                if chunk.is_empty() {
                    return;
                }
                boundary.observe(&chunk);
                if !self.terminal_seen {
                    self.terminal_seen = scanner.push(&chunk);
                }
                self.pending.push_back(chunk);
            }
            Mode::Transcode { parser, decoder, encoder } => {
                for event in parser.push(&chunk) {
                    for ce in decoder.event(event.event.as_deref(), &event.data) {
                        self.tap.event(&ce);
                        self.pending.extend(encoder.encode(&ce));
                        // The client's stream ends at the first error: nothing after it
                        // (no finish_reason, [DONE] or message_stop) may read as success.
                        if let StreamEvent::Error { kind, .. } = &ce {
                            self.terminal_seen = true;
                            self.done = true;
                            self.tap.end(End::Broke, Some(kind));
                            return;
                        }
                    }
                }
                if parser.overflowed() {
                    let message = format!(
                        "provider {:?} sent a stream event larger than {} KiB (network_config.max_stream_event_size_kb)",
                        self.provider,
                        parser.max_event() / 1024
                    );
                    self.fail(message, "upstream_event_too_large");
                    return;
                }
                if decoder.is_complete() {
                    self.terminal_seen = true;
                }
            }
        }
    }

    fn on_end(&mut self) {
        match &mut self.mode {
            Mode::Transcode { decoder, encoder, .. } => {
                for ce in decoder.end() {
                    self.tap.event(&ce);
                    self.pending.extend(encoder.encode(&ce));
                }
                if decoder.is_complete() {
                    self.terminal_seen = true;
                }
            }
            Mode::Passthrough { boundary, scanner, .. } => {
                release_held(&mut *self.tap, boundary, scanner, &mut self.terminal_seen, &mut self.pending);
            }
        }
        if self.terminal_seen {
            self.done = true;
            self.tap.end(End::Completed, None);
        } else {
            let message = format!("provider {:?} closed the stream before it completed", self.provider);
            self.fail(message, "upstream_stream_truncated");
        }
    }

    fn on_quiet(&mut self, now: Instant) {
        if now.duration_since(self.last_data) >= self.idle {
            let message = format!(
                "provider {:?} sent nothing for {} s (stream_idle_timeout_in_seconds); stream aborted",
                self.provider,
                self.idle.as_secs()
            );
            self.fail(message, "upstream_stream_idle_timeout");
        } else if let Mode::Transcode { encoder, .. } = &mut self.mode {
            self.last_ping = now;
            self.pending.extend(encoder.encode(&StreamEvent::Ping));
        }
    }
}

/// Relays what a filtering tap still holds (an unfinished event) before the
/// stream ends or fails, so the end sees every byte the upstream sent.
fn release_held(
    tap: &mut dyn StreamTap,
    boundary: &mut BoundaryTracker,
    scanner: &mut TerminalScanner,
    terminal_seen: &mut bool,
    pending: &mut VecDeque<Bytes>,
) {
    let held = tap.flush();
    if held.is_empty() {
        return;
    }
    boundary.observe(&held);
    if !*terminal_seen {
        *terminal_seen = scanner.push(&held);
    }
    pending.push_back(held);
}

/// Wraps an upstream byte stream into the client-facing relay.
pub fn relay(
    upstream: ByteStream,
    mode: RelayMode,
    idle: Duration,
    provider: &str,
    hold: Box<dyn Any + Send + Sync>,
    tap: Box<dyn StreamTap>,
) -> ByteStream {
    let mode = match mode {
        RelayMode::Passthrough(dialect) => {
            Mode::Passthrough { dialect, scanner: dialect.terminal_scanner(), boundary: BoundaryTracker::default() }
        }
        RelayMode::Transcode { decoder, encoder, max_event } => {
            Mode::Transcode { parser: SseParser::with_limit(max_event), decoder, encoder }
        }
    };
    let now = Instant::now();
    let state = RelayState {
        upstream,
        mode,
        idle,
        provider: provider.to_string(),
        terminal_seen: false,
        done: false,
        pending: VecDeque::new(),
        last_data: now,
        last_ping: now,
        tap,
        _hold: hold,
    };
    let first = state.next_check();
    Box::pin(Relay { state, timer: Box::pin(tokio::time::sleep_until(first)), turn: None, turns: 0, idle_turns: 0 })
}

/// Most bytes gathered into one client write.
const COALESCE_LIMIT: usize = 64 * 1024;
/// Most turns given to the upstream while gathering one write.
const MAX_TURNS: u32 = 16;
/// Turns in a row that brought nothing before the gathered data is written.
const IDLE_TURNS: u32 = 2;

/// Everything pending as one buffer (no copy when there is a single piece).
fn take_all(pending: &mut VecDeque<Bytes>, size: usize) -> Bytes {
    if pending.len() == 1 {
        return pending.pop_front().unwrap_or_default();
    }
    let mut out = bytes::BytesMut::with_capacity(size);
    for b in pending.drain(..) {
        out.extend_from_slice(&b);
    }
    out.freeze()
}

/// The relay as a hand-written stream: one timer for the whole stream, re-armed
/// only when it fires, so a chunk costs a clock read rather than a timer
/// registration.
struct Relay {
    state: RelayState,
    timer: Pin<Box<tokio::time::Sleep>>,
    /// Gathering: the turn given to other tasks (the upstream connection).
    turn: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
    turns: u32,
    idle_turns: u32,
}

impl RelayState {
    /// Polls the upstream once and takes in what it gave (data, error or end).
    /// False when it had nothing ready.
    fn poll_upstream(&mut self, cx: &mut Context<'_>) -> bool {
        match self.upstream.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => self.on_chunk(chunk),
            Poll::Ready(Some(Err(e))) => {
                let message = format!("upstream stream from provider {:?} broke: {e}", self.provider);
                self.fail(message, "upstream_stream_error");
            }
            Poll::Ready(None) => self.on_end(),
            Poll::Pending => return false,
        }
        true
    }

    /// When the timer must next look: the idle deadline, or the next keep-alive ping.
    fn next_check(&self) -> Instant {
        let idle_at = self.last_data + self.idle;
        match self.mode {
            Mode::Transcode { .. } => idle_at.min(self.last_data.max(self.last_ping) + PING_EVERY),
            Mode::Passthrough { .. } => idle_at,
        }
    }
}

impl Stream for Relay {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let s = &mut this.state;
        loop {
            if !s.pending.is_empty() {
                // Gather what else the upstream has ready, so that one client write
                // carries many events: a write per tiny SSE event costs a syscall and
                // the receiver's TCP work each (profiled: 72 % of the relay's CPU was
                // kernel time in writes). The upstream connection hands over one chunk
                // per turn of its task, so give it turns (tokio yields, no timer) while
                // they bring data, bounded so that time to first byte stays low; a
                // quiet upstream costs two turns, microseconds.
                let mut size: usize = s.pending.iter().map(Bytes::len).sum();
                let mut progressed = false;
                while !s.done && size < COALESCE_LIMIT {
                    if !s.poll_upstream(cx) {
                        break;
                    }
                    progressed = true;
                    size = s.pending.iter().map(Bytes::len).sum();
                }
                // A turn is worth another while the last one brought data.
                let worth_a_turn = match this.turn.as_mut() {
                    Some(turn) => {
                        if turn.as_mut().poll(cx).is_pending() {
                            return Poll::Pending;
                        }
                        this.turn = None;
                        if progressed {
                            this.idle_turns = 0;
                        } else {
                            this.idle_turns += 1;
                        }
                        this.idle_turns < IDLE_TURNS
                    }
                    None => this.turns == 0,
                };
                if !s.done && size < COALESCE_LIMIT && worth_a_turn && this.turns < MAX_TURNS {
                    // tokio's yield lets the other ready tasks (the upstream connection)
                    // run before this one again; a plain self-wake would run first.
                    let mut turn: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(tokio::task::yield_now());
                    this.turns += 1;
                    if turn.as_mut().poll(cx).is_pending() {
                        this.turn = Some(turn);
                        return Poll::Pending;
                    }
                }
                this.turns = 0;
                this.idle_turns = 0;
                return Poll::Ready(Some(Ok(take_all(&mut s.pending, size))));
            }
            if s.done {
                return Poll::Ready(None);
            }
            if !s.poll_upstream(cx) {
                if this.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                let now = Instant::now();
                if now >= s.next_check() {
                    s.on_quiet(now);
                }
                // Re-arm (and register the waker) for the next check.
                this.timer.as_mut().reset(s.next_check());
                if s.pending.is_empty() && !s.done && this.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;
    use switchyard_protocol::anthropic::stream::AnthropicEncoder;
    use switchyard_protocol::openai::chat::stream::ChatDecoder;
    use switchyard_protocol::openai::chat::ToolNames;

    async fn collect(
        chunks: Vec<Result<&'static [u8], std::io::Error>>,
        idle_ms: u64,
        hang: bool,
        mode: RelayMode,
    ) -> String {
        let items: Vec<Result<Bytes, std::io::Error>> = chunks.into_iter().map(|c| c.map(Bytes::from_static)).collect();
        let mut upstream: ByteStream = Box::pin(futures::stream::iter(items));
        if hang {
            upstream = Box::pin(upstream.chain(futures::stream::pending()));
        }
        let out: Vec<_> =
            relay(upstream, mode, Duration::from_millis(idle_ms), "p", Box::new(()), Box::new(crate::tap::NoTap))
                .collect()
                .await;
        out.into_iter().filter_map(Result::ok).map(|b| String::from_utf8_lossy(&b).into_owned()).collect()
    }

    fn chat() -> RelayMode {
        RelayMode::Passthrough(Dialect::OpenAiChat)
    }

    #[tokio::test]
    async fn complete_stream_is_relayed_verbatim() {
        let out = collect(vec![Ok(b"data: {\"a\":1}\n\nda"), Ok(b"ta: [DONE]\n\n")], 1000, false, chat()).await;
        assert_eq!(out, "data: {\"a\":1}\n\ndata: [DONE]\n\n");
    }

    #[tokio::test]
    async fn ready_chunks_are_coalesced_into_one_client_write() {
        let chunks: Vec<Result<Bytes, std::io::Error>> = (0..10)
            .map(|i| Ok(Bytes::from(format!("data: {{\"n\":{i}}}\n\n"))))
            .chain([Ok(Bytes::from_static(b"data: [DONE]\n\n"))])
            .collect();
        let upstream: ByteStream = Box::pin(futures::stream::iter(chunks));
        let out: Vec<Bytes> =
            relay(upstream, chat(), Duration::from_secs(1), "p", Box::new(()), Box::new(crate::tap::NoTap))
                .filter_map(|r| async move { r.ok() })
                .collect()
                .await;
        assert_eq!(out.len(), 1, "one write for everything that was ready");
        assert!(out[0].starts_with(b"data: {\"n\":0}") && out[0].ends_with(b"data: [DONE]\n\n"));
    }

    #[tokio::test]
    async fn truncated_stream_ends_with_error_event_on_a_boundary() {
        let out = collect(vec![Ok(b"data: {\"a\":1}\n\ndata: {\"b\"")], 1000, false, chat()).await;
        assert!(out.starts_with("data: {\"a\":1}\n\ndata: {\"b\"\n\ndata: {\"error\":"), "{out}");
        assert!(out.contains("upstream_stream_truncated"));
        assert!(!out.contains("[DONE]"));
    }

    #[tokio::test]
    async fn broken_stream_ends_with_error_event() {
        let out = collect(
            vec![Ok(b"data: {\"a\":1}\n"), Err(std::io::Error::other("connection reset"))],
            1000,
            false,
            chat(),
        )
        .await;
        assert!(out.starts_with("data: {\"a\":1}\n\ndata: {\"error\":"), "{out}");
        assert!(out.contains("connection reset"));
    }

    #[tokio::test]
    async fn silent_upstream_hits_idle_timeout() {
        let out = collect(vec![Ok(b"data: {\"a\":1}\n\n")], 50, true, chat()).await;
        assert!(out.contains("upstream_stream_idle_timeout"), "{out}");
    }

    #[tokio::test]
    async fn upstream_error_event_counts_as_terminal() {
        let out = collect(vec![Ok(b"data: {\"error\":{\"message\":\"x\"}}\n\n")], 1000, false, chat()).await;
        assert_eq!(out, "data: {\"error\":{\"message\":\"x\"}}\n\n");
    }

    #[tokio::test]
    async fn anthropic_passthrough_errors_carry_event_lines() {
        let mode = RelayMode::Passthrough(Dialect::AnthropicMessages);
        let out = collect(vec![Ok(b"event: message_start\ndata: {}\n\n")], 1000, false, mode).await;
        assert!(out.starts_with("event: message_start\ndata: {}\n\nevent: error\n"), "{out}");
        assert!(out.contains("closed the stream before it completed"));
    }

    #[tokio::test]
    async fn responses_passthrough_ends_cleanly_on_response_completed() {
        let mode = RelayMode::Passthrough(Dialect::OpenAiResponses);
        let body: &'static [u8] = b"event: response.created\ndata: {}\n\nevent: response.comp";
        let out =
            collect(vec![Ok(body), Ok(b"leted\ndata: {\"type\":\"response.completed\"}\n\n")], 1000, false, mode).await;
        assert!(!out.contains("response.failed"), "{out}");
        let mode = RelayMode::Passthrough(Dialect::OpenAiResponses);
        let out = collect(vec![Ok(b"event: response.created\ndata: {}\n\n")], 1000, false, mode).await;
        assert!(out.contains("event: response.failed"), "{out}");
    }

    #[tokio::test]
    async fn transcoding_a_broken_chat_stream_ends_with_an_anthropic_error_event() {
        let mode = RelayMode::Transcode {
            decoder: Box::new(ChatDecoder::new(ToolNames::default())),
            encoder: Box::new(AnthropicEncoder::new("m")),
            max_event: 1 << 20,
        };
        let out = collect(
            vec![Ok(b"data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n"), Err(std::io::Error::other("reset"))],
            1000,
            false,
            mode,
        )
        .await;
        assert!(out.starts_with("event: message_start\n"), "{out}");
        assert!(out.contains("event: content_block_delta\n"));
        assert!(out.trim_end().ends_with("}") && out.contains("event: error\n"), "{out}");
        assert!(!out.contains("message_stop"));
    }

    #[tokio::test]
    async fn transcoding_a_silent_upstream_times_out_in_the_client_dialect() {
        let mode = RelayMode::Transcode {
            decoder: Box::new(ChatDecoder::new(ToolNames::default())),
            encoder: Box::new(AnthropicEncoder::new("m")),
            max_event: 1 << 20,
        };
        let out = collect(vec![], 200, true, mode).await;
        assert!(out.contains("event: error\n") && out.contains("sent nothing"), "{out}");
    }
}
