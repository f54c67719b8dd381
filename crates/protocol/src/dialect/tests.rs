use serde_json::json;

use super::*;
use crate::canonical::{BlockDelta, BlockStart, StopReason, StreamEvent, Usage};
use crate::sse::SseParser;

fn text(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or("<not utf-8>")
}

// The bytes the passthrough relay (core/src/relay.rs `error_event`) writes
// today; a change here is a change clients see.
#[test]
fn stream_error_events_are_pinned_per_dialect() {
    let chat = "data: {\"error\":{\"message\":\"boom \\\"x\\\"\",\"type\":\"server_error\",\"param\":null,\"code\":\"upstream_stream_truncated\"}}\n\n";
    assert_eq!(text(&Dialect::OpenAiChat.stream_error_event("boom \"x\"", "upstream_stream_truncated")), chat);
    assert_eq!(text(&Dialect::OpenAiCompletions.stream_error_event("boom \"x\"", "upstream_stream_truncated")), chat);
    assert_eq!(
        text(&Dialect::OpenAiResponses.stream_error_event("boom", "upstream_stream_idle_timeout")),
        "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"id\":\"\",\"object\":\"response\",\
         \"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"boom\"},\"output\":[]}}\n\n"
    );
    assert_eq!(
        text(&Dialect::AnthropicMessages.stream_error_event("boom", "upstream_stream_error")),
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"boom\"}}\n\n"
    );
}

#[test]
fn a_stream_error_event_is_terminal_in_its_own_dialect() {
    for d in Dialect::ALL {
        let bytes = d.stream_error_event("boom", "upstream_stream_error");
        let mut scanner = d.terminal_scanner();
        assert!(!scanner.push(b"data: {\"partial\":1}\n\n"), "{d:?}");
        assert!(scanner.push(&bytes), "{d:?}: {}", text(&bytes));
        // One well-formed SSE event, nothing left over.
        let mut parser = SseParser::new();
        assert_eq!(parser.push(&bytes).len(), 1, "{d:?}");
        assert!(!parser.has_partial_event(), "{d:?}");
    }
}

#[test]
fn upstream_stream_ends_are_recognised_by_the_scanner() {
    let ends: [(Dialect, &[u8]); 6] = [
        (Dialect::OpenAiChat, b"data: {\"choices\":[]}\n\ndata: [DONE]\n\n"),
        (Dialect::OpenAiChat, b"data: {\"choices\":[]}\r\n\r\ndata:[DONE]\r\n\r\n"),
        (Dialect::OpenAiCompletions, b"data: {\"choices\":[]}\n\ndata: [DONE]\n\n"),
        (Dialect::OpenAiResponses, b"event: response.created\ndata: {}\n\nevent: response.completed\ndata: {}\n\n"),
        (Dialect::OpenAiResponses, b"data: {\"type\":\"response.incomplete\",\"response\":{}}\n\n"),
        (
            Dialect::AnthropicMessages,
            b"event: ping\ndata: {}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        ),
    ];
    for (d, stream) in ends {
        assert!(d.terminal_scanner().push(stream), "{d:?}: {}", text(stream));
        // Split anywhere, it is still found.
        for cut in 0..=stream.len() {
            let mut s = d.terminal_scanner();
            let found = s.push(&stream[..cut]) | s.push(&stream[cut..]);
            assert!(found, "{d:?} cut at {cut}");
        }
    }
    let unfinished: [(Dialect, &[u8]); 3] = [
        (Dialect::OpenAiChat, b"data: {\"c\":\"data: [DONE]\"}\n\n"),
        (Dialect::OpenAiResponses, b"event: response.created\ndata: {\"type\":\"response.created\"}\n\n"),
        (Dialect::AnthropicMessages, b"event: message_delta\ndata: {\"type\":\"message_delta\"}\n\n"),
    ];
    for (d, stream) in unfinished {
        assert!(!d.terminal_scanner().push(stream), "{d:?}: {}", text(stream));
    }
}

fn setup<'a>(ctx: &'a ResponsesContext) -> EncoderSetup<'a> {
    EncoderSetup { model: "m", created: 1_700_000_000, include_usage: true, responses: ctx }
}

/// A short answer through a dialect's own encoder.
fn encoded(d: Dialect, events: &[StreamEvent]) -> Vec<u8> {
    let ctx = ResponsesContext::default();
    let mut enc = d.encoder(&setup(&ctx));
    events.iter().flat_map(|e| enc.encode(e)).flat_map(|b| b.to_vec()).collect()
}

fn answer() -> Vec<StreamEvent> {
    vec![
        StreamEvent::MessageStart { id: "msg_1".into(), model: "m".into(), usage: Usage::default() },
        StreamEvent::BlockStart { index: 0, block: BlockStart::Text },
        StreamEvent::BlockDelta { index: 0, delta: BlockDelta::Text("hi".into()) },
        StreamEvent::BlockStop { index: 0 },
        StreamEvent::MessageDelta { stop_reason: StopReason::EndTurn, stop_sequence: None, usage: Usage::default() },
    ]
}

