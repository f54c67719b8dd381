#!/usr/bin/env python3
"""Rebuilds the committed seed corpus, fuzz/corpus/<target>/, from the repo's
fixtures: the real Claude Code and Codex captures, the hand-written edge
requests, the upstream answers and streams, the golden snapshots (translated
requests, responses and streams), the example config, and a few hand-written
model lists and error bodies. Deterministic; stdlib only.

    python3 fuzz/make-corpus.py      # from the repository root
"""
import hashlib
import json
import pathlib
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIX = ROOT / "crates/protocol/tests/fixtures"
SNAP = ROOT / "crates/protocol/tests/snapshots"
OUT = ROOT / "fuzz/corpus"

corpus: dict[str, dict[str, bytes]] = {}


def add(target: str, name: str, data) -> None:
    if isinstance(data, str):
        data = data.encode()
    elif not isinstance(data, bytes):
        data = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    corpus.setdefault(target, {})[name] = data


def slim(v, depth=0):
    """The same shape with long strings cut and long arrays shortened: small
    seeds mutate faster and still reach every branch the full body reaches."""
    if isinstance(v, str):
        return v if len(v) <= 120 else v[:120]
    if isinstance(v, list):
        return [slim(x, depth + 1) for x in v[:4]]
    if isinstance(v, dict):
        return {k: slim(x, depth + 1) for k, x in v.items()}
    return v


def captures(name: str):
    for line in (FIX / "captures" / name).read_text().splitlines():
        r = json.loads(line)
        if r.get("method") == "POST":
            yield r["body"]


def snapshot(name: str) -> str:
    text = (SNAP / name).read_text()
    # insta header: ---\n…\n---\n
    return text.split("---\n", 2)[2]


def fixture_json(path: str):
    return json.loads((FIX / path).read_text())


# ---------------------------------------------------------------- requests
claude = list(captures("claude-code-2.1.332-simple.jsonl")) + list(captures("claude-code-2.1.332-tool-loop.jsonl"))
codex = list(captures("codex-cli-0.169.0-tool-loop.jsonl"))
requests = {
    "anthropic": [("messages-edge", fixture_json("requests/messages-edge.json"))],
    "chat": [("chat-edge", fixture_json("requests/chat-edge.json"))],
    "responses": [("responses-edge", fixture_json("requests/responses-edge.json"))],
    "completions": [("completions-edge", fixture_json("requests/completions-edge.json"))],
}
for i, body in enumerate(claude):
    requests["anthropic"].append((f"claude-code-{i}-slim", slim(body)))
requests["anthropic"].append(("claude-code-tool-loop-full", claude[-1]))
for i, body in enumerate(codex):
    requests["responses"].append((f"codex-{i}-slim", slim(body)))
requests["responses"].append(("codex-tool-loop-full", codex[-1]))
# Golden snapshots: translated requests are requests of the upstream dialect.
for snap in sorted(SNAP.glob("*__request.snap")):
    dialect = "anthropic" if "_to_anthropic__" in snap.name else "chat"
    requests[dialect].append((snap.name.removeprefix("golden__").removesuffix(".snap"), slim(json.loads(snapshot(snap.name)))))
