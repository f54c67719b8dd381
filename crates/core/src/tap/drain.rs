//! Drain on disconnect: a client that leaves mid-answer must still pay for
//! what the upstream generates (LiteLLM PR #33736 let it "pay nothing").
//! When a request's limits need its usage, its body is wrapped here; dropped
//! before its end, the wrapper hands the rest of the stream (relay and tap
//! included) to a background task that reads it to the end, so the usage
//! event reaches the tap and the request settles with real counts. The
//! drain is bounded in time ([`DRAIN_FOR`]) and in number ([`MAX_DRAINS`]);
//! past either, the request settles at once with what was seen (and the
//! governance charges at least its reservation).

use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio::sync::Semaphore;
use tracing::Instrument;

use crate::byte_stream::ByteStream;

/// How long an abandoned answer is read on, at most.
pub const DRAIN_FOR: Duration = Duration::from_secs(30);
/// Abandoned answers read on at once, at most.
pub const MAX_DRAINS: usize = 256;

fn drains() -> &'static Arc<Semaphore> {
    static DRAINS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    DRAINS.get_or_init(|| Arc::new(Semaphore::new(MAX_DRAINS)))
}

struct Draining {
    inner: Option<ByteStream>,
    ended: bool,
}

impl Stream for Draining {
    type Item = Result<bytes::Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(inner) = self.inner.as_mut() else { return Poll::Ready(None) };
        let polled = inner.as_mut().poll_next(cx);
        if matches!(polled, Poll::Ready(None)) {
            self.ended = true;
        }
        polled
    }
}

impl Drop for Draining {
    fn drop(&mut self) {
        if self.ended {
            return;
        }
        let Some(mut rest) = self.inner.take() else { return };
        let (Ok(runtime), Ok(permit)) = (tokio::runtime::Handle::try_current(), drains().clone().try_acquire_owned())
        else {
            tracing::warn!("client left and no drain slot is free: settling with the usage seen so far");
            return;
        };
        // In the request's log span: the drain's lines (and its settling) name the request.
        let span = tracing::Span::current();
        let drain = async move {
            let read_on = async { while rest.next().await.is_some() {} };
            if tokio::time::timeout(DRAIN_FOR, read_on).await.is_err() {
                tracing::info!("abandoned answer still streaming after {DRAIN_FOR:?}: settling with what was seen");
            }
            drop(rest);
            drop(permit);
        };
        runtime.spawn(drain.instrument(span));
    }
}

/// `stream`, read to its end even if the client leaves, when `enabled`.
pub(crate) fn drain_on_disconnect(stream: ByteStream, enabled: bool) -> ByteStream {
    if !enabled {
        return stream;
    }
    Box::pin(Draining { inner: Some(stream), ended: false })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn an_abandoned_stream_is_read_to_its_end() {
        let read = Arc::new(AtomicUsize::new(0));
        let counter = read.clone();
        let chunks = futures::stream::iter(0..5).then(move |i| {
            let counter = counter.clone();
            async move {
                tokio::task::yield_now().await;
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(bytes::Bytes::from(vec![i]))
            }
        });
        let mut s = drain_on_disconnect(Box::pin(chunks), true);
        s.next().await;
        drop(s);
        for _ in 0..100 {
            if read.load(Ordering::SeqCst) == 5 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("only {} of 5 chunks were read", read.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn without_a_need_for_usage_nothing_is_drained() {
        let read = Arc::new(AtomicUsize::new(0));
        let counter = read.clone();
        let chunks = futures::stream::iter(0..5).map(move |i| {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(bytes::Bytes::from(vec![i]))
        });
        let mut s = drain_on_disconnect(Box::pin(chunks), false);
        s.next().await;
        drop(s);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(read.load(Ordering::SeqCst), 1);
    }
}
