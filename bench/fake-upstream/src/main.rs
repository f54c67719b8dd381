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
//!
//! Faults for the soak test (bench/soak.sh), also by the model name's last part;
//! they repeat on every request, unlike the test fake's once-per-model faults:
//! - `status-CODE`: always that status with an OpenAI error body (`retry-after: 0` on 429);
//! - `flaky-CODE-N`: every Nth such request gets CODE, the others the normal answer
//!   (a proxy that retries turns them all into successes);
//! - `reset-N`: N stream chunks, then the connection breaks (no terminating chunk);
//! - `truncate-N`: N stream chunks, then a clean end without `[DONE]`;
//! - `stall-N-MS`: N stream chunks, then MS ms of silence (at most 60 s), then the rest;
//! - `drop`: the connection is closed before any response.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Mutex;
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

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// How a request misbehaves, from its model name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    Status(u16),
    Flaky(u16, u64),
    Reset(u32),
    Truncate(u32),
    Stall(u32, u64),
    Drop,
}

/// Requests seen by each `flaky-…` model, for every-Nth (a handful of names).
static FLAKY_SEEN: Mutex<BTreeMap<String, u64>> = Mutex::new(BTreeMap::new());

/// Whether this request is the Nth of its `flaky-…` model.
fn flaky_hit(model: &str, n: u64) -> bool {
    let mut seen = FLAKY_SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let count = seen.entry(model.to_string()).or_insert(0);
    *count += 1;
    if *count < n {
        return false;
    }
    *count = 0;
    true
}

fn fault(model: &str) -> Fault {
    let name = model.rsplit('/').next().unwrap_or(model);
    let parts: Vec<&str> = name.split('-').collect();
    let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u64>().ok());
    let n32 = |i: usize| num(i).and_then(|n| u32::try_from(n).ok());
    let code = |i: usize| num(i).and_then(|n| u16::try_from(n).ok()).filter(|c| (400..600).contains(c));
    match parts.first().copied() {
        Some("status") => code(1).map_or(Fault::None, Fault::Status),
        Some("flaky") => match (code(1), num(2)) {
            (Some(c), Some(n)) if n >= 1 => Fault::Flaky(c, n),
            _ => Fault::None,
        },
        Some("reset") => n32(1).map_or(Fault::None, Fault::Reset),
        Some("truncate") => n32(1).map_or(Fault::None, Fault::Truncate),
        Some("stall") => match (n32(1), num(2)) {
            (Some(n), Some(ms)) => Fault::Stall(n, ms.min(60_000)),
            _ => Fault::None,
        },
        Some("drop") => Fault::Drop,
        _ => Fault::None,
    }
}

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
            // A service error (the `drop` fault) closes the connection without a response.
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .serve_connection(TokioIo::new(tcp), service)
                .await;
        });
    }
}

async fn handle(args: Args, req: Request<Incoming>) -> Result<Response<Body>, std::io::Error> {
    if args.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(args.latency_ms)).await;
    }
    let resp = match (req.method(), req.uri().path()) {
        (&Method::POST, "/v1/chat/completions") => chat(args, req).await?,
        (&Method::GET, "/v1/models") => {
            json(StatusCode::OK, r#"{"object":"list","data":[{"id":"bench","object":"model"}]}"#)
        }
        _ => json(StatusCode::NOT_FOUND, r#"{"error":{"message":"no such route","type":"invalid_request_error"}}"#),
    };
    Ok(resp)
}

async fn chat(args: Args, req: Request<Incoming>) -> Result<Response<Body>, std::io::Error> {
    let query = req.uri().query().map(str::to_string);
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(json(StatusCode::BAD_REQUEST, r#"{"error":{"message":"body read failed"}}"#)),
    };
    let chat: ChatRequest = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(_) => return Ok(json(StatusCode::BAD_REQUEST, r#"{"error":{"message":"not a chat request"}}"#)),
    };
    let fault = match fault(&chat.model) {
        Fault::Flaky(code, n) if flaky_hit(&chat.model, n) => Fault::Status(code),
        Fault::Flaky(..) => Fault::None,
        f => f,
    };
    match fault {
        Fault::Drop => return Err(std::io::Error::other("drop fault: closing the connection")),
        Fault::Status(code) => return Ok(error_status(code)),
        _ => {}
    }
    if !chat.stream {
        return Ok(json(StatusCode::OK, COMPLETION));
    }
    let (chunks, delay_ms) = stream_shape(&args, &chat.model, query.as_deref());
    Ok(match fault {
        // The faulty prefix: N chunks, at least one, and never the whole stream.
        Fault::Reset(n) => sse_faulty(n, Tail::Reset),
        Fault::Truncate(n) => sse_faulty(n, Tail::End),
        Fault::Stall(n, ms) => sse_faulty(n, Tail::Stall(Duration::from_millis(ms))),
        _ => sse(chunks, Duration::from_millis(delay_ms)),
    })
}

/// What follows the healthy prefix of a faulty stream.
#[derive(Clone, Copy)]
enum Tail {
    Reset,
    End,
    Stall(Duration),
}

/// `prefix` chunks (a first and middle ones), then the tail: a broken
/// connection, a clean end without `[DONE]`, or a silence and then the end of a
/// normal stream (last chunk and `[DONE]`). Paced 5 ms apart, so that the head
/// and the prefix reach the wire before the tail (hyper would otherwise drop a
/// prefix that is still in its buffer when the body fails).
fn sse_faulty(prefix: u32, tail: Tail) -> Response<Body> {
    let prefix = prefix.max(1);
    let frames = stream::iter(0..prefix + 1).then(move |i| async move {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if i < prefix {
            let text = if i == 0 { FIRST_CHUNK } else { CHUNK };
            return Some(Ok(Frame::data(Bytes::from_static(text.as_bytes()))));
        }
        match tail {
            Tail::Reset => Some(Err(std::io::Error::other("reset fault: breaking the connection"))),
            Tail::End => None,
            Tail::Stall(d) => {
                tokio::time::sleep(d).await;
                Some(Ok(Frame::data(Bytes::from(format!("{LAST_CHUNK}{DONE}")))))
            }
        }
    });
    let frames = frames.take_while(|f| futures::future::ready(f.is_some())).filter_map(futures::future::ready);
    sse_response(BodyExt::boxed_unsync(StreamBody::new(frames)))
}

/// An OpenAI error body with `code`; a 429 says `retry-after: 0`.
fn error_status(code: u16) -> Response<Body> {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let text = format!(
        r#"{{"error":{{"message":"bench-upstream fault: HTTP {code}","type":"server_error","param":null,"code":null}}}}"#
    );
    let mut resp = Response::new(BodyExt::boxed_unsync(Full::new(Bytes::from(text)).map_err(|e| match e {})));
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if code == 429 {
        resp.headers_mut().insert("retry-after", HeaderValue::from_static("0"));
    }
    resp
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
        Ok::<_, std::io::Error>(Frame::data(Bytes::from_static(text.as_bytes())))
    });
    sse_response(BodyExt::boxed_unsync(StreamBody::new(frames)))
}

fn sse_response(body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

fn json(status: StatusCode, text: &'static str) -> Response<Body> {
    let body = Full::new(Bytes::from_static(text.as_bytes())).map_err(|e: Infallible| match e {});
    let mut resp = Response::new(BodyExt::boxed_unsync(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}
