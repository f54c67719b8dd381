"""Secrets audit: distinct random secrets are planted in every kind of credential Switchyard
holds (provider keys, credential extra headers, Basic auth, `env.NAME` values, the admin token)
and in the client's own credentials; the binary runs with `--log trace` and is driven through
the management API, the UI, the login page and model traffic (successes, upstream errors, an
unreachable upstream, streams, model lists). No response (status line, headers, body) and no
log line may contain any secret, and the client's credentials never reach the upstream."""

import base64
import json
import os
import pathlib
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from html.parser import HTMLParser

import httpx
import pytest

from conftest import FAKE_UPSTREAM, SWITCHYARD

LISTENING = re.compile(r"switchyard listening on (http://\S+)")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def secret(kind):
    return f"{kind}-{secrets.token_hex(12)}"


# Provider credentials (what the upstream must see) and the operator's / clients' own.
S = {
    "file_key": secret("sk-filekey"),
    "file_bearer": secret("dapi-filebearer"),
    "file_xapikey": secret("xak-file"),
    "env_header": secret("dapi-envheader"),
    "env_key": secret("sk-envkey"),
    "anthropic_key": secret("sk-ant-file"),
    "basic_password": secret("pw-basic"),
    "dead_key": secret("sk-dead"),
    "api_key": secret("sk-apikey"),
    "api_key_2": secret("sk-apikey2"),
    "api_bearer": secret("dapi-apibearer"),
    "api_token_header": secret("tok-apicustom"),
    "invalid_value": secret("sk-invalid"),
    "admin": secret("admin-token"),
    "client_bearer": secret("sk-client"),
    "client_xapikey": secret("sk-client-x"),
}
# Credentials in a base URL's userinfo (`http://user:password@host/...`): accepted by the config
# and sent upstream as Basic auth, so they are secrets too; audited separately.
U = {"userinfo_password": secret("pw-userinfo"), "userinfo_dead_password": secret("pw-userinfo-dead")}
USERINFO_USER = "svc-url"
BASIC_USER = "svc-user"
BASIC_HEADER = "Basic " + base64.b64encode(f"{BASIC_USER}:{S['basic_password']}".encode()).decode()
ENV = {"SY_AUDIT_HEADER_TOKEN": S["env_header"], "SY_AUDIT_KEY": S["env_key"]}
CLIENT = {"Authorization": f"Bearer {S['client_bearer']}"}
ADMIN = {"Authorization": f"Bearer {S['admin']}"}


def b64(text):
    return base64.b64encode(text.encode()).decode()


def needles(group):
    """For each secret of `group` (S or U), every string that would reveal it: the secret, its
    random part, and the encoded forms a Basic credential travels in."""
    out = {name: [value, value.rsplit("-", 1)[1]] for name, value in group.items()}
    if group is S:
        out["basic_password"] += [f"{BASIC_USER}:{S['basic_password']}", BASIC_HEADER.split(" ", 1)[1]]
        for name in ("file_bearer", "api_bearer", "client_bearer", "admin"):
            out[name].append(b64(S[name]).rstrip("="))
    else:
        for name, value in group.items():
            out[name].append(b64(f"{USERINFO_USER}:{value}"))
    return out


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def file_config(gw, dead_port):
    fast = {"retry_backoff_initial": 10, "retry_backoff_max": 20, "max_retries": 1}
    keyless = {"base_provider_type": "openai", "is_key_less": True}
    return {
        "providers": {
            "f-keyed": {
                "keys": [{"name": "main", "value": S["file_key"], "weight": 1}],
                "network_config": {"base_url": f"{gw}/keyed", **fast},
                "custom_provider_config": {"base_provider_type": "openai"},
            },
            "f-headers": {
                "network_config": {"base_url": f"{gw}/headers", **fast, "extra_headers": {
                    "Authorization": f"Bearer {S['file_bearer']}", "X-Api-Key": S["file_xapikey"], "X-Trace": "on"}},
                "custom_provider_config": keyless,
            },
            "f-env": {
                "keys": [{"value": "env.SY_AUDIT_KEY"}],
                "network_config": {"base_url": f"{gw}/envkey", **fast},
                "custom_provider_config": {"base_provider_type": "openai"},
            },
            "f-envheader": {
                "network_config": {"base_url": f"{gw}/envheader", **fast,
                                   "extra_headers": {"Authorization": "Bearer env.SY_AUDIT_HEADER_TOKEN"}},
                "custom_provider_config": keyless,
            },
            "f-basic": {
                "network_config": {"base_url": f"{gw}/basic", **fast, "extra_headers": {"Authorization": BASIC_HEADER}},
                "custom_provider_config": keyless,
            },
            "f-anthropic": {
                "keys": [{"value": S["anthropic_key"]}],
                "network_config": {"base_url": f"{gw}/anthropic", **fast},
                "custom_provider_config": {"base_provider_type": "anthropic"},
            },
            "f-userinfo": {
                "network_config": {"base_url": f"http://{USERINFO_USER}:{U['userinfo_password']}@{gw.split('://', 1)[1]}/userinfo", **fast},
                "custom_provider_config": keyless,
            },
            "f-userinfo-dead": {
                "network_config": {"base_url": f"http://{USERINFO_USER}:{U['userinfo_dead_password']}@127.0.0.1:{dead_port}/v", **fast},
                "custom_provider_config": keyless,
            },
            "f-dead": {
                "keys": [{"value": S["dead_key"]}],
                "network_config": {"base_url": f"http://127.0.0.1:{dead_port}/v", **fast},
                "custom_provider_config": {"base_provider_type": "openai"},
            },
        }
    }


