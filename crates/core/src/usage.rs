//! What a request consumed and how it ended: the tap's output, handed to
//! the settle phase. Counts the upstream reported are kept as they are;
//! counts it never sent are estimated (and marked so) the way Databricks
//! does, `(text bytes + 1) / 4`, so a broken or abandoned stream is never
//! free.

use std::time::Duration;

pub use switchyard_protocol::canonical::Usage;

/// How a response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The whole answer reached the client (a stream's terminal event included).
    Completed,
    /// Refused or failed before any byte of an answer reached the client.
    Failed,
    /// A stream that broke after it started: upstream error, truncation, silence.
    Broke,
    /// The client went away before the answer was complete.
    ClientLeft,
}

impl End {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Broke => "broke",
            Self::ClientLeft => "client_left",
        }
    }
}

/// The final word on one request, given to every settle hook exactly once.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The HTTP status the client got (200 for a stream that later broke).
    pub status: u16,
    /// `GatewayError::kind()`, or the in-band error code of a broken stream.
    pub error_code: Option<String>,
    pub end: End,
    pub usage: Usage,
    /// Some count was not reported by the upstream and was estimated.
    pub usage_estimated: bool,
    /// As the upstream dialect names it (`stop`, `tool_calls`, `end_turn`, `completed`…).
    pub finish_reason: Option<String>,
    /// From the start of the request to the first byte of the answer's body.
    pub ttft: Option<Duration>,
    pub duration: Duration,
}

/// Tokens in `bytes` of text, estimated.
pub fn estimate_tokens(bytes: usize) -> u64 {
    (bytes as u64).saturating_add(1) / 4
}

/// What the tap learned while the answer went by.
#[derive(Debug, Default, Clone)]
pub struct Meter {
    /// Usage as reported; fields the upstream never sent stay 0.
    pub reported: Usage,
    pub input_reported: bool,
    pub output_reported: bool,
    /// Bytes of generated text (and tool arguments) seen: the output estimate's base.
    pub text_bytes: usize,
    pub finish_reason: Option<String>,
    pub ttft: Option<Duration>,
}

impl Meter {
    /// Takes in a usage report; later reports of the same count replace earlier ones
    /// (Anthropic repeats the input count in `message_delta`).
    pub fn report(&mut self, usage: &Usage, has_input: bool, has_output: bool) {
        if has_input {
            self.reported.input_tokens = usage.input_tokens;
            self.reported.cache_read_tokens = usage.cache_read_tokens;
            self.reported.cache_write_tokens = usage.cache_write_tokens;
            self.input_reported = true;
        }
        if has_output {
            self.reported.output_tokens = usage.output_tokens;
            self.reported.reasoning_tokens = usage.reasoning_tokens;
            self.output_reported = true;
        }
    }

    /// The usage to settle with, estimating what was not reported.
    pub fn usage(&self, estimated_input: u64) -> (Usage, bool) {
        let mut usage = self.reported;
        if !self.input_reported {
            usage.input_tokens = estimated_input;
        }
        if !self.output_reported {
            usage.output_tokens = estimate_tokens(self.text_bytes);
        }
        (usage, !(self.input_reported && self.output_reported))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreported_counts_are_estimated_and_marked() {
        let mut m = Meter { text_bytes: 39, ..Meter::default() };
        assert_eq!(m.usage(7), (Usage { input_tokens: 7, output_tokens: 10, ..Usage::default() }, true));
        m.report(&Usage { input_tokens: 3, cache_read_tokens: 2, ..Usage::default() }, true, false);
        let (u, estimated) = m.usage(7);
        assert_eq!((u.input_tokens, u.cache_read_tokens, u.output_tokens, estimated), (3, 2, 10, true));
        m.report(&Usage { output_tokens: 4, reasoning_tokens: 1, ..Usage::default() }, false, true);
        let (u, estimated) = m.usage(7);
        assert_eq!((u.input_tokens, u.output_tokens, u.reasoning_tokens, estimated), (3, 4, 1, false));
    }
}
