"""End-to-end fixtures: the real `switchyard` binary in front of the fake upstream
(`fake-upstream`, from crates/testkit), both on 127.0.0.1 with ports picked by the OS."""

import json
import os
import pathlib
import signal
import subprocess
import tempfile

import httpx
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug"
SWITCHYARD = os.environ.get("SWITCHYARD_BIN", str(TARGET / "switchyard"))
FAKE_UPSTREAM = os.environ.get("FAKE_UPSTREAM_BIN", str(TARGET / "fake-upstream"))
TOKEN = "dapi-e2e-token"


class Process:
    """A child process whose first stdout line announces where it listens."""

    def __init__(self, args, env=None):
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        self.first_line = self.proc.stdout.readline().strip()
        if not self.first_line:
            err = self.proc.stderr.read()
            raise RuntimeError(f"{args[0]} did not start: {err}")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture(scope="session")
def fake():
    p = Process([FAKE_UPSTREAM, "--expect-bearer", TOKEN])
    urls = json.loads(p.first_line)
    yield urls
    p.stop()


def write_config(directory, fake_urls):
    gw, ws = fake_urls["gateway"], fake_urls["workspace"]
    config = {
        "providers": {
            "databricks-mlflow": {
                "network_config": {
                    "base_url": f"{gw}/mlflow",
                    "extra_headers": {"Authorization": "Bearer env.DATABRICKS_TOKEN"},
                    "retry_backoff_initial": 10,
                    "retry_backoff_max": 50,
                },
                "custom_provider_config": {
                    "base_provider_type": "openai",
                    "is_key_less": True,
                    "allowed_requests": {
                        "list_models": True, "chat_completion": True, "chat_completion_stream": True,
                        "embedding": True,
                    },
                    "request_path_overrides": {
                        "list_models": f"{ws}/api/2.1/unity-catalog/models"
                    },
                },
                "request_shaping": {"drop_fields": ["store", "tools[].function.strict"]},
            },
            "databricks-anthropic": {
                "network_config": {
                    "base_url": f"{gw}/anthropic",
                    "extra_headers": {"Authorization": "Bearer env.DATABRICKS_TOKEN"},
                },
                "custom_provider_config": {
                    "base_provider_type": "anthropic",
                    "is_key_less": True,
                    "allowed_requests": {
                        "chat_completion": True, "chat_completion_stream": True, "responses": True,
                        "responses_stream": True, "text_completion": True, "text_completion_stream": True,
                        "count_tokens": True,
                    },
                },
                "request_shaping": {"drop_fields": ["tools[].eager_input_streaming"]},
            },
            "chat-only": {
                "network_config": {
                    "base_url": f"{gw}/mlflow",
                    "extra_headers": {"Authorization": "Bearer env.DATABRICKS_TOKEN"},
                },
                "custom_provider_config": {
                    "base_provider_type": "openai",
                    "is_key_less": True,
                    "allowed_requests": {"chat_completion": True},
                },
            },
        }
    }
    path = pathlib.Path(directory) / "config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def start_gateway(fake_urls, data_dir, extra_args=()):
    config = write_config(data_dir, fake_urls)
    env = dict(os.environ, DATABRICKS_TOKEN=TOKEN, SWITCHYARD_LOG="warn")
    p = Process(
        [SWITCHYARD, "serve", "--config", str(config), "--port", "0", "--data-dir", str(data_dir), *extra_args],
        env=env,
    )
    prefix = "switchyard listening on "
    assert p.first_line.startswith(prefix), p.first_line
    return p, p.first_line[len(prefix):]


@pytest.fixture(scope="session")
def gateway(fake):
    with tempfile.TemporaryDirectory() as data_dir:
        p, url = start_gateway(fake, data_dir)
        yield url
        p.stop()


@pytest.fixture()
def upstream_log(fake):
    """Clears the fake's request log, then reads it back on demand."""
    httpx.delete(f"{fake['gateway']}/__fake/requests")

    def read(host=None):
        reqs = httpx.get(f"{fake['gateway']}/__fake/requests").json()
        return [r for r in reqs if host is None or r["host"] == host]

    return read
