//! The relay's tap: an observer that sees every upstream chunk (passthrough)
//! or canonical event (transcode) and the end of the stream, and a filter
//! for the one rewrite passthrough needs (see [`passthrough`]). The usage
//! tap below feeds the settle phase; it is how usage is captured on every
//! path without touching the relay's polling loop.

mod body;
mod drain;
mod passthrough;
mod wire;

use bytes::Bytes;
use switchyard_protocol::canonical::{BlockDelta, StreamEvent};

pub(crate) use body::{settle_whole_body, tapped_forward};
pub(crate) use drain::drain_on_disconnect;
pub(crate) use passthrough::PassthroughScan;

use crate::lifecycle::Settlement;
use crate::usage::End;
use switchyard_protocol::dialect::Dialect;

/// Sees a relayed stream go by.
pub trait StreamTap: Send {
    /// A passthrough chunk before it is relayed; returns the bytes the client
    /// gets (the same bytes unless the tap must hide something it asked for).
    fn chunk(&mut self, chunk: Bytes) -> Bytes {
        chunk
    }
    /// Bytes a filtering tap still holds; called before the stream ends or fails.
    fn flush(&mut self) -> Bytes {
        Bytes::new()
    }
    /// A canonical event decoded from a translated upstream stream.
    fn event(&mut self, _event: &StreamEvent) {}
    /// The stream ended, once: cleanly or broken (with the in-band error code).
    /// A tap dropped without `end` means the client left.
    fn end(&mut self, _end: End, _error_code: Option<&str>) {}
}

/// A tap that sees nothing (tests, the SDK's internal calls).
pub struct NoTap;
impl StreamTap for NoTap {}

/// Counts usage, first-token time and finish reason into the request's
/// settlement, and settles when the stream ends (or, by drop, when the client leaves).
pub(crate) struct UsageTap {
    settlement: Option<Settlement>,
    scan: Option<PassthroughScan>,
    /// The client's dialect, for a passthrough stream's payload capture.
    dialect: Dialect,
}

impl UsageTap {
    /// For a passthrough stream; `strip_usage` hides the usage chunk (and the
    /// `"usage":null` members) the gateway asked an OpenAI upstream for.
    pub fn passthrough(settlement: Settlement, dialect: Dialect, strip_usage: bool) -> Self {
        Self { settlement: Some(settlement), scan: Some(PassthroughScan::new(dialect, strip_usage)), dialect }
    }

    /// For a translated stream (canonical events).
    pub fn transcode(settlement: Settlement) -> Self {
        let dialect = settlement.ctx.inbound.dialect();
        Self { settlement: Some(settlement), scan: None, dialect }
    }

    fn first_byte(&mut self) {
        if let Some(s) = self.settlement.as_mut() {
            s.meter.ttft.get_or_insert_with(|| s.ctx.elapsed());
        }
    }
}

impl StreamTap for UsageTap {
    fn chunk(&mut self, chunk: Bytes) -> Bytes {
        self.first_byte();
        let out = match (self.scan.as_mut(), self.settlement.as_mut()) {
            (Some(scan), Some(s)) => scan.chunk(chunk, &mut s.meter),
            _ => chunk,
        };
        if let Some(c) = self.settlement.as_mut().and_then(|s| s.capture.as_mut()) {
            c.sse(self.dialect, &out);
        }
        out
    }

    fn flush(&mut self) -> Bytes {
        let out = self.scan.as_mut().map(PassthroughScan::flush).unwrap_or_default();
        if let Some(c) = self.settlement.as_mut().and_then(|s| s.capture.as_mut()) {
            c.sse(self.dialect, &out);
        }
        out
    }

    fn event(&mut self, event: &StreamEvent) {
        let Some(s) = self.settlement.as_mut() else { return };
        if let Some(c) = s.capture.as_mut() {
            c.event(event);
        }
        let m = &mut s.meter;
        match event {
            StreamEvent::MessageStart { usage, .. } if usage.total_input() > 0 => m.report(usage, true, false),
            StreamEvent::BlockDelta { delta, .. } => {
                m.ttft.get_or_insert_with(|| s.ctx.elapsed());
                match delta {
                    BlockDelta::Text(t) | BlockDelta::ToolArguments(t) | BlockDelta::Thinking(t) => {
                        m.text_bytes += t.len()
                    }
                    BlockDelta::Signature(_) => {}
                }
            }
            StreamEvent::MessageDelta { stop_reason, usage, .. } => {
                m.finish_reason = Some(switchyard_protocol::anthropic::response::stop_reason_str(*stop_reason).into());
                // A decoder reports zeros when the upstream sent no usage: estimate then.
                m.report(usage, usage.total_input() > 0, usage.output_tokens > 0);
            }
            _ => {}
        }
    }

    fn end(&mut self, end: End, error_code: Option<&str>) {
        let upstream_error = self.scan.as_ref().is_some_and(|s| s.error_seen);
        if let Some(s) = self.settlement.take() {
            match (end, error_code) {
                // The upstream's own error event ended the stream: relayed as sent, but not a success.
                (End::Completed, None) if upstream_error => s.finish(End::Broke, Some("upstream_error".into())),
                _ => s.finish(end, error_code.map(str::to_string)),
            }
        }
    }
}
