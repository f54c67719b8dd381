"""The official OpenAI Python SDK through Switchyard to a Databricks-like upstream."""

import json
import uuid

import httpx
import openai
import pytest

from conftest import TOKEN


@pytest.fixture()
def client(gateway):
    # max_retries=0: retries seen here are Switchyard's, not the SDK's.
    return openai.OpenAI(base_url=f"{gateway}/v1", api_key="client-own-key", max_retries=0)


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_chat_completion(client, upstream_log):
    r = client.chat.completions.create(
        model="databricks-mlflow/llama-3-70b",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"}],
        temperature=0.1,
    )
    assert r.choices[0].message.content == "Hello from llama-3-70b! You said: Hello!"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    [seen] = upstream_log("gateway")
    assert seen["path"] == "/mlflow/v1/chat/completions"
    assert seen["body"]["model"] == "llama-3-70b"
    assert seen["body"]["temperature"] == 0.1
    assert seen["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert "client-own-key" not in json.dumps(seen["headers"])


def test_streaming_with_include_usage(client):
    stream = client.chat.completions.create(
        model="databricks-mlflow/llama",
        messages=[{"role": "user", "content": "stream please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage, finish = "", None, None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    assert text == "Hello from llama! You said: stream please"
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens == len(text.split())


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
        },
    }
]


def test_tool_call_round_trip(client):
    first = client.chat.completions.create(
        model="databricks-mlflow/llama", messages=[{"role": "user", "content": "Weather in Paris?"}], tools=TOOLS
    )
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"location": "Paris"}
    second = client.chat.completions.create(
        model="databricks-mlflow/llama",
        tools=TOOLS,
        messages=[
            {"role": "user", "content": "Weather in Paris?"},
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ],
    )
    assert second.choices[0].message.content == "The tool said: sunny"


def test_streamed_tool_call(client):
    stream = client.chat.completions.create(
        model="databricks-mlflow/llama", messages=[{"role": "user", "content": "Weather?"}], tools=TOOLS, stream=True
    )
    calls = {}
    for chunk in stream:
        for tc in chunk.choices[0].delta.tool_calls or [] if chunk.choices else []:
            entry = calls.setdefault(tc.index, {"id": None, "name": None, "arguments": ""})
            entry["id"] = tc.id or entry["id"]
            if tc.function:
                entry["name"] = tc.function.name or entry["name"]
                entry["arguments"] += tc.function.arguments or ""
    assert calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"location": "Paris"}


def test_list_models_through_unity_catalog(client, upstream_log):
    ids = sorted(m.id for m in client.models.list())
    assert ids == [
        "databricks-mlflow/main.default.llama",
        "databricks-mlflow/main.default.mixtral",
        "databricks-mlflow/system.ai.claude",
    ]
    ws = upstream_log("workspace")
    # Cached lists make zero calls; a fresh fetch makes three pages.
    assert len(ws) in (0, 3)
    assert all(r["headers"]["authorization"] == f"Bearer {TOKEN}" for r in ws)


def test_gateway_retries_a_503_once(client, upstream_log):
    r = client.chat.completions.create(model=f"databricks-mlflow/{unique('fault-503-once')}", messages=[{"role": "user", "content": "x"}])
    assert r.choices[0].message.content.startswith("Hello from fault-503-once")
    assert len(upstream_log("gateway")) == 2


def test_retries_exhausted_surface_as_server_error(client):
    with pytest.raises(openai.InternalServerError) as e:
        client.chat.completions.create(model="databricks-mlflow/fault-503-always", messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 503
    assert "databricks-mlflow" in e.value.message and "temporarily unavailable" in e.value.message


def test_upstream_400_keeps_status_and_message(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="databricks-mlflow/error-400", messages=[{"role": "user", "content": "x"}])
    assert "rejects this input" in e.value.message
    assert e.value.code == "BAD_REQUEST"


def test_unknown_provider_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="nowhere/model", messages=[{"role": "user", "content": "x"}])
    assert "nowhere" in e.value.message and "databricks-mlflow" in e.value.message


def test_disallowed_stream_is_a_clear_400(client):
    ok = client.chat.completions.create(model="chat-only/m", messages=[{"role": "user", "content": "x"}])
    assert ok.choices[0].message.content
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="chat-only/m", messages=[{"role": "user", "content": "x"}], stream=True)
    assert "chat_completion_stream" in e.value.message
    assert e.value.code == "request_type_not_allowed"


def test_stream_reset_raises_in_the_client(client):
    stream = client.chat.completions.create(
        model="databricks-mlflow/fault-reset", messages=[{"role": "user", "content": "x y z"}], stream=True
    )
    with pytest.raises(openai.APIError) as e:
        for _ in stream:
            pass
    assert "databricks-mlflow" in str(e.value)


def test_malformed_json_is_a_400_naming_the_problem(gateway):
    r = httpx.post(f"{gateway}/v1/chat/completions", content=b'{"model": "databricks-mlflow/m", "messages": [}', headers={"content-type": "application/json"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert "not valid JSON" in err["message"] and "column" in err["message"]
    assert err["type"] == "invalid_request_error"


def test_health(gateway):
    r = httpx.get(f"{gateway}/health")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["providers"] == 3
