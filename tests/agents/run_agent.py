#!/usr/bin/env python3
"""Runs one real coding agent headless against the fake upstream, optionally
through Switchyard, and prints one JSON object with everything seen.

Meant to run inside a loopback-only network namespace (tests/e2e/test_agents.py
starts it as `unshare -n sh -c 'ip link set lo up && exec python3 run_agent.py …'`);
it refuses to start an agent when any network interface other than `lo` exists.
Standard library only.

    run_agent.py --agent claude|codex --target direct|gateway-anthropic|gateway-openai
                 --fake-upstream BIN [--switchyard BIN] [--agents-dir DIR] [--model M] [--timeout 120]

Targets:
  direct             the agent talks to the fake upstream itself
                     (Claude Code: {fake}/anthropic, Codex: {fake}/codex/v1, as Databricks serves them);
  gateway-anthropic  the agent talks to Switchyard, model `dbx-anthropic/<model>`,
                     a provider with base_provider_type anthropic at {fake}/anthropic;
  gateway-openai     the same with `dbx-mlflow/<model>`, base_provider_type openai at {fake}/mlflow.
  Claude Code reaches Switchyard at {switchyard}/anthropic, Codex at {switchyard}/v1 (wire_api responses).
"""

import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

MARKER = "switchyard-agent-ok"
PROMPT = f"Run: echo {MARKER}"
UPSTREAM_TOKEN = "dapi-agent-token"  # what the fake upstream accepts
CLIENT_TOKEN = "agent-client-token"  # what the agent sends to Switchyard (never forwarded)
MODEL = "agent-model"
PROVIDERS = {"gateway-anthropic": "dbx-anthropic", "gateway-openai": "dbx-mlflow"}


def log(*args):
    print("[run_agent]", *args, file=sys.stderr, flush=True)


def interfaces():
    """Network interfaces of this process's namespace (/sys/class/net may show the host's)."""
    try:
        lines = pathlib.Path("/proc/self/net/dev").read_text().splitlines()[2:]
    except OSError:
        return []
    return sorted(line.split(":", 1)[0].strip() for line in lines if ":" in line)


class Child:
    """A server child whose first stdout line says where it listens."""

    def __init__(self, args, env=None, log_path=None):
        self.stderr = open(log_path, "w") if log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=self.stderr, text=True, env=env, start_new_session=True
        )
        self.first_line = self.proc.stdout.readline().strip()
        if not self.first_line:
            self.stop()
            raise RuntimeError(f"{args[0]} did not start (see {log_path})")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def write_gateway_config(directory, fake_url, virtual_key=False):
    def provider(base, kind):
        return {
            "network_config": {
                "base_url": f"{fake_url}{base}",
                "extra_headers": {"Authorization": "Bearer env.DATABRICKS_TOKEN"},
                "retry_backoff_initial": 10,
                "retry_backoff_max": 50,
            },
            "custom_provider_config": {"base_provider_type": kind, "is_key_less": True},
        }

    # The seed's two Databricks providers, with the request shaping examples/databricks.json uses:
    # the Unified (MLflow) route serves chat only, so Codex's Responses calls are emulated via chat.
    anthropic = provider("/anthropic", "anthropic")
    anthropic["request_shaping"] = {"drop_fields": ["tools[].eager_input_streaming"]}
    mlflow = provider("/mlflow", "openai")
    mlflow["custom_provider_config"]["allowed_requests"] = {
        "list_models": True, "chat_completion": True, "chat_completion_stream": True, "embedding": True,
    }
    mlflow["request_shaping"] = {"drop_fields": ["store", "tools[].function.strict"]}
    config = {"providers": {"dbx-anthropic": anthropic, "dbx-mlflow": mlflow}}
    if virtual_key:
        config["governance"] = {"require_virtual_key": True}
    path = pathlib.Path(directory) / "switchyard.json"
    path.write_text(json.dumps(config, indent=2))
    return path


