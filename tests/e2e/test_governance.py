"""Governance as the official SDKs see it: a virtual key's limits, budgets and
refusals read as each SDK's own exception, with the headers it parses
(the SDKs' retries off, so what is seen is Switchyard's answer)."""

import uuid

import anthropic
import httpx
import openai
import pytest


def create_key(gateway, **fields):
    body = {"name": f"sdk-{uuid.uuid4().hex[:6]}", **fields}
    r = httpx.post(f"{gateway}/api/keys", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def oai(gateway, key):
    return openai.OpenAI(base_url=f"{gateway}/v1", api_key=key, max_retries=0)


def claude(gateway, key):
    return anthropic.Anthropic(base_url=f"{gateway}/anthropic", api_key=key, max_retries=0)


def chat(client, **extra):
    return client.chat.completions.with_raw_response.create(
        model="databricks-mlflow/llama", messages=[{"role": "user", "content": "hi"}], **extra
    )


def message(client, model="databricks-anthropic/claude-sonnet", max_tokens=64):
    return client.messages.with_raw_response.create(
        model=model, max_tokens=max_tokens, messages=[{"role": "user", "content": "hi"}]
    )


def test_openai_sdk_reads_a_rate_limit_as_rate_limit_error(gateway):
    key = create_key(gateway, rate_limit={"requests_per_minute": 1, "tokens_per_minute": 100000})
    client = oai(gateway, key["key"])
    ok = chat(client)
    assert ok.headers["x-ratelimit-limit-requests"] == "1"
    assert ok.headers["x-ratelimit-remaining-requests"] == "0"
    assert int(ok.headers["x-ratelimit-remaining-tokens"]) < 100000
    with pytest.raises(openai.RateLimitError) as e:
        chat(client)
    assert e.value.status_code == 429
    assert e.value.code == "rate_limit_exceeded"
    assert e.value.type == "rate_limit_error"
    h = e.value.response.headers
    assert int(h["retry-after"]) >= 1 and int(h["retry-after-ms"]) > 0
    assert h["x-switchyard-limit"] == f"key-{key['id']}; source=local"
    assert h["x-ratelimit-reset-requests"].endswith("s")


def test_anthropic_sdk_reads_a_rate_limit_as_rate_limit_error(gateway):
    key = create_key(gateway, rate_limit={"requests_per_minute": 1})
    client = claude(gateway, key["key"])
    ok = message(client)
    assert ok.headers["anthropic-ratelimit-requests-limit"] == "1"
    assert ok.headers["anthropic-ratelimit-requests-remaining"] == "0"
    with pytest.raises(anthropic.RateLimitError) as e:
        message(client)
    assert e.value.status_code == 429
    assert e.value.body["type"] == "error" and e.value.body["error"]["type"] == "rate_limit_error"
    h = e.value.response.headers
    assert int(h["retry-after"]) >= 1
    assert h["anthropic-ratelimit-requests-reset"].endswith("Z")


def test_a_spent_budget_is_insufficient_quota(gateway):
    key = create_key(gateway, budget={"max_tokens": 300, "period": "day"})
    client = oai(gateway, key["key"])
    chat(client, max_tokens=100)
    with pytest.raises(openai.RateLimitError) as e:
        chat(client, max_tokens=1000)
    assert e.value.code == "insufficient_quota"
    assert e.value.type == "insufficient_quota"
    assert "budget" in e.value.message
    with pytest.raises(anthropic.RateLimitError):
        message(claude(gateway, key["key"]), max_tokens=1000)


def test_bad_keys_and_forbidden_models_are_the_sdks_own_errors(gateway):
    with pytest.raises(openai.AuthenticationError) as e:
        chat(oai(gateway, "sk-sy-aaaaaaaaaaaa-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
    assert e.value.code == "invalid_api_key"
    with pytest.raises(anthropic.AuthenticationError):
        message(claude(gateway, "sk-sy-aaaaaaaaaaaa-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
    key = create_key(gateway, models=["databricks-anthropic/*"])
    with pytest.raises(openai.PermissionDeniedError) as e:
        chat(oai(gateway, key["key"]))
    assert e.value.code == "model_not_allowed"
    assert key["id"] in e.value.message
    assert message(claude(gateway, key["key"])).http_response.status_code == 200
    httpx.post(f"{gateway}/api/keys/{key['id']}/revoke").raise_for_status()
    with pytest.raises(anthropic.AuthenticationError) as e:
        message(claude(gateway, key["key"]))
    assert "revoked" in e.value.message


def test_the_keys_cli_creates_lists_and_revokes(gateway):
    import subprocess

    from conftest import SWITCHYARD

    def cli(*args):
        return subprocess.run([SWITCHYARD, "keys", "--url", gateway, *args], capture_output=True, text=True, timeout=30)

    made = cli("create", "--name", "from-cli", "--model", "databricks-mlflow/*", "--rpm", "60", "--tpm", "100000")
    assert made.returncode == 0, made.stderr
    header, token = made.stdout.strip().splitlines()
    assert token.startswith("sk-sy-") and "from-cli" in header
    assert "only time" in made.stderr
    key_id = token.split("-")[2]
    assert chat(oai(gateway, token)).headers["x-ratelimit-limit-requests"] == "60"
    listed = cli("list")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if line.startswith(key_id))
    assert "active" in row and "60 requests/minute" in row and "100000 tokens/minute" in row
    assert token.split("-")[3] not in listed.stdout
    revoked = cli("revoke", key_id)
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    with pytest.raises(openai.AuthenticationError):
        chat(oai(gateway, token))
    bad = cli("create", "--name", "x", "--team", "no-such-team")
    assert bad.returncode == 1 and "team" in bad.stderr and "does not exist" in bad.stderr


def test_the_request_log_has_the_sdks_request_with_its_caller_and_usage(gateway):
    import time

    key = create_key(gateway)
    raw = chat(oai(gateway, key["key"]))
    usage = raw.parse().usage
    for _ in range(50):
        rows = httpx.get(f"{gateway}/api/logs", params={"key": key["id"]}).json()["data"]
        if rows:
            break
        time.sleep(0.1)
    [row] = rows
    assert row["request_id"] == raw.headers["x-request-id"]
    assert row["user_agent"].startswith("OpenAI/Python")
    assert (row["input_tokens"], row["output_tokens"]) == (usage.prompt_tokens, usage.completion_tokens)
    assert row["key_name"] == key["name"] and row["status"] == 200 and row["usage_estimated"] is False
