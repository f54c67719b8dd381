//! What the gateway hands back: status, content type, which candidate
//! answered, and a body that is whole, relayed as it arrives, or an event
//! stream.

use bytes::Bytes;
use http::HeaderValue;

use crate::byte_stream::ByteStream;

/// What the server relays back to the client.
pub struct ProxyResponse {
    pub status: u16,
    pub content_type: Option<HeaderValue>,
    pub provider: String,
    /// `<provider>/<model>` of the candidate that answered.
    pub served_by: String,
    /// Candidates tried, the one that answered included (retries within one are not counted).
    pub attempts: u32,
    /// Headers the lifecycle's hooks set for the client (rate-limit state).
    pub headers: http::HeaderMap,
    pub body: ProxyBody,
}

/// A request that failed, with the headers its answer still carries.
#[derive(Debug)]
pub struct Failure {
    pub error: crate::error::GatewayError,
    pub headers: http::HeaderMap,
}

impl From<crate::error::GatewayError> for Failure {
    fn from(error: crate::error::GatewayError) -> Self {
        Self { error, headers: http::HeaderMap::new() }
    }
}

impl ProxyResponse {
    pub fn new(status: u16, content_type: Option<HeaderValue>, provider: &str, body: ProxyBody) -> Self {
        Self {
            status,
            content_type,
            provider: provider.to_string(),
            served_by: String::new(),
            attempts: 1,
            headers: http::HeaderMap::new(),
            body,
        }
    }
}

pub enum ProxyBody {
    Full(Bytes),
    /// An event stream for the client (relayed or produced by the gateway).
    Stream(ByteStream),
    /// A non-stream upstream body relayed as it arrives, with its length and
    /// any content coding the upstream client could not undo.
    Forward {
        stream: ByteStream,
        length: Option<u64>,
        encoding: Option<HeaderValue>,
    },
}

impl ProxyBody {
    /// The whole body, for callers that want it in memory (the SDK, `/test`);
    /// `Err` past `limit` bytes or when the body breaks.
    pub async fn collect(self, limit: usize) -> std::io::Result<Bytes> {
        use futures::StreamExt;
        let mut stream = match self {
            Self::Full(b) => return Ok(b),
            Self::Stream(s) | Self::Forward { stream: s, .. } => s,
        };
        let mut out = bytes::BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if out.len() + chunk.len() > limit {
                return Err(std::io::Error::other(format!("response larger than {limit} bytes")));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out.freeze())
    }
}
