//! A response body polled (and dropped) inside its request's log span: the
//! relay's lines and a settlement by drop happen in hyper's connection task,
//! after the handler's instrumented future is gone, and still name the request.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use switchyard_core::relay::ByteStream;

pub(crate) struct InSpan {
    /// `None` only while dropping.
    inner: Option<ByteStream>,
    span: tracing::Span,
}

impl InSpan {
    /// `stream` in the current span.
    pub(crate) fn current(stream: ByteStream) -> Self {
        Self { inner: Some(stream), span: tracing::Span::current() }
    }
}

impl Stream for InSpan {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let _in_span = this.span.enter();
        match this.inner.as_mut() {
            Some(inner) => inner.as_mut().poll_next(cx),
            None => Poll::Ready(None),
        }
    }
}

impl Drop for InSpan {
    fn drop(&mut self) {
        let _in_span = self.span.enter();
        drop(self.inner.take());
    }
}