class Recorder:
    """An httpx client that keeps every response (status line, headers, body) for scanning."""

    def __init__(self, base):
        self.http = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
        self.seen = []

    def keep(self, r, what):
        headers = "\n".join(f"{k}: {v}" for k, v in r.headers.multi_items())
        self.seen.append((what, f"HTTP {r.status_code} {r.reason_phrase}\n{headers}\n\n{r.text}"))
        return r

    def request(self, method, path, **kw):
        return self.keep(self.http.request(method, path, **kw), f"{method} {path}")

    def stream(self, method, path, **kw):
        with self.http.stream(method, path, **kw) as r:
            r.read()
            return self.keep(r, f"{method} {path} (stream)")


class Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href") and v and not v.startswith(("data:", "http:", "https:", "#", "mailto:")):
                self.refs.append(v)


@pytest.fixture(scope="module")
def audit():
    """Fake upstream (any credential accepted, everything recorded) and Switchyard at trace level."""
    tmp = tempfile.TemporaryDirectory()
    d = pathlib.Path(tmp.name)
    fake = subprocess.Popen([FAKE_UPSTREAM], stdout=subprocess.PIPE, text=True)
    procs = [fake]
    try:
        urls = json.loads(fake.stdout.readline())
        config = d / "config.json"
        config.write_text(json.dumps(file_config(urls["gateway"], closed_port()), indent=2))
        log_path = d / "switchyard.log"
        log = open(log_path, "w")
        env = dict(os.environ, SWITCHYARD_LOG="trace", SWITCHYARD_ADMIN_TOKEN=S["admin"], **ENV)
        gw = subprocess.Popen(
            [SWITCHYARD, "serve", "--config", str(config), "--port", "0", "--host", "127.0.0.1",
             "--data-dir", str(d / "data"), "--log", "trace"],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        procs.append(gw)
        deadline = time.monotonic() + 20
        url = None
        while url is None and time.monotonic() < deadline and gw.poll() is None:
            m = LISTENING.search(log_path.read_text(errors="replace"))
            url = m and m.group(1)
            time.sleep(0.05)
        assert url, f"switchyard did not start: {log_path.read_text(errors='replace')[-3000:]}"
        yield {"url": url, "fake": urls, "gw": gw, "log": log_path, "dir": d}
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        tmp.cleanup()


def fake_requests(fake_urls):
    return httpx.get(f"{fake_urls['gateway']}/__fake/requests").json() + httpx.get(
        f"{fake_urls['workspace']}/__fake/requests").json()


def chat_body(model, stream=False, content="Hello!"):
    b = {"model": model, "messages": [{"role": "user", "content": content}]}
    if stream:
        b["stream"] = True
        b["stream_options"] = {"include_usage": True}
    return b


def messages_body(model, stream=False):
    return {"model": model, "max_tokens": 50, "stream": stream, "messages": [{"role": "user", "content": "Hello!"}]}


def exercise(rec, urls):
    """Everything a client, an operator and the UI do; returns notes on what each call gave."""
    notes = {}
    gw = urls["gateway"]
    # --- management API: auth, list/get, create/update (with secrets), tests, errors.
    for h in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": S["admin"]}):
        r = rec.request("GET", "/api/providers", headers=h)
        assert r.status_code == 401, (h, r.status_code)
    assert rec.request("GET", "/api/providers", headers=ADMIN).status_code == 200
    api_keyed = {"name": "a-keyed", "keys": [{"name": "k1", "value": S["api_key"]}],
                 "network_config": {"base_url": f"{gw}/apikeyed", "retry_backoff_initial": 10, "retry_backoff_max": 20},
                 "custom_provider_config": {"base_provider_type": "openai"}}
    r = rec.request("POST", "/api/providers", json=api_keyed, headers=ADMIN)
    assert r.status_code == 201, r.text
    api_headers = {"name": "a-headers",
                   "network_config": {"base_url": f"{gw}/apiheaders", "retry_backoff_initial": 10,
                                      "retry_backoff_max": 20, "extra_headers": {
                       "Authorization": f"Bearer {S['api_bearer']}", "X-Custom-Token": S["api_token_header"]}},
                   "custom_provider_config": {"base_provider_type": "openai", "is_key_less": True}}
    assert rec.request("POST", "/api/providers", json=api_headers, headers=ADMIN).status_code == 201
    # Duplicates, invalid values carrying a secret, a redacted marker with no stored secret.
    assert rec.request("POST", "/api/providers", json=api_keyed, headers=ADMIN).status_code == 409
    bad_header = {**api_headers, "name": "a-bad", "network_config": {"base_url": f"{gw}/x", "extra_headers": {
        "Authorization": f"Bearer {S['invalid_value']}\nX-Injected: 1"}}}
    notes["bad_header"] = rec.request("POST", "/api/providers", json=bad_header, headers=ADMIN).status_code
    bad_key = {**api_keyed, "name": "a-badkey", "keys": [{"value": f"{S['invalid_value']}\r\nbad"}]}
    notes["bad_key"] = rec.request("POST", "/api/providers", json=bad_key, headers=ADMIN).status_code
    bad_env = {**api_keyed, "name": "a-badenv", "keys": [{"value": "env.SY_AUDIT_UNSET_VARIABLE"}]}
    rec.request("POST", "/api/providers", json=bad_env, headers=ADMIN)
    for name in ("f-keyed", "f-headers", "f-env", "f-envheader", "f-basic", "f-anthropic", "f-dead", "a-keyed", "a-headers"):
        got = rec.request("GET", f"/api/providers/{name}", headers=ADMIN)
        assert got.status_code == 200, (name, got.text)
        rec.request("PUT", f"/api/providers/{name}", json=got.json(), headers=ADMIN)  # file ones: 409
        rec.request("POST", f"/api/providers/{name}/test", json={}, headers=ADMIN)
        rec.request("POST", f"/api/providers/{name}/test", json={"model": "llama"}, headers=ADMIN)
        rec.request("POST", f"/api/providers/{name}/test", json={"model": "error-400"}, headers=ADMIN)
        rec.request("POST", f"/api/providers/{name}/test", json={"model": "fault-503-always"}, headers=ADMIN)
    # Round trip of the redacted view keeps the secret; a new key replaces it.
    view = rec.request("GET", "/api/providers/a-headers", headers=ADMIN).json()
    assert rec.request("PUT", "/api/providers/a-headers", json=view, headers=ADMIN).status_code == 200
    view = rec.request("GET", "/api/providers/a-keyed", headers=ADMIN).json()
    view["keys"] = [{"name": "k1", "value": S["api_key_2"]}]
    assert rec.request("PUT", "/api/providers/a-keyed", json=view, headers=ADMIN).status_code == 200
    wrong = dict(view, keys=[{"name": "nope", "value": "********"}])
    assert rec.request("PUT", "/api/providers/a-keyed", json=wrong, headers=ADMIN).status_code == 400
    rec.request("PUT", "/api/providers/a-keyed", content=b"{not json " + S["invalid_value"].encode(), headers=ADMIN)
    rec.request("GET", "/api/providers", headers=ADMIN)
    rec.request("GET", "/api/providers/nope", headers=ADMIN)
    rec.request("GET", "/api/meta", headers=ADMIN)
    rec.request("GET", "/api/openapi.json", headers=ADMIN)

    # --- UI, its assets, login/logout.
    for path in ("/", "/ui", "/login", "/login.css"):
        rec.request("GET", path)
    rec.request("GET", "/ui/")  # no session: redirect to /login
    index = rec.request("GET", "/ui/", headers=ADMIN)
    assert index.status_code == 200, index.status_code
    parser = Assets()
    parser.feed(index.text)
    assert parser.refs, "the UI references no assets?"
    for ref in parser.refs:
        path = ref if ref.startswith("/") else f"/ui/{ref}"
        assert rec.request("GET", path, headers=ADMIN).status_code == 200, path
    rec.request("GET", "/ui/providers/f-keyed", headers=ADMIN)
    assert rec.request("POST", "/login", data={"token": "not-it"}).status_code == 401
    login = rec.request("POST", "/login", data={"token": S["admin"]})
    assert login.status_code in (302, 303, 307), login.status_code
    cookie = login.headers["set-cookie"].split(";", 1)[0]
    session = {"Cookie": cookie, "X-Requested-With": "switchyard"}
    assert rec.request("GET", "/api/providers", headers=session).status_code == 200
    rec.request("POST", "/api/providers/a-keyed/test", json={"model": "llama"}, headers=session)
    rec.request("POST", "/api/providers/a-keyed/test", json={"model": "llama"}, headers={"Cookie": cookie})  # CSRF 403
    rec.request("POST", "/logout", headers=session)

    # --- model traffic with the client's own credentials.
    ok_models = ["f-keyed", "f-headers", "f-env", "f-envheader", "f-basic", "f-anthropic", "a-keyed", "a-headers"]
    for p in ok_models:
        for stream in (False, True):
            call = rec.stream if stream else rec.request
            assert call("POST", "/v1/chat/completions", json=chat_body(f"{p}/llama", stream), headers=CLIENT).status_code == 200, p
            r = call("POST", "/anthropic/v1/messages", json=messages_body(f"{p}/claude-x", stream),
                     headers={"x-api-key": S["client_xapikey"], "anthropic-version": "2023-06-01"})
            assert r.status_code == 200, (p, r.text[:300])
            r = call("POST", "/v1/responses", json={"model": f"{p}/gpt", "input": "Hello!", "stream": stream}, headers=CLIENT)
            assert r.status_code == 200, (p, r.text[:300])
        rec.request("POST", "/v1/completions", json={"model": f"{p}/llama", "prompt": "Hi", "max_tokens": 5}, headers=CLIENT)
        rec.request("POST", "/v1/embeddings", json={"model": f"{p}/emb", "input": "Hi"}, headers=CLIENT)
        rec.request("POST", "/anthropic/v1/messages/count_tokens", json=messages_body(f"{p}/claude-x"),
                    headers={"Authorization": f"Bearer {S['client_bearer']}", "anthropic-version": "2023-06-01"})
    for p in ("f-keyed", "f-headers", "f-basic", "f-anthropic", "a-headers"):
        for model in ("error-400", "error-openai-404", "fault-503-always", "fault-429-once-x", "fault-529-always"):
            rec.request("POST", "/v1/chat/completions", json=chat_body(f"{p}/{model}"), headers=CLIENT)
            rec.request("POST", "/anthropic/v1/messages", json=messages_body(f"{p}/{model}"),
                        headers={"x-api-key": S["client_xapikey"]})
        for model in ("fault-reset", "fault-truncate", "fault-stream-error"):
            rec.stream("POST", "/v1/chat/completions", json=chat_body(f"{p}/{model}", True), headers=CLIENT)
            rec.stream("POST", "/anthropic/v1/messages", json=messages_body(f"{p}/{model}", True),
                       headers={"x-api-key": S["client_xapikey"]})
            rec.stream("POST", "/v1/responses", json={"model": f"{p}/{model}", "input": "x", "stream": True}, headers=CLIENT)
    r = rec.request("POST", "/v1/chat/completions", json=chat_body("f-dead/llama"), headers=CLIENT)
    notes["dead"] = (r.status_code, r.text[:300])
    assert r.status_code >= 500, notes["dead"]
    rec.stream("POST", "/v1/chat/completions", json=chat_body("f-dead/llama", True), headers=CLIENT)
    rec.request("POST", "/anthropic/v1/messages", json=messages_body("f-dead/claude"), headers={"x-api-key": S["client_xapikey"]})
    for p in ("f-userinfo", "f-userinfo-dead"):
        rec.request("GET", f"/api/providers/{p}", headers=ADMIN)
        rec.request("POST", f"/api/providers/{p}/test", json={}, headers=ADMIN)
        rec.request("POST", f"/api/providers/{p}/test", json={"model": "llama"}, headers=ADMIN)
        rec.request("POST", "/v1/chat/completions", json=chat_body(f"{p}/llama"), headers=CLIENT)
        rec.stream("POST", "/v1/chat/completions", json=chat_body(f"{p}/llama", True), headers=CLIENT)
        rec.request("POST", "/v1/chat/completions", json=chat_body(f"{p}/error-400"), headers=CLIENT)
    rec.request("POST", "/v1/chat/completions", json=chat_body("nobody/llama"), headers=CLIENT)
    rec.request("POST", "/v1/chat/completions", content=b"{broken", headers={**CLIENT, "content-type": "application/json"})
    rec.request("GET", "/v1/nothing-here", headers=CLIENT)
    models = rec.request("GET", "/v1/models", headers=CLIENT)
    assert models.status_code == 200, models.text
    rec.request("GET", "/anthropic/v1/models", headers={"x-api-key": S["client_xapikey"], "anthropic-version": "2023-06-01"})
    rec.request("GET", "/openai/v1/models", headers=CLIENT)
    rec.request("GET", "/health", headers=CLIENT)
    return notes


def scan(texts, group):
    """One line per (place, secret) found, with the text around it."""
    hits = []
    forms = needles(group)
    for what, text in texts:
        for name, candidates in forms.items():
            found = next((n for n in candidates if n in text), None)
            if found:
                i = text.index(found)
                hits.append(f"{name} in {what}: …{text[max(0, i - 120):i + len(found) + 40]!r}")
    return hits


@pytest.fixture(scope="module")
def collected(audit):
    """Runs everything once; then stops the gateway so that every log line is written."""
    rec = Recorder(audit["url"])
    httpx.delete(f"{audit['fake']['gateway']}/__fake/requests")
    httpx.delete(f"{audit['fake']['workspace']}/__fake/requests")
    exercise(rec, audit["fake"])
    upstream = fake_requests(audit["fake"])
    gw = audit["gw"]
    gw.send_signal(signal.SIGTERM)
    assert gw.wait(15) == 0
    log = ANSI.sub("", audit["log"].read_text(errors="replace"))
    if os.environ.get("SWITCHYARD_AUDIT_KEEP"):  # for a look at what was scanned
        keep = pathlib.Path(os.environ["SWITCHYARD_AUDIT_KEEP"])
        keep.mkdir(parents=True, exist_ok=True)
        (keep / "switchyard.log").write_text(log)
        (keep / "responses.txt").write_text("\n\n=====\n".join(f"{w}\n{t}" for w, t in rec.seen))
        (keep / "secrets.json").write_text(json.dumps({**S, **U}, indent=2))
    lines = [(f"log line {n}", line) for n, line in enumerate(log.splitlines(), 1)]
    assert len(lines) > 100 and any(" TRACE " in l for _, l in lines), "trace logging did not happen"
    return {"responses": rec.seen, "log": lines, "upstream": upstream}


def test_planted_credentials_are_the_ones_sent_upstream(collected):
    """Without this the audit would prove nothing: every planted credential is in use."""
    upstream = collected["upstream"]

    def auth_seen(prefix):
        return {(r["headers"].get("authorization"), r["headers"].get("x-api-key"))
                for r in upstream if r["path"].startswith(prefix)}
    assert (f"Bearer {S['file_key']}", None) in auth_seen("/keyed/")
    assert (f"Bearer {S['file_bearer']}", S["file_xapikey"]) in auth_seen("/headers/")
    assert (f"Bearer {S['env_key']}", None) in auth_seen("/envkey/")
    assert (f"Bearer {S['env_header']}", None) in auth_seen("/envheader/")
    assert (BASIC_HEADER, None) in auth_seen("/basic/")
    assert (None, S["anthropic_key"]) in auth_seen("/anthropic/")
    assert (f"Bearer {S['api_key_2']}", None) in auth_seen("/apikeyed/")
    assert (f"Bearer {S['api_bearer']}", None) in auth_seen("/apiheaders/")
    assert any(r["headers"].get("x-custom-token") == S["api_token_header"] for r in upstream)
    assert (f"Basic {b64(USERINFO_USER + ':' + U['userinfo_password'])}", None) in auth_seen("/userinfo/")


def test_client_credentials_never_reach_the_upstream(collected):
    assert collected["upstream"], "the fake upstream saw nothing"
    for r in collected["upstream"]:
        blob = json.dumps(r)
        for name in ("client_bearer", "client_xapikey", "admin"):
            assert S[name].rsplit("-", 1)[1] not in blob, f"{name} forwarded upstream: {r}"


def test_no_secret_in_any_response_or_log_line(collected):
    leaks = scan(collected["responses"], S) + scan(collected["log"], S)
    assert not leaks, f"{len(leaks)} secret leak(s):\n" + "\n".join(leaks[:25])


def test_no_base_url_password_in_any_response_or_log_line(collected):
    leaks = scan(collected["responses"], U) + scan(collected["log"], U)
    assert not leaks, f"{len(leaks)} leak(s) of a password given in a base URL:\n" + "\n".join(leaks[:25])
