//! A fast fake OpenAI-compatible upstream for benchmarks.
//!
//! `POST /v1/chat/completions` answers a fixed small `chat.completion`, or, with
//! `"stream": true`, N SSE chunks and `data: [DONE]`. The model name (the part
//! after its last `/`) sets the stream's shape:
//! - `stream-N`: N chunks, sent as fast as possible;
//! - `slow-N-MS`: N chunks, one every MS milliseconds (the first at once);
//! - anything else: `--chunks` chunks every `--chunk-delay-ms`.
//!
//! The query parameters `chunks` and `delay_ms` override the model name.
//! `--latency-ms` delays every response head. Nothing is recorded or logged:
//! this is not the test fake (crates/testkit), it is built to stay out of the way.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use futures::stream::{self, StreamExt};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Deserialize;
use tokio::net::TcpSocket;

#[derive(Parser, Clone, Copy)]
#[command(about = "Fast fake OpenAI chat upstream for benchmarks")]
struct Args {
    /// Listen address (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Fixed delay before every response head, in milliseconds.
    #[arg(long, env = "FAKE_UPSTREAM_LATENCY_MS", default_value_t = 0)]
    latency_ms: u64,
    /// Stream chunks when the model name does not say.
    #[arg(long, env = "FAKE_UPSTREAM_CHUNKS", default_value_t = 10)]
    chunks: u32,
    /// Delay between stream chunks when the model name does not say, in milliseconds.
    #[arg(long, env = "FAKE_UPSTREAM_CHUNK_DELAY_MS", default_value_t = 0)]
    chunk_delay_ms: u64,
}

const COMPLETION: &str = concat!(
    r#"{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench","#,
    r#""choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the bench upstream."},"#,
    r#""finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":7,"total_tokens":17}}"#
);
const FIRST_CHUNK: &str = concat!(
    r#"data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","#,
    r#""choices":[{"index":0,"delta":{"role":"assistant","content":"tok "},"finish_reason":null}]}"#,
    "\n\n"
);
const CHUNK: &str = concat!(
    r#"data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","#,
    r#""choices":[{"index":0,"delta":{"content":"tok "},"finish_reason":null}]}"#,
    "\n\n"
);
const LAST_CHUNK: &str = concat!(
    r#"data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench","#,
    r#""choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"#,
    r#""usage":{"prompt_tokens":10,"completion_tokens":50,"total_tokens":60}}"#,
    "\n\n"
);
const DONE: &str = "data: [DONE]\n\n";

type Body = UnsyncBoxBody<Bytes, Infallible>;

#[derive(Deserialize)]
struct ChatRequest {
    model: String,
    #[serde(default)]
    stream: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    // One worker per CPU this process may run on (taskset narrows it).
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    // A deep accept queue: 2,000 clients connecting at once must not overflow it (tokio's default is 1,024).
    let socket = if args.listen.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(args.listen)?;
    let listener = socket.listen(8192)?;
    println!("fake-upstream listening on http://{}", listener.local_addr()?);
    std::io::stdout().flush()?;
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(conn) => conn,
            // Out of file descriptors and the like: back off instead of spinning.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(args, req));
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

async fn handle(args: Args, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if args.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(args.latency_ms)).await;
    }
    let resp = match (req.method(), req.uri().path()) {
        (&Method::POST, "/v1/chat/completions") => chat(args, req).await,
        (&Method::GET, "/v1/models") => {
            json(StatusCode::OK, r#"{"object":"list","data":[{"id":"bench","object":"model"}]}"#)
        }
        _ => json(StatusCode::NOT_FOUND, r#"{"error":{"message":"no such route","type":"invalid_request_error"}}"#),
    };
    Ok(resp)
}

async fn chat(args: Args, req: Request<Incoming>) -> Response<Body> {
    let query = req.uri().query().map(str::to_string);
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return json(StatusCode::BAD_REQUEST, r#"{"error":{"message":"body read failed"}}"#),
    };
    let chat: ChatRequest = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(_) => return json(StatusCode::BAD_REQUEST, r#"{"error":{"message":"not a chat request"}}"#),
    };
    if !chat.stream {
        return json(StatusCode::OK, COMPLETION);
    }
    let (chunks, delay_ms) = stream_shape(&args, &chat.model, query.as_deref());
    sse(chunks, Duration::from_millis(delay_ms))
}

/// Chunk count and pacing: query parameters, else the model name, else the flags.
fn stream_shape(args: &Args, model: &str, query: Option<&str>) -> (u32, u64) {
    let name = model.rsplit('/').next().unwrap_or(model);
    let mut parts = name.split('-');
    let (mut chunks, mut delay) = match (parts.next(), parts.next(), parts.next()) {
        (Some("stream"), Some(n), None) => (n.parse().unwrap_or(args.chunks), 0),
        (Some("slow"), Some(n), Some(ms)) => {
            (n.parse().unwrap_or(args.chunks), ms.parse().unwrap_or(args.chunk_delay_ms))
        }
        _ => (args.chunks, args.chunk_delay_ms),
    };
    for (key, value) in query.unwrap_or("").split('&').filter_map(|kv| kv.split_once('=')) {
        match key {
            "chunks" => chunks = value.parse().unwrap_or(chunks),
            "delay_ms" => delay = value.parse().unwrap_or(delay),
            _ => {}
        }
    }
    (chunks.max(1), delay)
}

fn sse(chunks: u32, delay: Duration) -> Response<Body> {
    let frames = stream::iter(0..=chunks).then(move |i| async move {
        // The first chunk leaves at once, and [DONE] right after the last one.
        if i > 0 && i < chunks && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let text = match i {
            0 if chunks > 1 => FIRST_CHUNK,
            i if i == chunks => DONE,
            i if i == chunks - 1 => LAST_CHUNK,
            _ => CHUNK,
        };
        Ok::<_, Infallible>(Frame::data(Bytes::from_static(text.as_bytes())))
    });
    let mut resp = Response::new(BodyExt::boxed_unsync(StreamBody::new(frames)));
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

fn json(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut resp = Response::new(BodyExt::boxed_unsync(Full::new(Bytes::from_static(text.as_bytes()))));
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}
