//! Micro-benchmarks of the pure hot spots: SSE framing, the passthrough body
//! rewrite, and translation of requests and streams (fed by the real captures).
//! `cargo bench -p switchyard-protocol`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;
use switchyard_protocol::anthropic::request::AnthropicTarget;
use switchyard_protocol::dialect::Dialect;
use switchyard_protocol::dialect::UpstreamDialect;
use switchyard_protocol::raw_json::RawObject;
use switchyard_protocol::sse::SseParser;
use switchyard_protocol::translate::translate_request;

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn claude_code_request() -> Value {
    let line = fixture("captures/claude-code-2.1.332-tool-loop.jsonl").lines().nth(2).unwrap().to_string();
    serde_json::from_str::<Value>(&line).unwrap()["body"].clone()
}

fn benches(c: &mut Criterion) {
    let chat_sse = fixture("upstream/chat-stream.sse");
    let anthropic_sse = fixture("upstream/anthropic-stream.sse");

    let mut g = c.benchmark_group("sse");
    g.throughput(Throughput::Bytes(chat_sse.len() as u64));
    g.bench_function("parse chat stream", |b| b.iter(|| SseParser::new().push(chat_sse.as_bytes()).len()));
    g.bench_function("terminal scan chat stream", |b| {
        b.iter(|| Dialect::OpenAiChat.terminal_scanner().push(chat_sse.as_bytes()))
    });
    g.finish();

    let body = serde_json::to_vec(&claude_code_request()).unwrap();
    let mut g = c.benchmark_group("passthrough");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("rewrite model of a Claude Code request (50 KB)", |b| {
        b.iter(|| RawObject::parse(&body).unwrap().rewrite("claude", &[]).len())
    });
    g.finish();

    let request = claude_code_request();
    let mut g = c.benchmark_group("translate");
    g.bench_function("Claude Code request → OpenAI chat", |b| {
        b.iter(|| {
            translate_request(
                Dialect::AnthropicMessages,
                UpstreamDialect::OpenAiChat,
                &request,
                "m",
                &AnthropicTarget::default(),
                0,
            )
            .unwrap()
        })
    });
    let (_, to_chat) = translate_request(
        Dialect::AnthropicMessages,
        UpstreamDialect::OpenAiChat,
        &request,
        "m",
        &AnthropicTarget::default(),
        0,
    )
    .unwrap();
    g.throughput(Throughput::Bytes(chat_sse.len() as u64));
    g.bench_function("chat stream → Anthropic events", |b| {
        b.iter(|| to_chat.transcode_all(chat_sse.as_bytes()).len())
    });
    let chat_request: Value = serde_json::from_str(&fixture("requests/chat-edge.json")).unwrap();
    let (_, to_anthropic) = translate_request(
        Dialect::OpenAiChat,
        UpstreamDialect::AnthropicMessages,
        &chat_request,
        "m",
        &AnthropicTarget::default(),
        0,
    )
    .unwrap();
    g.throughput(Throughput::Bytes(anthropic_sse.len() as u64));
    g.bench_function("Anthropic stream → chat chunks", |b| {
        b.iter(|| to_anthropic.transcode_all(anthropic_sse.as_bytes()).len())
    });
    g.finish();
}

criterion_group!(convert, benches);
criterion_main!(convert);
