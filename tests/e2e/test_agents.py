"""Real coding agents, headless, each finishing a one-tool-call task.

Claude Code (`@anthropic-ai/claude-code`) and Codex CLI (`@openai/codex`), pinned in
tests/agents/package.json, are asked to "Run: echo switchyard-agent-ok". The fake upstream
scripts the model's side (crates/testkit/src/agent_script.rs): the first turn calls the agent's
shell tool (`Bash` / `exec_command`), the turn carrying the tool's output gets
`Agent task complete: <output>`.

Every case runs in its own loopback-only network namespace (`unshare -n`): the runner
tests/agents/run_agent.py starts the fake upstream (and Switchyard for gateway targets) and the
agent in there, so nothing the agents try can leave 127.0.0.1. Targets:
- direct: the agent talks to the fake upstream (Databricks paths `/anthropic`, `/codex/v1`);
- gateway-anthropic / gateway-openai: the agent talks to Switchyard with model
  `<provider>/agent-model`, the provider being Anthropic-based (fake `/anthropic`) or
  OpenAI-based (fake `/mlflow`).
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from conftest import FAKE_UPSTREAM, ROOT, SWITCHYARD

AGENTS_DIR = ROOT / "tests" / "agents"
RUNNER = AGENTS_DIR / "run_agent.py"
MARKER = "switchyard-agent-ok"
AGENT_TIMEOUT = 120

CASES = [
    pytest.param("claude", "direct", False, id="claude-direct"),
    pytest.param("claude", "gateway-anthropic", False, id="claude-via-switchyard-anthropic"),
    pytest.param("claude", "gateway-openai", False, id="claude-via-switchyard-openai"),
    pytest.param("codex", "direct", False, id="codex-direct"),
    pytest.param("codex", "gateway-anthropic", False, id="codex-via-switchyard-anthropic"),
    pytest.param("codex", "gateway-openai", False, id="codex-via-switchyard-openai"),
    pytest.param("claude", "gateway-anthropic", True, id="claude-via-switchyard-anthropic-virtual-key"),
    pytest.param("codex", "gateway-openai", True, id="codex-via-switchyard-openai-virtual-key"),
]

# Upstream path each target must reach on the fake (provider base + the wire format's path).
UPSTREAM_PATHS = {
    ("claude", "direct"): ("/anthropic/v1/messages",),
    ("codex", "direct"): ("/codex/v1/responses",),
    ("claude", "gateway-anthropic"): ("/anthropic/v1/messages",),
    ("codex", "gateway-anthropic"): ("/anthropic/v1/messages",),
    ("claude", "gateway-openai"): ("/mlflow/v1/chat/completions",),
    ("codex", "gateway-openai"): ("/mlflow/v1/chat/completions",),
}
SHELL_TOOL = {"claude": "Bash", "codex": "exec_command"}


def _installed_versions():
    versions = {}
    for name in json.loads((AGENTS_DIR / "package.json").read_text())["dependencies"]:
        manifest = AGENTS_DIR / "node_modules" / name / "package.json"
        versions[name] = json.loads(manifest.read_text())["version"] if manifest.exists() else None
    return versions


@pytest.fixture(scope="session")
def agents():
    """tests/agents/node_modules as pinned by package-lock.json (`npm ci` when missing or stale)."""
    wanted = json.loads((AGENTS_DIR / "package.json").read_text())["dependencies"]
    bins = [AGENTS_DIR / "node_modules" / ".bin" / b for b in ("claude", "codex")]
    if _installed_versions() != wanted or not all(b.exists() for b in bins):
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install the pinned agents (tests/agents)")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=AGENTS_DIR, check=True, timeout=900
        )
    assert _installed_versions() == wanted
    return AGENTS_DIR


@pytest.fixture(scope="session")
def loopback_netns():
    """The command prefix that runs a program in a fresh loopback-only network namespace."""
    missing = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    prefix = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"']
    if not missing:
        probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, timeout=30)
        if probe.returncode == 0:
            return prefix
        missing = [f"unshare -n failed: {probe.stderr.strip()}"]
    # Never run the agents outside a namespace; on CI (root) this must work.
    if os.environ.get("CI"):
        pytest.fail(f"cannot isolate the agents: {missing}")
    pytest.skip(f"cannot isolate the agents (needs root, unshare, ip): {missing}")


def run_agent(netns, agent, target, virtual_key=False):
    args = [
        *netns, sys.executable, str(RUNNER), "--agent", agent, "--target", target,
        "--fake-upstream", FAKE_UPSTREAM, "--switchyard", SWITCHYARD,
        "--agents-dir", str(AGENTS_DIR), "--timeout", str(AGENT_TIMEOUT),
        *(["--virtual-key"] if virtual_key else []),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=AGENT_TIMEOUT + 60)
    assert done.returncode == 0, f"runner failed ({done.returncode}): {done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def describe(result):
    """What to show when a case fails: the run without the bulky request bodies."""
    shown = {k: v for k, v in result.items() if k != "upstream_requests"}
    shown["upstream_requests"] = [
        {"method": r["method"], "path": r["path"], "status_hint": _body_summary(r["body"])}
        for r in result.get("upstream_requests", [])
    ]
    return json.dumps(shown, indent=1)[-12000:]


def _body_summary(body):
    if not isinstance(body, dict):
        return str(body)[:200]
    return {"model": body.get("model"), "stream": body.get("stream"), "tools": len(body.get("tools") or [])}


def tool_names(body):
    """Tool names offered in an Anthropic, Chat or Responses request."""
    names = []
    for t in body.get("tools") or []:
        if t.get("type") == "namespace":
            names += [n.get("name") for n in t.get("tools", [])]
        else:
            names.append(t.get("name") or (t.get("function") or {}).get("name"))
    return names


def tool_outputs(body):
    """Tool results carried in an Anthropic, Chat or Responses request, as text."""

    def text(content):
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "".join(text(p.get("text", p.get("content", ""))) for p in content if isinstance(p, dict))
        return ""

    outputs = []
    for m in body.get("messages") or []:
        if m.get("role") == "tool":
            outputs.append(text(m.get("content")))
        if m.get("role") == "user" and isinstance(m.get("content"), list):
            outputs += [text(b.get("content")) for b in m["content"] if b.get("type") == "tool_result"]
    if isinstance(body.get("input"), list):
        outputs += [text(i.get("output")) for i in body["input"] if i.get("type") == "function_call_output"]
    return outputs


def check_upstream(result, agent, target):
    reqs = [r for r in result["upstream_requests"] if r["method"] == "POST"]
    paths = UPSTREAM_PATHS[(agent, target)]
    model_calls = [r for r in reqs if r["path"].split("?")[0] in paths]
    assert model_calls, f"no request reached {paths}\n{describe(result)}"
    assert SHELL_TOOL[agent] in tool_names(model_calls[0]["body"]), describe(result)
    answered = [r for r in model_calls[1:] if any(MARKER in o for o in tool_outputs(r["body"]))]
    assert answered, f"no follow-up request carried the tool result\n{describe(result)}"
    assert all(r["body"].get("model") == "agent-model" for r in model_calls), describe(result)
    if target != "direct":
        # The agent's own credential stays at the gateway; the provider's goes upstream.
        for r in result["upstream_requests"]:
            assert result["client_token"] not in json.dumps(r["headers"]), describe(result)
            assert r["headers"].get("authorization") == "Bearer dapi-agent-token", describe(result)


@pytest.mark.parametrize("agent,target,virtual_key", CASES)
def test_agent_runs_one_tool_call(agents, loopback_netns, agent, target, virtual_key):
    result = run_agent(loopback_netns, agent, target, virtual_key)
    assert "error" not in result, describe(result)
    run = result["run"]
    assert not run["timed_out"], describe(result)
    out = result["output"]
    if agent == "claude":
        assert isinstance(out, dict), describe(result)
        assert out.get("type") == "result" and out.get("is_error") is False, describe(result)
        assert MARKER in out.get("result", ""), describe(result)
        assert out.get("num_turns", 0) >= 2, describe(result)
        assert run["exit_code"] == 0, describe(result)
    else:
        items = [e["item"] for e in out if e.get("type") == "item.completed"]
        commands = [i for i in items if i.get("type") == "command_execution"]
        assert any(
            c.get("exit_code") == 0 and MARKER in c.get("aggregated_output", "") for c in commands
        ), describe(result)
        messages = [i["text"] for i in items if i.get("type") == "agent_message"]
        assert messages and MARKER in messages[-1], describe(result)
        assert not any(e.get("type") in ("turn.failed", "error") for e in out), describe(result)
        assert any(e.get("type") == "turn.completed" for e in out), describe(result)
        assert run["exit_code"] == 0, describe(result)
    check_upstream(result, agent, target)
    if virtual_key:
        # Every turn was counted against the agent's key: requests and tokens.
        counters = {c["slot"]: c for c in result["key_usage"]["counters"]}
        assert counters["requests.day"]["used"] >= 2, describe(result)
        assert counters["total_tokens.day"]["used"] > 0, describe(result)