def start_gateway(binary, fake_url, work, virtual_key=False):
    config = write_gateway_config(work, fake_url, virtual_key)
    env = dict(os.environ, DATABRICKS_TOKEN=UPSTREAM_TOKEN, SWITCHYARD_LOG="info", NO_COLOR="1")
    gw = Child(
        [binary, "serve", "--config", str(config), "--port", "0", "--data-dir", str(work / "switchyard-data")],
        env=env,
        log_path=work / "switchyard.log",
    )
    prefix = "switchyard listening on "
    if not gw.first_line.startswith(prefix):
        gw.stop()
        raise RuntimeError(f"unexpected switchyard banner: {gw.first_line}")
    return gw, gw.first_line[len(prefix):]


def create_virtual_key(gw_url):
    """A key with request and token limits, through the admin API (open on loopback). Per day, so
    the counters give back little while the agent runs and show what it used."""
    body = {"name": "agent", "rate_limit": {"requests_per_day": 1000, "tokens_per_day": 1_000_000}}
    req = urllib.request.Request(
        f"{gw_url}/api/keys", data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        created = json.load(r)
    return created["id"], created["key"]


def key_usage(gw_url, key_id):
    with urllib.request.urlopen(f"{gw_url}/api/policies/key-{key_id}/state", timeout=10) as r:
        return json.load(r)


def base_env(home):
    """A minimal environment: no proxies, no inherited credentials or agent settings."""
    keep = ("PATH", "LANG", "LC_ALL", "TERM", "TZ")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CACHE_HOME=str(home / ".cache"),
               NO_COLOR="1", CI="true")
    return env


def run_claude(bin_dir, work, base_url, model, token, timeout):
    home = work / "home"
    project = work / "project"
    home.mkdir()
    project.mkdir()
    env = base_env(home)
    env.update(
        ANTHROPIC_BASE_URL=base_url,
        ANTHROPIC_AUTH_TOKEN=token,
        ANTHROPIC_MODEL=model,
        # Background/side requests use the small model: keep them on a routable name too.
        ANTHROPIC_SMALL_FAST_MODEL=model,
        ANTHROPIC_DEFAULT_HAIKU_MODEL=model,
        ANTHROPIC_DEFAULT_SONNET_MODEL=model,
        ANTHROPIC_DEFAULT_OPUS_MODEL=model,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
        DISABLE_TELEMETRY="1",
        DISABLE_ERROR_REPORTING="1",
        CLAUDE_CODE_MAX_RETRIES="2",
    )
    args = [str(bin_dir / "claude"), "-p", PROMPT, "--output-format", "json", "--allowedTools", "Bash"]
    return run(args, env, project, timeout)


def run_codex(bin_dir, work, base_url, model, token, timeout):
    home = work / "home"
    codex_home = work / "codex-home"
    project = work / "project"
    for d in (home, codex_home, project):
        d.mkdir()
    (codex_home / "config.toml").write_text(
        f'''model = "{model}"
model_provider = "switchyard-test"
model_context_window = 128000
# Keep Codex off the network beyond the provider: no update check, no analytics or
# OpenTelemetry export (ab.chatgpt.com), no curated-plugin sync (github.com, chatgpt.com).
check_for_update_on_startup = false

[analytics]
enabled = false

[features]
plugins = false

[otel]
exporter = "none"

[model_providers.switchyard-test]
name = "Switchyard test"
base_url = "{base_url}"
env_key = "SWITCHYARD_AGENT_KEY"
wire_api = "responses"
request_max_retries = 1
stream_max_retries = 1
'''
    )
    env = base_env(home)
    env.update(CODEX_HOME=str(codex_home), SWITCHYARD_AGENT_KEY=token)
    args = [
        str(bin_dir / "codex"), "exec", "--skip-git-repo-check", "--json",
        "--dangerously-bypass-approvals-and-sandbox", "--ephemeral", PROMPT,
    ]
    return run(args, env, project, timeout)


