"""The `switchyard` command line: config check, help, persistence, graceful shutdown."""

import json
import os
import pathlib
import signal
import subprocess
import tempfile
import threading

import httpx

from conftest import ROOT, SWITCHYARD, start_gateway

EXAMPLE = ROOT / "examples" / "databricks.json"


def run(*args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k != "DATABRICKS_TOKEN"}
    env.update(env_extra or {})
    return subprocess.run([SWITCHYARD, *args], capture_output=True, text=True, env=env, timeout=30)


def test_config_check_accepts_the_example():
    r = run("config", "check", str(EXAMPLE), env_extra={"DATABRICKS_TOKEN": "x"})
    assert r.returncode == 0, r.stderr
    assert "ok:" in r.stdout and "databricks-mlflow" in r.stdout and "databricks-anthropic" in r.stdout


def test_config_check_names_an_unset_variable():
    r = run("config", "check", str(EXAMPLE))
    assert r.returncode == 1
    assert "environment variable DATABRICKS_TOKEN is not set" in r.stderr
    assert "providers.databricks-mlflow.network_config.extra_headers.Authorization" in r.stderr


def test_config_check_prints_every_error():
    bad = {
        "providers": {
            "p": {
                "network_config": {"base_ulr": "https://x", "base_url": "ftp://x"},
                "custom_provider_config": {"base_provider_type": "openai", "is_key_less": True, "request_path_overrides": {"chat": "/x"}},
                "keys": [{"value": "k"}],
            }
        }
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(bad, f)
    r = run("config", "check", f.name)
    assert r.returncode == 1
    lines = [l for l in r.stderr.splitlines() if l.startswith("error:")]
    assert len(lines) == 4, r.stderr
    assert "did you mean `base_url`?" in r.stderr
    assert "did you mean `chat_completion`?" in r.stderr
    assert "is not an http(s) URL" in r.stderr
    assert "must not have keys" in r.stderr
    assert "4 errors found" in r.stderr


def test_help_lists_the_flags():
    r = run("serve", "--help")
    for flag in ("--config", "--host", "--port", "--data-dir", "--max-body-size-mb", "SWITCHYARD_PORT"):
        assert flag in r.stdout
    assert "check" in run("config", "--help").stdout


def test_serve_refuses_an_invalid_config():
    with tempfile.TemporaryDirectory() as d:
        cfg = pathlib.Path(d) / "c.json"
        cfg.write_text('{"providers": {"p": {"custom_provider_config": {"base_provider_type": "openai"}}}}')
        r = subprocess.run([SWITCHYARD, "serve", "--config", str(cfg), "--port", "0", "--data-dir", d], capture_output=True, text=True, timeout=30)
        assert r.returncode == 1
        assert "providers.p.keys" in r.stderr and "providers.p.network_config.base_url" in r.stderr


def test_sigterm_lets_a_stream_in_flight_finish(fake):
    with tempfile.TemporaryDirectory() as d:
        proc, url = start_gateway(fake, d)
        assert (pathlib.Path(d) / "switchyard.db").exists(), "the embedded database lives in --data-dir"
        result = {}

        def consume():
            body = {"model": "databricks-mlflow/slow", "stream": True, "messages": [{"role": "user", "content": " ".join(["w"] * 20)}]}
            with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=30) as r:
                started.set()
                result["text"] = "".join(r.iter_text())

        started = threading.Event()
        t = threading.Thread(target=consume)
        t.start()
        assert started.wait(10)
        proc.proc.send_signal(signal.SIGTERM)
        t.join(30)
        assert result["text"].endswith("data: [DONE]\n\n"), result
        assert proc.proc.wait(timeout=15) == 0
        try:
            httpx.get(f"{url}/health", timeout=2)
            raise AssertionError("still accepting after shutdown")
        except httpx.TransportError:
            pass
