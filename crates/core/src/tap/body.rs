//! Usage of a non-stream answer: read from a whole body (the usual, small
//! answer), or from the tail of a body relayed as it arrives (`usage` comes
//! last in every dialect's JSON, and only the tail is kept).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures::Stream;

use super::wire::{read_body, BodyPeek};
use crate::byte_stream::ByteStream;
use crate::inbound::Inbound;
use crate::lifecycle::Settlement;
use crate::usage::End;

/// How much of a streamed body's end is kept to find its usage in.
const TAIL: usize = 16 * 1024;

/// Settles an answer the client gets whole.
pub(crate) fn settle_whole_body(mut settlement: Settlement, inbound: Inbound, body: &[u8]) {
    read_body(inbound, BodyPeek::scan(inbound, body), &mut settlement.meter);
    if let Some(c) = settlement.capture.as_mut() {
        c.body(body);
    }
    settlement.meter.ttft.get_or_insert(settlement.ctx.elapsed());
    settlement.finish(End::Completed, None);
}

struct Tapped {
    inner: ByteStream,
    inbound: Inbound,
    tail: BytesMut,
    settlement: Option<Settlement>,
}

impl Stream for Tapped {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let polled = this.inner.as_mut().poll_next(cx);
        match &polled {
            Poll::Ready(Some(Ok(chunk))) => {
                if let Some(s) = this.settlement.as_mut() {
                    s.meter.ttft.get_or_insert(s.ctx.elapsed());
                    if let Some(c) = s.capture.as_mut() {
                        c.body(chunk);
                    }
                }
                this.tail.extend_from_slice(chunk);
                if this.tail.len() > 2 * TAIL {
                    let _ = this.tail.split_to(this.tail.len() - TAIL);
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(s) = this.settlement.take() {
                    s.finish(End::Broke, Some("upstream_body_error".into()));
                }
            }
            Poll::Ready(None) => {
                if let Some(mut s) = this.settlement.take() {
                    read_body(this.inbound, BodyPeek::scan(this.inbound, &this.tail), &mut s.meter);
                    s.finish(End::Completed, None);
                }
            }
            Poll::Pending => {}
        }
        polled
    }
}

/// A relayed body that settles at its end (or, dropped early, as the client leaving).
pub(crate) fn tapped_forward(inner: ByteStream, inbound: Inbound, settlement: Settlement) -> ByteStream {
    Box::pin(Tapped { inner, inbound, tail: BytesMut::new(), settlement: Some(settlement) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::{RequestContext, RequestHooks};
    use crate::usage::Outcome;
    use futures::StreamExt;
    use std::sync::{Arc, Mutex};

    #[derive(Default)]
    struct Record(Mutex<Vec<Outcome>>);
    impl RequestHooks for Record {
        fn settle(&self, _ctx: &RequestContext, outcome: &Outcome) {
            self.0.lock().unwrap().push(outcome.clone());
        }
    }

    fn settlement(rec: &Arc<Record>) -> Settlement {
        let hooks: crate::lifecycle::Hooks = Arc::new(vec![rec.clone() as Arc<dyn RequestHooks>]);
        let mut s = Settlement::new(RequestContext::new("r".into(), Inbound::OpenAiEmbeddings), hooks);
        s.status = 200;
        s
    }

    #[tokio::test]
    async fn a_large_relayed_body_settles_once_with_the_usage_at_its_end() {
        let rec = Arc::new(Record::default());
        let head = format!("{{\"data\":[{{\"embedding\":[{}]}}],", "0.1,".repeat(20_000) + "0.2");
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from(head)),
            Ok(Bytes::from_static(b"\"usage\": {\"prompt_tokens\":42,\"total_tokens\":42}}")),
        ];
        let body = tapped_forward(Box::pin(futures::stream::iter(chunks)), Inbound::OpenAiEmbeddings, settlement(&rec));
        let n: usize = body.map(|c| c.unwrap().len()).collect::<Vec<_>>().await.iter().sum();
        assert!(n > 80_000);
        let got = rec.0.lock().unwrap().clone();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].usage.input_tokens, got[0].usage_estimated, got[0].end), (42, false, End::Completed));
    }

    #[tokio::test]
    async fn a_body_dropped_half_read_settles_as_the_client_leaving() {
        let rec = Arc::new(Record::default());
        let chunks: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from_static(b"{\"a\":")), Ok(Bytes::new())];
        let mut body = tapped_forward(Box::pin(futures::stream::iter(chunks)), Inbound::OpenAiChat, settlement(&rec));
        let _ = body.next().await;
        drop(body);
        let got = rec.0.lock().unwrap().clone();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].end, End::ClientLeft);
    }
}