# Small hand-written ones, one feature each.
requests["chat"] += [
    ("chat-min", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}),
    ("chat-stream-usage", {"model": "m", "stream": True, "stream_options": {"include_usage": True}, "n": 1,
                           "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}]}),
    ("chat-tools", {"model": "m", "tool_choice": {"type": "function", "function": {"name": "f"}}, "parallel_tool_calls": False,
                    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}, "strict": True}}],
                    "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                                 {"role": "tool", "tool_call_id": "c1", "content": "ok"}]}),
    ("chat-format", {"model": "m", "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {}}}, "reasoning_effort": "high", "max_completion_tokens": 5, "stop": ["x"], "messages": [{"role": "developer", "content": "d"}, {"role": "user", "content": "u"}]}),
]
requests["anthropic"] += [
    ("messages-min", {"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}),
    ("messages-thinking-tools", {"model": "m", "max_tokens": 2048, "thinking": {"type": "enabled", "budget_tokens": 1024}, "system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}],
                                 "tools": [{"name": "Bash", "input_schema": {"type": "object"}}], "tool_choice": {"type": "any"},
                                 "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": [{"type": "thinking", "thinking": "t", "signature": "sig"}, {"type": "redacted_thinking", "data": "r"}, {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {"command": "ls"}}]},
                                              {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "a"}, {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}], "is_error": True}]}]}),
]
requests["responses"] += [
    ("responses-min", {"model": "m", "input": "hi"}),
    ("responses-items", {"model": "m", "instructions": "be brief", "store": False, "reasoning": {"effort": "low", "summary": "auto"}, "text": {"format": {"type": "json_schema", "name": "s", "schema": {}}},
                         "tools": [{"type": "function", "name": "f", "parameters": {}}], "previous_response_id": None,
                         "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}, {"type": "input_image", "image_url": "https://e/x.png"}]},
                                   {"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"}, {"type": "function_call_output", "call_id": "c1", "output": "ok"},
                                   {"type": "reasoning", "summary": [{"type": "summary_text", "text": "s"}], "encrypted_content": "e"}]}),
]
requests["completions"] += [
    ("completions-min", {"model": "m", "prompt": "hi"}),
    ("completions-array", {"model": "m", "prompt": ["a", "b"], "max_tokens": 3, "stream": True, "stream_options": {"include_usage": True}, "echo": False, "suffix": None, "n": 1}),
]
for dialect, items in requests.items():
    for name, body in items:
        add(f"{dialect}_request", name, body)
        add("translate_request", name, body)
        if "full" not in name:
            add("raw_object", name, body)
add("raw_object", "model-escaped", r'{"mod\u0065l":"p/m","stream":null,"messages":[ ]}')
add("raw_object", "dup-model", '{"model":"a","store":true,"model":"b","tools":[{"function":{"strict":true}}],"messages":[1]}')

# ---------------------------------------------------------------- upstream answers
add("upstream_response", "anthropic-message", (FIX / "upstream/anthropic-message.json").read_bytes())
add("upstream_response", "chat-completion", (FIX / "upstream/chat-completion.json").read_bytes())
for snap in sorted(SNAP.glob("*__response.snap")):
    add("upstream_response", snap.name.removeprefix("golden__").removesuffix(".snap"), json.loads(snapshot(snap.name)))
