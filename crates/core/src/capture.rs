//! Payload capture for the request log, when it is on for a request: the
//! client's body as received, and the answer as the client got it — a
//! streamed answer assembled into the message it adds up to. Only what it
//! is handed is kept, and no more than a bound; redaction and the size cap
//! happen in the log writer, off the request's path.

use bytes::{Bytes, BytesMut};
use serde_json::Value;
use switchyard_protocol::canonical::{Accumulator, StreamDecoder, StreamEvent, Usage};
use switchyard_protocol::dialect::Dialect;
use switchyard_protocol::openai::chat::ToolNames;
use switchyard_protocol::sse::SseParser;

/// Left in `RequestContext::extensions` by a hook at *admit*: store this
/// request's payloads, each side capped at this many bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureRequest(pub usize);

/// What a request's capture ends as: the bodies, before redaction.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedPayload {
    pub request: Bytes,
    pub response: Bytes,
    /// More was received than kept.
    pub request_cut: bool,
    pub response_cut: bool,
}

/// The capture of one request's answer.
pub struct Capture {
    /// Most bytes kept of a body before redaction (a few times the stored cap,
    /// so a body a little over it can still be parsed and redacted whole).
    keep: usize,
    response: Answer,
}

enum Answer {
    Nothing,
    /// A whole body, or a stream kept as text (no decoder for its dialect).
    Raw {
        bytes: BytesMut,
        cut: bool,
    },
    /// A passthrough stream, decoded as it goes by.
    Decoded {
        parser: SseParser,
        decoder: Box<dyn StreamDecoder>,
        acc: Accumulator,
    },
    /// Canonical events of a translated stream.
    Events(Accumulator),
    /// A passthrough Responses stream: its own final object (`response.completed`).
    Final {
        parser: SseParser,
        last: Option<Value>,
    },
}

impl Capture {
    pub fn new(stored_cap: usize) -> Self {
        Self { keep: stored_cap.saturating_mul(4).max(4096), response: Answer::Nothing }
    }

    /// A body relayed whole, or one chunk of a body relayed as it arrives
    /// (also a stream kept as text).
    pub fn body(&mut self, chunk: &[u8]) {
        if !matches!(self.response, Answer::Raw { .. }) {
            self.response = Answer::Raw { bytes: BytesMut::new(), cut: false };
        }
        if let Answer::Raw { bytes, cut } = &mut self.response {
            let room = self.keep.saturating_sub(bytes.len());
            bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
            *cut |= chunk.len() > room;
        }
    }

    /// One chunk of a passthrough event stream in the client's `dialect`.
    pub fn sse(&mut self, dialect: Dialect, chunk: &[u8]) {
        if matches!(self.response, Answer::Nothing) {
            self.response = match dialect.decoder(ToolNames::default()) {
                Some(decoder) => Answer::Decoded { parser: SseParser::new(), decoder, acc: Accumulator::default() },
                None if dialect == Dialect::OpenAiResponses => Answer::Final { parser: SseParser::new(), last: None },
                None => Answer::Raw { bytes: BytesMut::new(), cut: false },
            };
        }
        match &mut self.response {
            Answer::Decoded { parser, decoder, acc } => {
                for e in parser.push(chunk) {
                    for ev in decoder.event(e.event.as_deref(), &e.data) {
                        acc.push(&ev);
                    }
                }
            }
            Answer::Final { parser, last } => {
                for e in parser.push(chunk) {
                    // Only the terminal events carry the whole response.
                    if e.data.contains("\"response.completed\"")
                        || e.data.contains("\"response.incomplete\"")
                        || e.data.contains("\"response.failed\"")
                    {
                        *last = serde_json::from_str::<Value>(&e.data).ok().and_then(|v| v.get("response").cloned());
                    }
                }
            }
            Answer::Raw { .. } => self.body(chunk),
            Answer::Nothing | Answer::Events(_) => {}
        }
    }

    /// A canonical event of a translated stream.
    pub fn event(&mut self, event: &StreamEvent) {
        if matches!(self.response, Answer::Nothing) {
            self.response = Answer::Events(Accumulator::default());
        }
        if let Answer::Events(acc) = &mut self.response {
            acc.push(event);
        }
    }

    /// The payload: `request` is the client's body; an assembled stream is
    /// the message in the client's dialect, with the request's settled
    /// `usage` when the stream the client got carried none.
    pub fn finish(self, request: &Bytes, dialect: Dialect, usage: &Usage) -> CapturedPayload {
        let request_cut = request.len() > self.keep;
        let request = request.slice(..request.len().min(self.keep));
        let (response, response_cut) = match self.response {
            Answer::Nothing => (Bytes::new(), false),
            Answer::Raw { bytes, cut } => (bytes.freeze(), cut),
            Answer::Decoded { mut acc, .. } | Answer::Events(mut acc) => {
                if acc.usage == Usage::default() {
                    acc.usage = *usage;
                }
                (assembled(dialect, &acc), false)
            }
            Answer::Final { last, .. } => {
                (last.map(|v| Bytes::from(serde_json::to_vec(&v).unwrap_or_default())).unwrap_or_default(), false)
            }
        };
        CapturedPayload { request, response, request_cut, response_cut }
    }
}

fn assembled(dialect: Dialect, acc: &Accumulator) -> Bytes {
    let v = switchyard_protocol::translate::assembled_response(dialect, &acc.response());
    Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passthrough_chat_stream_is_stored_as_the_message_it_adds_up_to() {
        let mut c = Capture::new(1024);
        let sse = concat!(
            "data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\n\n",
            "data: {\"id\":\"c1\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n",
            "data: [DONE]\n\n"
        );
        let (a, b) = sse.split_at(40);
        c.sse(Dialect::OpenAiChat, a.as_bytes());
        c.sse(Dialect::OpenAiChat, b.as_bytes());
        let p = c.finish(&Bytes::from_static(b"{\"model\":\"m\"}"), Dialect::OpenAiChat, &Usage::default());
        let v: Value = serde_json::from_slice(&p.response).unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], "Hello", "{v}");
        assert_eq!(v["object"], "chat.completion");
        assert!(!p.response_cut && !p.request_cut);
    }

    #[test]
    fn a_responses_stream_keeps_its_own_final_object() {
        let mut c = Capture::new(1024);
        c.sse(
            Dialect::OpenAiResponses,
            b"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"x\"}\n\n\
              event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"id\":\"resp_1\",\"status\":\"completed\"}}\n\n",
        );
        let p = c.finish(&Bytes::new(), Dialect::OpenAiResponses, &Usage::default());
        assert_eq!(&p.response[..], br#"{"id":"resp_1","status":"completed"}"#);
    }

    #[test]
    fn bodies_are_kept_up_to_a_bound_and_the_cut_is_marked() {
        let mut c = Capture::new(1024);
        c.body(&vec![b'a'; 3000]);
        c.body(&vec![b'b'; 3000]);
        let p = c.finish(&Bytes::from(vec![b'r'; 5000]), Dialect::OpenAiChat, &Usage::default());
        assert_eq!(p.response.len(), 4096);
        assert!(p.response_cut);
        assert_eq!(p.request.len(), 4096);
        assert!(p.request_cut);
    }
}
