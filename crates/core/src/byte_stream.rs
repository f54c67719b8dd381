//! The one body type that flows between the upstream, the relay, the tap
//! and the server: bytes as they arrive, or the I/O error that broke them.

use std::pin::Pin;

use bytes::Bytes;
use futures::Stream;

pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;