add("upstream_response", "chat-tool-calls", {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": None, "reasoning_content": "r", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7, "prompt_tokens_details": {"cached_tokens": 1}}})

# ---------------------------------------------------------------- streams
chat_sse = (FIX / "upstream/chat-stream.sse").read_text()
anthropic_sse = (FIX / "upstream/anthropic-stream.sse").read_text()
chat_tools_sse = "".join(
    f"data: {json.dumps(c, separators=(',', ':'))}\n\n"
    for c in [
        {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
        {"id": "x", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}, "finish_reason": None}]},
        {"id": "x", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"loc"}}, {"index": 1, "id": "call_2", "function": {"name": "g", "arguments": "{}"}}]}, "finish_reason": None}]},
        {"id": "x", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {"id": "x", "choices": [], "usage": {"prompt_tokens": 20, "completion_tokens": 9, "total_tokens": 29}},
    ]
) + "data: [DONE]\n\n"
anthropic_tool_sse = "".join(
    f"event: {e['type']}\ndata: {json.dumps(e, separators=(',', ':'))}\n\n"
    for e in [
        {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "model": "m", "content": [], "stop_reason": None, "usage": {"input_tokens": 10, "output_tokens": 1, "cache_read_input_tokens": 2}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"command\": \"ls\"}"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None}, "usage": {"output_tokens": 20}},
        {"type": "message_stop"},
    ]
)
chat_streams = {
    "chat-stream": chat_sse,
    "chat-stream-crlf": chat_sse.replace("\n", "\r\n"),
    "chat-stream-truncated": chat_sse[: len(chat_sse) // 2],
    "chat-stream-no-done": chat_sse.replace("data: [DONE]", ""),
    "chat-tools": chat_tools_sse,
    "chat-error": 'data: {"id":"x","choices":[{"index":0,"delta":{"content":"a"}}]}\n\ndata: {"error":{"message":"boom","type":"server_error"}}\n\n',
}
anthropic_streams = {
    "anthropic-stream": anthropic_sse,
    "anthropic-stream-cr": anthropic_sse.replace("\n", "\r"),
    "anthropic-stream-truncated": anthropic_sse[: len(anthropic_sse) // 2],
    "anthropic-tool": anthropic_tool_sse,
    "anthropic-error": 'event: message_start\ndata: {"type":"message_start","message":{"id":"m","usage":{"input_tokens":1}}}\n\n: comment\n\nevent: ping\ndata: {"type":"ping"}\n\nevent: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
}
for snap in sorted(SNAP.glob("*__stream.snap")):
    name = snap.name.removeprefix("golden__").removesuffix(".snap")
    text = snapshot(snap.name)
    if name.startswith("messages_to_"):
        anthropic_streams[name] = text
    elif name.startswith("chat_to_") or name.startswith("completions_"):
        chat_streams[name] = text
    else:
        add("sse", name, text)
for name, text in chat_streams.items():
    add("chat_stream", name, text)
    add("sse", name, text)
for name, text in anthropic_streams.items():
    add("anthropic_stream", name, text)
    add("sse", name, text)
add("sse", "fields", "retry: 5\nid: 7\nid: a\0b\nevent: x\ndata\ndata:\ndata:  two spaces\n:comment\nbogus: 1\n\n\r\n\rdata: [DONE]")
add("sse", "done-split", "x\r\ndata:[DONE]\r\n\r\n")

# ---------------------------------------------------------------- config
example = json.loads((ROOT / "examples/databricks.json").read_text())
add("config", "databricks-example", (ROOT / "examples/databricks.json").read_bytes())
for name, provider in example.get("providers", {}).items():
    add("config", f"provider-{name}", {"providers": {name: provider}})
    add("config", f"single-{name}", {name: provider})
add("config", "empty", "{}")
add("config", "custom-min", {"providers": {"p": {"network_config": {"base_url": "https://gw.example/mlflow"}, "custom_provider_config": {"base_provider_type": "openai", "is_key_less": True}}}})
add("config", "builtin-keys", {"providers": {"openai": {"keys": [{"name": "k", "value": "env.KEY", "models": ["gpt-4o"], "weight": 1.0}],
                                                          "network_config": {"base_url": "http://127.0.0.1:1", "default_request_timeout_in_seconds": 0, "max_retries": 99, "extra_headers": {"X": "Bearer env."}}}},
                                      "client": {"max_request_body_size_mb": 18446744073709551615}})
add("config", "typos", {"provders": {}, "providers": {"p": {"netwrk_config": {}, "custom_provider_config": {"base_provider_type": "gemini", "allowed_requests": {"chat": True}, "request_path_overrides": {"list_models": "not a url"}}}}})

# ---------------------------------------------------------------- model lists
add("model_list", "openai", {"object": "list", "data": [{"id": "gpt", "object": "model", "created": 5, "owned_by": "o"}]})
add("model_list", "anthropic", {"data": [{"type": "model", "id": "claude", "display_name": "C", "created_at": "2025-01-01T00:00:00Z"}], "has_more": True, "first_id": "claude", "last_id": "claude"})
add("model_list", "unity-catalog", {"registered_models": [{"name": "m", "full_name": "main.default.m", "created_at": 1700000000000, "owner": "me"}], "next_page_token": "t2"})
add("model_list", "unity-catalog-empty", {"registered_models": [], "next_page_token": ""})
add("model_list", "unknown", {"models": []})
add("model_list", "html", "<html><body>502</body></html>")

# ---------------------------------------------------------------- upstream errors
add("upstream_error", "openai", {"error": {"message": "bad model", "type": "invalid_request_error", "param": None, "code": "model_not_found"}})
add("upstream_error", "anthropic", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
add("upstream_error", "databricks", {"error_code": "PERMISSION_DENIED", "message": "no access to endpoint", "details": []})
add("upstream_error", "databricks-int-code", {"error_code": 403, "message": "nope"})
add("upstream_error", "string-error", {"error": "rate limited", "error_code": "429"})
add("upstream_error", "detail", {"detail": "Not Found"})
add("upstream_error", "text", "  upstream exploded \n")
add("upstream_error", "long-utf8", "é" * 1500)

# ---------------------------------------------------------------- write
if OUT.exists():
    for d in OUT.iterdir():
        # Keep regression inputs (crash-*) found by the fuzzers.
        for f in d.iterdir():
            if not f.name.startswith("crash-"):
                f.unlink()
total = 0
for target, files in sorted(corpus.items()):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (d / name).write_bytes(data)
        total += len(data)
    print(f"{target:22} {len(files):3} seeds")
print(f"total {total} bytes")