#[test]
fn every_encoder_ends_with_a_terminal_marker_of_its_dialect() {
    for d in Dialect::ALL {
        let open = encoded(d, &answer());
        assert!(!d.terminal_scanner().push(&open), "{d:?} ended before message_stop: {}", text(&open));
        let mut whole = answer();
        whole.push(StreamEvent::MessageStop);
        let done = encoded(d, &whole);
        assert!(d.terminal_scanner().push(&done), "{d:?}: {}", text(&done));
        let mut failed = answer();
        failed.push(StreamEvent::Error { kind: "server_error".into(), message: "boom".into() });
        let failed = encoded(d, &failed);
        assert!(d.terminal_scanner().push(&failed), "{d:?}: {}", text(&failed));
    }
}

#[test]
fn decoders_exist_for_the_upstream_dialects_only() {
    for d in Dialect::ALL {
        assert_eq!(d.decoder(ToolNames::default()).is_some(), d.upstream().is_some(), "{d:?}");
        if let Some(u) = d.upstream() {
            assert_eq!(u.dialect(), d);
        }
    }
    let mut dec = UpstreamDialect::AnthropicMessages.decoder(ToolNames::default());
    let events = dec.event(Some("message_stop"), "{\"type\":\"message_stop\"}");
    assert_eq!(events, vec![StreamEvent::MessageStop]);
    assert!(dec.is_complete());
    let mut dec = UpstreamDialect::OpenAiChat.decoder(ToolNames::default());
    dec.event(None, "[DONE]");
    assert!(dec.is_complete());
}

fn report(status: u16) -> ErrorReport<'static> {
    ErrorReport { status, message: "nope", ..ErrorReport::default() }
}

#[test]
fn error_types_per_status_agree_with_each_dialects_table() {
    // (status, OpenAI type, Anthropic type)
    let table = [
        (400, "invalid_request_error", "invalid_request_error"),
        (401, "authentication_error", "authentication_error"),
        (402, "server_error", "billing_error"),
        (403, "permission_error", "permission_error"),
        (404, "invalid_request_error", "not_found_error"),
        (408, "server_error", "api_error"),
        (409, "invalid_request_error", "invalid_request_error"),
        (413, "invalid_request_error", "request_too_large"),
        (422, "invalid_request_error", "invalid_request_error"),
        (429, "rate_limit_error", "rate_limit_error"),
        (500, "server_error", "api_error"),
        (502, "server_error", "api_error"),
        (503, "server_error", "api_error"),
        (504, "server_error", "timeout_error"),
        (529, "server_error", "overloaded_error"),
    ];
    for (status, openai, anthropic) in table {
        for d in [Dialect::OpenAiChat, Dialect::OpenAiResponses, Dialect::OpenAiCompletions] {
            assert_eq!(d.error_type(status, None), openai, "{d:?} {status}");
            assert_eq!(d.error_body(&report(status))["error"]["type"], openai, "{d:?} {status}");
        }
        assert_eq!(Dialect::AnthropicMessages.error_type(status, None), anthropic, "{status}");
        assert_eq!(Dialect::AnthropicMessages.error_body(&report(status))["error"]["type"], anthropic, "{status}");
    }
}

#[test]
fn openai_error_bodies_carry_all_four_keys_in_order() {
    let body = Dialect::OpenAiChat.error_body(&ErrorReport {
        status: 400,
        message: "`messages` is required",
        param: Some("messages"),
        code: Some("invalid_json"),
        ..ErrorReport::default()
    });
    assert_eq!(
        body.to_string(),
        r#"{"error":{"message":"`messages` is required","type":"invalid_request_error","param":"messages","code":"invalid_json"}}"#
    );
    let bare = Dialect::OpenAiResponses.error_body(&report(500));
    assert_eq!(bare, json!({"error": {"message": "nope", "type": "server_error", "param": null, "code": null}}));
}

#[test]
fn an_upstreams_error_type_is_kept_where_the_dialect_has_it() {
    let upstream = |kind| ErrorReport { status: 503, message: "busy", upstream_type: Some(kind), ..report(503) };
    // OpenAI clients get any upstream type verbatim.
    assert_eq!(Dialect::OpenAiChat.error_body(&upstream("overloaded_error"))["error"]["type"], "overloaded_error");
    // Anthropic clients only get Anthropic's own types; others map by status.
    assert_eq!(
        Dialect::AnthropicMessages.error_body(&upstream("overloaded_error"))["error"]["type"],
        "overloaded_error"
    );
    assert_eq!(Dialect::AnthropicMessages.error_body(&upstream("server_error"))["error"]["type"], "api_error");
}

#[test]
fn anthropic_error_bodies_name_the_param_in_the_message() {
    let d = Dialect::AnthropicMessages;
    let body = d.error_body(&ErrorReport { param: Some("max_tokens"), code: Some("x"), ..report(400) });
    assert_eq!(
        body.to_string(),
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: nope"}}"#
    );
    // Not twice, when the message already names it.
    let body =
        d.error_body(&ErrorReport { message: "`max_tokens` is required", param: Some("max_tokens"), ..report(400) });
    assert_eq!(body["error"]["message"], "`max_tokens` is required");
}

#[test]
fn names_follow_the_architecture() {
    let names: Vec<_> = Dialect::ALL.iter().map(|d| d.name()).collect();
    assert_eq!(names, ["openai.chat", "openai.responses", "openai.completions", "anthropic.messages"]);
}