def run(args, env, cwd, timeout):
    trace = os.environ.get("RUN_AGENT_STRACE")  # a file: record the agent's connect() calls there
    if trace:
        args = ["strace", "-f", "-qq", "-e", "trace=connect", "-o", trace, *args]
    started = time.monotonic()
    proc = subprocess.Popen(
        args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    else:
        # Anything the agent left running in its session goes too.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return {
        "argv": args,
        "exit_code": proc.returncode,
        "timed_out": timed_out,
        "seconds": round(time.monotonic() - started, 1),
        "stdout": out,
        "stderr": err[-20000:],
    }


def parse_output(agent, stdout):
    if agent == "claude":
        for line in reversed(stdout.strip().splitlines()):
            try:
                return json.loads(line)
            except ValueError:
                continue
        return None
    events = []
    for line in stdout.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    return events


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--agent", choices=["claude", "codex"], required=True)
    p.add_argument("--target", choices=["direct", *PROVIDERS], required=True)
    p.add_argument("--fake-upstream", required=True)
    p.add_argument("--switchyard")
    p.add_argument("--agents-dir", default=str(pathlib.Path(__file__).resolve().parent))
    p.add_argument("--model", default=MODEL, help="upstream model name (the fake's fault modes are picked by it)")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--keep", action="store_true", help="keep the work directory (printed) for inspection")
    p.add_argument("--virtual-key", action="store_true", help="require a virtual key; the agent uses one made for it")
    a = p.parse_args()

    nics = interfaces()
    if nics != ["lo"]:
        sys.exit(f"refusing to run: network interfaces {nics}; run inside `unshare -n` (loopback only)")
    bin_dir = pathlib.Path(a.agents_dir) / "node_modules" / ".bin"

    result = {"agent": a.agent, "target": a.target}
    children = []
    work = pathlib.Path(tempfile.mkdtemp(prefix=f"agent-{a.agent}-"))
    try:
        fake = Child([a.fake_upstream, "--expect-bearer", UPSTREAM_TOKEN], log_path=work / "fake.log")
        children.append(fake)
        fake_url = json.loads(fake.first_line)["gateway"]
        if a.target == "direct":
            model, token = a.model, UPSTREAM_TOKEN
            base = f"{fake_url}/anthropic" if a.agent == "claude" else f"{fake_url}/codex/v1"
        else:
            if not a.switchyard:
                sys.exit("--switchyard is required for gateway targets")
            gw, gw_url = start_gateway(a.switchyard, fake_url, work, a.virtual_key)
            children.append(gw)
            model, token = f"{PROVIDERS[a.target]}/{a.model}", CLIENT_TOKEN
            if a.virtual_key:
                key_id, token = create_virtual_key(gw_url)
                result["virtual_key_id"] = key_id
            base = f"{gw_url}/anthropic" if a.agent == "claude" else f"{gw_url}/v1"
        result["client_token"] = token
        result.update(base_url=base, model=model)
        runner = run_claude if a.agent == "claude" else run_codex
        result["run"] = runner(bin_dir, work, base, model, token, a.timeout)
        result["output"] = parse_output(a.agent, result["run"]["stdout"])
        with urllib.request.urlopen(f"{fake_url}/__fake/requests", timeout=10) as r:
            result["upstream_requests"] = json.load(r)
        if "virtual_key_id" in result:
            result["key_usage"] = key_usage(gw_url, result["virtual_key_id"])
    except Exception as e:  # reported, not raised: the test shows it with the rest
        result["error"] = f"{type(e).__name__}: {e}"
    finally:
        for c in reversed(children):
            c.stop()
        for name in ("switchyard.log", "fake.log"):
            path = work / name
            if path.exists():
                result[name.replace(".", "_")] = path.read_text()[-20000:]
        if a.keep:
            result["work_dir"] = str(work)
        else:
            subprocess.run(["rm", "-rf", str(work)], check=False)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
