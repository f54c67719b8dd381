//! One translation, start to end: a client request in one dialect becomes an
//! upstream request in another, and the upstream's answer (whole or streamed)
//! comes back in the client's dialect. Pure: the caller does the I/O and
//! supplies the clock (`created`).

use bytes::Bytes;
use serde_json::Value;

use crate::anthropic::request::{self as anthropic_request, AnthropicTarget};
use crate::anthropic::response as anthropic_response;
use crate::canonical::{self, ConvertError, Request, Response, StreamDecoder, StreamEncoder};
use crate::dialect::{Dialect, EncoderSetup, UpstreamDialect};
use crate::openai::chat::{request as chat_request, response as chat_response, ToolNames};
use crate::openai::completions;
use crate::openai::responses::{self, ResponsesContext};

/// Everything the way back needs to know about the way out.
#[derive(Debug, Clone)]
pub struct Translation {
    pub client: Dialect,
    pub upstream: UpstreamDialect,
    /// The model id echoed to the client.
    pub model: String,
    pub created: i64,
    pub include_usage: bool,
    pub stream: bool,
    names: ToolNames,
    ctx: ResponsesContext,
}

/// Parses a client request into the canonical model.
pub fn parse_request(client: Dialect, body: &Value) -> Result<(Request, ResponsesContext), ConvertError> {
    match client {
        Dialect::OpenAiChat => chat_request::request_to_canonical(body).map(|r| (r, ResponsesContext::default())),
        Dialect::OpenAiResponses => responses::request_to_canonical(body),
        Dialect::OpenAiCompletions => completions::request_to_canonical(body).map(|r| (r, ResponsesContext::default())),
        Dialect::AnthropicMessages => {
            anthropic_request::request_to_canonical(body).map(|r| (r, ResponsesContext::default()))
        }
    }
}

/// Translates a client request for the upstream. `model` is the upstream model id.
pub fn translate_request(
    client: Dialect,
    upstream: UpstreamDialect,
    body: &Value,
    model: &str,
    target: &AnthropicTarget,
    created: i64,
) -> Result<(Value, Translation), ConvertError> {
    let (mut req, ctx) = parse_request(client, body)?;
    req.model = model.to_string();
    let mut names = ToolNames::default();
    let out = match upstream {
        UpstreamDialect::AnthropicMessages => anthropic_request::request_from_canonical(&req, target)?,
        UpstreamDialect::OpenAiChat => chat_request::request_from_canonical(&req, &mut names)?,
    };
    let t = Translation {
        client,
        upstream,
        model: model.to_string(),
        created,
        include_usage: req.include_usage,
        stream: req.stream,
        names,
        ctx,
    };
    Ok((out, t))
}

/// A complete answer in `client`'s dialect, without a translation's context
/// (the request log's view of an assembled stream; `created` reads as 0).
pub fn assembled_response(client: Dialect, resp: &Response) -> Value {
    match client {
        Dialect::OpenAiChat => chat_response::response_from_canonical(resp, &resp.model, 0),
        Dialect::OpenAiResponses => {
            responses::response_from_canonical(resp, &resp.model, 0, &ResponsesContext::default())
        }
        Dialect::OpenAiCompletions => completions::response_from_canonical(resp, &resp.model, 0),
        Dialect::AnthropicMessages => anthropic_response::response_from_canonical(resp, &resp.model),
    }
}

impl Translation {
    /// The upstream's complete answer, in canonical form.
    pub fn upstream_response(&self, body: &Value) -> Result<Response, ConvertError> {
        match self.upstream {
            UpstreamDialect::AnthropicMessages => anthropic_response::response_to_canonical(body),
            UpstreamDialect::OpenAiChat => chat_response::response_to_canonical(body, &self.names),
        }
    }

    /// A canonical answer in the client's dialect.
    pub fn client_response(&self, resp: &Response) -> Value {
        match self.client {
            Dialect::OpenAiChat => chat_response::response_from_canonical(resp, &self.model, self.created),
            Dialect::OpenAiResponses => responses::response_from_canonical(resp, &self.model, self.created, &self.ctx),
            Dialect::OpenAiCompletions => completions::response_from_canonical(resp, &self.model, self.created),
            Dialect::AnthropicMessages => anthropic_response::response_from_canonical(resp, &self.model),
        }
    }

    /// The upstream's complete answer in the client's dialect.
    pub fn response(&self, body: &Value) -> Result<Value, ConvertError> {
        Ok(self.client_response(&self.upstream_response(body)?))
    }

    pub fn decoder(&self) -> Box<dyn StreamDecoder> {
        self.upstream.decoder(self.names.clone())
    }

    pub fn encoder(&self) -> Box<dyn StreamEncoder> {
        self.client.encoder(&EncoderSetup {
            model: &self.model,
            created: self.created,
            include_usage: self.include_usage,
            responses: &self.ctx,
        })
    }

    /// A complete answer replayed as the client's stream (for an upstream that
    /// answered a streaming request with one JSON body).
    pub fn replay_as_stream(&self, resp: &Response) -> Bytes {
        let mut encoder = self.encoder();
        let mut out = Vec::new();
        for e in canonical::events_from_response(resp) {
            for b in encoder.encode(&e) {
                out.extend_from_slice(&b);
            }
        }
        Bytes::from(out)
    }

    /// Runs a whole upstream SSE body through decoder and encoder (tests, tools).
    pub fn transcode_all(&self, upstream_sse: &[u8]) -> Bytes {
        let mut parser = crate::sse::SseParser::new();
        let mut decoder = self.decoder();
        let mut encoder = self.encoder();
        let mut out = Vec::new();
        let mut events = Vec::new();
        for e in parser.push(upstream_sse) {
            events.extend(decoder.event(e.event.as_deref(), &e.data));
        }
        events.extend(decoder.end());
        for e in &events {
            for b in encoder.encode(e) {
                out.extend_from_slice(&b);
            }
        }
        Bytes::from(out)
    }
}
