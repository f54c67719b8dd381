"""The official Anthropic and OpenAI Python SDKs through both provider kinds:
`databricks-anthropic` (anthropic base: Anthropic clients pass through, OpenAI
clients are translated) and `databricks-mlflow` (openai base: the reverse, and
Responses/Completions emulated via chat)."""

import json

import anthropic
import openai
import pytest

from conftest import TOKEN

PROVIDERS = ["databricks-anthropic", "databricks-mlflow"]
BASH = {
    "name": "Bash",
    "description": "Run a shell command",
    "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
    },
}


@pytest.fixture()
def claude(gateway):
    return anthropic.Anthropic(base_url=f"{gateway}/anthropic", api_key="client-own-key", max_retries=0)


@pytest.fixture()
def oai(gateway):
    return openai.OpenAI(base_url=f"{gateway}/v1", api_key="client-own-key", max_retries=0)


# ------------------------------------------------------------------ Anthropic SDK


@pytest.mark.parametrize("provider", PROVIDERS)
def test_anthropic_messages(claude, upstream_log, provider):
    msg = claude.messages.create(
        model=f"{provider}/claude-x",
        max_tokens=100,
        system="Be brief.",
        messages=[{"role": "user", "content": "Hello!"}],
    )
    assert msg.type == "message" and msg.role == "assistant"
    assert msg.content[0].text == "Hello from claude-x! You said: Hello!"
    assert msg.stop_reason == "end_turn"
    assert msg.usage.output_tokens > 0
    [seen] = upstream_log("gateway")
    assert seen["path"].endswith("/anthropic/v1/messages" if provider == "databricks-anthropic" else "/mlflow/v1/chat/completions")
    assert seen["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert "client-own-key" not in json.dumps(seen["headers"])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_anthropic_streaming(claude, provider):
    with claude.messages.stream(
        model=f"{provider}/claude-x", max_tokens=100, messages=[{"role": "user", "content": "stream it"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hello from claude-x! You said: stream it"
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_anthropic_tool_loop_streaming(claude, provider):
    model = f"{provider}/agent"
    messages = [{"role": "user", "content": "list files"}]
    with claude.messages.stream(model=model, max_tokens=200, tools=[BASH], messages=messages) as stream:
        first = stream.get_final_message()
    assert first.stop_reason == "tool_use"
    call = next(b for b in first.content if b.type == "tool_use")
    assert call.name == "Bash" and "switchyard-agent-ok" in call.input["command"]
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "switchyard-agent-ok"}]},
    ]
    with claude.messages.stream(model=model, max_tokens=200, tools=[BASH], messages=messages) as stream:
        second = stream.get_final_message()
    assert second.content[0].text == "Agent task complete: switchyard-agent-ok"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_anthropic_count_tokens(claude, provider):
    r = claude.messages.count_tokens(model=f"{provider}/claude-x", messages=[{"role": "user", "content": "count me please"}])
    assert r.input_tokens > 0


def test_anthropic_models_list(claude):
    ids = [m.id for m in claude.models.list()]
    assert "databricks-mlflow/main.default.llama" in ids


def test_anthropic_errors(claude):
    with pytest.raises(anthropic.NotFoundError) as e:
        claude.messages.create(model="nowhere/x", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert "nowhere" in e.value.message
    with pytest.raises(anthropic.BadRequestError) as e:
        claude.messages.create(model="databricks-mlflow/error-400", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert "rejects this input" in e.value.message


def test_anthropic_mid_stream_failure_raises(claude):
    with pytest.raises(anthropic.APIError):
        with claude.messages.stream(
            model="databricks-mlflow/fault-reset", max_tokens=50, messages=[{"role": "user", "content": "a b c"}]
        ) as stream:
            for _ in stream.text_stream:
                pass


# --------------------------------------------------------------------- OpenAI SDK


def test_openai_chat_through_anthropic(oai, upstream_log):
    r = oai.chat.completions.create(
        model="databricks-anthropic/claude-x", messages=[{"role": "user", "content": "Hello!"}]
    )
    assert r.choices[0].message.content == "Hello from claude-x! You said: Hello!"
    [seen] = upstream_log("gateway")
    assert seen["path"] == "/anthropic/v1/messages"
    assert seen["body"]["max_tokens"] == 4096


def test_openai_streamed_tool_call_through_anthropic(oai):
    stream = oai.chat.completions.create(
        model="databricks-anthropic/claude-x",
        messages=[{"role": "user", "content": "Weather?"}],
        tools=[WEATHER],
        stream=True,
        stream_options={"include_usage": True},
    )
    calls, finish, usage = {}, None, None
    for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        if not chunk.choices:
            continue
        finish = chunk.choices[0].finish_reason or finish
        for tc in chunk.choices[0].delta.tool_calls or []:
            entry = calls.setdefault(tc.index, {"name": None, "arguments": ""})
            if tc.function:
                entry["name"] = tc.function.name or entry["name"]
                entry["arguments"] += tc.function.arguments or ""
    assert finish == "tool_calls"
    assert calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"location": "Paris"}
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


@pytest.mark.parametrize("provider", PROVIDERS)
def test_openai_responses(oai, provider):
    r = oai.responses.create(model=f"{provider}/m", instructions="Be brief.", input="Hello!", store=False)
    assert r.status == "completed"
    assert r.output_text == "Hello from m! You said: Hello!"
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens


@pytest.mark.parametrize("provider", PROVIDERS)
def test_openai_responses_streaming_function_call(oai, provider):
    tools = [{"type": "function", "name": "exec_command", "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}}]
    types, completed = [], None
    with oai.responses.stream(model=f"{provider}/m", input="run it", tools=tools) as stream:
        for event in stream:
            types.append(event.type)
        completed = stream.get_final_response()
    assert types[0] == "response.created" and types[-1] == "response.completed"
    call = next(i for i in completed.output if i.type == "function_call")
    assert call.name == "exec_command" and "switchyard-agent-ok" in json.loads(call.arguments)["cmd"]
    follow = oai.responses.create(
        model=f"{provider}/m",
        tools=tools,
        input=[
            {"role": "user", "content": "run it"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "switchyard-agent-ok"},
        ],
    )
    assert follow.output_text == "Agent task complete: switchyard-agent-ok"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_openai_completions(oai, provider):
    r = oai.completions.create(model=f"{provider}/m", prompt="Say hi", max_tokens=30)
    assert r.choices[0].text == "Hello from m! You said: Say hi"
    text = "".join(c.choices[0].text for c in oai.completions.create(model=f"{provider}/m", prompt="Say hi", stream=True) if c.choices)
    assert text == "Hello from m! You said: Say hi"


def test_openai_embeddings_pass_through(oai):
    r = oai.embeddings.create(model="databricks-mlflow/bge", input="hello")
    assert len(r.data[0].embedding) > 0
