"""Process faults against the real binary: SIGKILL during a burst of provider edits (every
acknowledged write survives, the database stays intact), SIGTERM draining streams within
`--shutdown-grace-secs` (and not waiting longer), and a full disk under `--data-dir`
(a clear error, the gateway keeps serving, writes work again once space is back)."""

import json
import os
import pathlib
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time

import httpx
import pytest

from conftest import SWITCHYARD, start_gateway

DB_FILE = "switchyard.db"  # crates/store/src/sqlite.rs: SqliteStore::open_dir
LISTENING = "switchyard listening on "


class Gateway:
    """`switchyard serve` on a data dir, stderr kept in a file (never a pipe that can fill)."""

    def __init__(self, data_dir, *extra_args, env_extra=None):
        self.data_dir = pathlib.Path(data_dir)
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-switchyard-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "w")
        env = dict(os.environ, SWITCHYARD_LOG="info", **(env_extra or {}))
        self.proc = subprocess.Popen(
            [SWITCHYARD, "serve", "--port", "0", "--data-dir", str(self.data_dir),
             "--api-env-allow", "DATABRICKS_TOKEN", *extra_args],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env,
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith(LISTENING):
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"switchyard did not start: {line!r}\n{self.logs()}")
        self.url = line[len(LISTENING):]

    def logs(self):
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self, sig=signal.SIGKILL):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)

    def stop(self):
        """SIGTERM, then SIGKILL if it does not exit; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def integrity_check(db_path):
    con = sqlite3.connect(db_path)
    try:
        return con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()


def stored_rows(db_path):
    con = sqlite3.connect(db_path)
    try:
        return {n: json.loads(c) for n, c in con.execute("SELECT name, config FROM providers")}
    finally:
        con.close()


# ---------------------------------------------------------------- SIGKILL during edits

# Few providers: every edit rebuilds every provider's HTTP client (~40 ms each in a debug
# build), so a write costs ~40 ms per provider and writes are serialised.
THREADS = 4
NAMES_PER_THREAD = 2


def provider_body(name, rev):
    """A keyed OpenAI provider whose content says which write it came from (`rev`)."""
    return {
        "name": name,
        "keys": [{"name": "main", "value": f"sk-{name}-r{rev}", "weight": 1}],
        "network_config": {
            "base_url": f"http://127.0.0.1:9/{name}/r{rev}",
            "extra_headers": {"X-Rev": str(rev)},
            "max_retries": rev % 4,
        },
        "custom_provider_config": {"base_provider_type": "openai"},
    }


def view_rev(view):
    return int(view["network_config"]["extra_headers"]["X-Rev"])


class Editor(threading.Thread):
    """Creates, replaces and deletes its own providers (no other thread touches them), one
    request at a time, and records what each request was answered."""

    def __init__(self, url, index, known, revs, stop_at_error, rng, acks):
        super().__init__(daemon=True)
        self.url, self.index, self.rng = url, index, rng
        self.names = [f"t{index}-p{j}" for j in range(NAMES_PER_THREAD)]
        self.exists = {n: known.get(n) is not None for n in self.names}
        self.rev = revs  # name -> last rev used, across rounds: every write is unique
        self.events = []  # (name, op, rev, outcome, body): outcome ack | refused | unknown
        self.stop_at_error = stop_at_error
        self.acks = acks  # shared: one item per acknowledged write, all threads
        self.client = httpx.Client(base_url=url, timeout=10)  # built here: SSL setup is slow
        self.began = threading.Event()

    def run(self):
        with self.client as c:
            while not self.stop_at_error.is_set():
                self.began.set()
                name = self.rng.choice(self.names)
                if not self.exists[name]:
                    op = "create"
                else:
                    op = "update" if self.rng.random() < 0.7 else "delete"
                rev = self.rev.get(name, 0) + 1
                self.rev[name] = rev
                try:
                    if op == "create":
                        r = c.post("/api/providers", json=provider_body(name, rev))
                    elif op == "update":
                        body = provider_body(name, rev)
                        del body["name"]
                        r = c.put(f"/api/providers/{name}", json=body)
                    else:
                        r = c.delete(f"/api/providers/{name}")
                except httpx.TransportError:
                    self.events.append((name, op, rev, "unknown", None))
                    return  # the process is gone; nothing after this was sent
                if 200 <= r.status_code < 300:
                    body = r.json() if r.content else None
                    if isinstance(body, dict):
                        body.pop("warnings", None)
                    self.events.append((name, op, rev, "ack", body))
                    self.acks.append(name)
                    self.exists[name] = op != "delete"
                else:
                    self.events.append((name, op, rev, f"refused {r.status_code} {r.text[:200]}", None))


def expected_states(known, events):
    """Per provider: the states allowed after the crash. The last acknowledged write must be
    there; a write in flight when the process died (no answer) may or may not be."""
    allowed = {}
    for name, op, rev, outcome, body in events:
        current = allowed.get(name, [("known", known.get(name))])[0]
        if outcome == "ack":
            allowed[name] = [("ack", None if op == "delete" else body)]
        elif outcome == "unknown":
            maybe = None if op == "delete" else ("rev", rev)
            allowed[name] = [current, ("unknown", maybe)]
        else:  # refused: must not have changed anything
            allowed[name] = [current]
    return allowed


def matches(actual, state):
    kind, want = state
    if kind == "unknown":
        if want is None:
            return actual is None
        return actual is not None and view_rev(actual) == want[1]
    return actual == want


def test_sigkill_during_a_burst_of_edits_keeps_every_acknowledged_write():
    rng = random.Random(20240611)
    with tempfile.TemporaryDirectory() as tmp:
        data = pathlib.Path(tmp) / "data"
        known = {}  # name -> view, as verified after the previous round
        revs = {}
        total_acked = 0
        # Kill timings: after this many acknowledged writes (in the round), plus a random delay
        # (a write takes ~40 ms per provider; the delay lands anywhere inside one).
        for round_no, (after_acks, delay) in enumerate([(0, 0.02), (2, 0.1), (5, 0.25), (8, 0.4)]):
            kill_after = f"{after_acks} acks + {delay}s"
            gw = Gateway(data)
            try:
                stop = threading.Event()
                acks = []
                editors = [Editor(gw.url, i, known, revs, stop, random.Random(rng.random()), acks) for i in range(THREADS)]
                for e in editors:
                    e.start()
                for e in editors:
                    assert e.began.wait(10)
                waited = time.monotonic()
                while len(acks) < after_acks and time.monotonic() - waited < 30:
                    time.sleep(0.005)
                assert len(acks) >= after_acks, f"only {len(acks)} writes acknowledged in 30 s"
                time.sleep(rng.uniform(0, delay))
                rc = gw.kill(signal.SIGKILL)
                assert rc == -signal.SIGKILL
                stop.set()
                for e in editors:
                    e.join(15)
                    assert not e.is_alive(), "an editor thread hung after the kill"
            finally:
                gw.stop()
            events = [ev for e in editors for ev in e.events]
            acked = sum(1 for ev in events if ev[3] == "ack")
            refused = [ev for ev in events if ev[3] not in ("ack", "unknown")]
            assert not refused, f"round {round_no}: writes refused before the kill: {refused[:5]}"
            total_acked += acked

            # The crash image itself (db + WAL as the kill left them), checked on a copy.
            image = pathlib.Path(tmp) / f"image-{round_no}"
            image.mkdir()
            for suffix in ("", "-wal"):
                src = data / f"{DB_FILE}{suffix}"
                if src.exists():
                    shutil.copy2(src, image / src.name)
            assert integrity_check(image / DB_FILE) == [("ok",)], f"round {round_no}: crash image is corrupt"

            allowed = expected_states(known, events)
            gw = Gateway(data)
            try:
                listed = httpx.get(f"{gw.url}/api/providers", timeout=10)
                assert listed.status_code == 200, listed.text
                actual = {p["name"]: p for p in listed.json()}
                problems = []
                for name, states in allowed.items():
                    got = actual.get(name)
                    if not any(matches(got, s) for s in states):
                        problems.append(f"{name}: got {got and view_rev(got)} ({got}), allowed {states}")
                    if got is not None:
                        one = httpx.get(f"{gw.url}/api/providers/{name}", timeout=10)
                        assert one.status_code == 200 and one.json() == got, (name, one.status_code, one.text)
                    else:
                        gone = httpx.get(f"{gw.url}/api/providers/{name}", timeout=10)
                        assert gone.status_code == 404, (name, gone.status_code, gone.text)
                stray = set(actual) - set(allowed) - {n for n, v in known.items() if v is not None}
                assert not stray, f"providers nobody wrote: {stray}"
                assert not problems, f"round {round_no} (kill after {kill_after}, {acked} acked):\n" + "\n".join(problems)
                in_flight = [(n, op, rev) for n, op, rev, outcome, _ in events if outcome == "unknown"]
                applied = [f for f in in_flight if (actual.get(f[0]) is None) == (f[1] == "delete")
                           and (f[1] == "delete" or view_rev(actual[f[0]]) == f[2])]
                print(f"round {round_no}: kill after {kill_after}, {acked} acknowledged, "
                      f"{len(in_flight)} in flight, {len(applied)} of them applied")
                known = {**{n: None for n in allowed}, **{n: v for n, v in actual.items()}}
            finally:
                assert gw.stop() == 0, gw.logs()[-2000:]
            assert integrity_check(data / DB_FILE) == [("ok",)]
            # The secret (redacted by the API) is stored as the acknowledged write sent it.
            rows = stored_rows(data / DB_FILE)
            for name, view in known.items():
                if view is not None:
                    rev = view_rev(view)
                    assert rows[name]["keys"][0]["value"] == f"sk-{name}-r{rev}", (name, rows[name])
        assert total_acked >= 15, f"only {total_acked} writes were acknowledged in all rounds"


# ---------------------------------------------------------------- SIGTERM and the grace period


def stream_in_background(url, model, words, timeout=60):
    """Streams a chat; returns (thread, first-bytes event, result dict)."""
    result = {"chunks": [], "error": None}
    first = threading.Event()

    def run():
        body = {"model": model, "stream": True, "messages": [{"role": "user", "content": " ".join(f"w{i}" for i in range(words))}]}
        try:
            with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=timeout) as r:
                result["status"] = r.status_code
                for chunk in r.iter_text():
                    result["chunks"].append(chunk)
                    first.set()
        except httpx.HTTPError as e:
            result["error"] = repr(e)
        finally:
            result["ended"] = time.monotonic()
            first.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, first, result


def refused(url):
    try:
        httpx.get(f"{url}/health", timeout=1)
    except httpx.ConnectError:
        return "refused"
    except httpx.TimeoutException:
        return "accepted-but-not-answered"
    except httpx.TransportError as e:
        return f"other: {e!r}"
    return "served"


def test_sigterm_mid_stream_drains_within_the_grace(fake):
    with tempfile.TemporaryDirectory() as d:
        proc, url = start_gateway(fake, d, ["--shutdown-grace-secs", "5"])
        try:
            words = 40  # 40 content events + role + finish + [DONE], 50 ms apart: ~2.2 s
            t, first, result = stream_in_background(url, "databricks-mlflow/slow-drain", words)
            assert first.wait(10) and result["chunks"], result
            signalled = time.monotonic()
            proc.proc.send_signal(signal.SIGTERM)
            # New connections are refused while the stream is still being relayed.
            seen = None
            while time.monotonic() - signalled < 1.5:
                seen = refused(url)
                if seen == "refused":
                    break
                time.sleep(0.05)
            refused_at = time.monotonic()
            assert seen == "refused", f"a new connection after SIGTERM was {seen}"
            assert t.is_alive(), "the stream ended before the refusal could be checked"
            rc = proc.proc.wait(timeout=10)
            exited = time.monotonic()
            t.join(5)
        finally:
            proc.stop(signal.SIGKILL)
        text = "".join(result["chunks"])
        assert result["error"] is None and result["status"] == 200, result
        assert text.endswith("data: [DONE]\n\n"), text[-300:]
        events = [json.loads(l[6:]) for l in text.split("\n") if l.startswith("data: {")]
        content = "".join(e["choices"][0]["delta"].get("content") or "" for e in events if e["choices"])
        assert f"w{words - 1}" in content and all(f"w{i}" in content.split() for i in range(words)), content
        assert rc == 0, proc.proc.stderr.read()
        assert refused_at < result["ended"], "refusal checked only after the stream ended"
        assert exited - signalled < 5, f"exit took {exited - signalled:.1f}s (grace 5s)"
        assert exited >= result["ended"] - 0.05, "exited before the stream was fully relayed"


def test_sigterm_stops_at_the_grace_when_streams_outlast_it(fake):
    grace = 2
    with tempfile.TemporaryDirectory() as d:
        proc, url = start_gateway(fake, d, ["--shutdown-grace-secs", str(grace)])
        try:
            # ~10 s of stream (200 words at 50 ms) and a request the upstream never answers.
            t, first, result = stream_in_background(url, "databricks-mlflow/slow-long", 200)
            hung = {}

            def hang():
                try:
                    r = httpx.post(f"{url}/v1/chat/completions", timeout=30,
                                   json={"model": "databricks-mlflow/hang-forever", "messages": [{"role": "user", "content": "x"}]})
                    hung["status"], hung["body"] = r.status_code, r.text
                except httpx.HTTPError as e:
                    hung["error"] = repr(e)

            h = threading.Thread(target=hang, daemon=True)
            h.start()
            assert first.wait(10) and result["chunks"], result
            time.sleep(0.3)  # the hanging request has reached the upstream by now
            signalled = time.monotonic()
            proc.proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.proc.wait(timeout=grace + 10)
            except subprocess.TimeoutExpired:
                rc = None
            took = time.monotonic() - signalled
            t.join(5)
            h.join(5)
        finally:
            proc.stop(signal.SIGKILL)
        print(f"grace {grace}s: exit {rc} after {took:.2f}s; stream error {result['error']}, "
              f"tail {''.join(result['chunks'])[-120:]!r}; hanging request: {hung}")
        assert rc is not None, f"still running {grace + 10}s after SIGTERM with grace {grace}s"
        assert grace - 0.3 <= took <= grace + 1.5, f"exited {took:.2f}s after SIGTERM; grace is {grace}s"
        text = "".join(result["chunks"])
        assert not text.endswith("data: [DONE]\n\n"), "a 10 s stream cannot have completed in the grace"
        assert not t.is_alive() and not h.is_alive(), "client connections were left open after exit"
        assert "status" not in hung or hung["status"] >= 500, hung
        assert rc == 0, f"exit code {rc}"


# ---------------------------------------------------------------- full disk


@pytest.fixture()
def small_tmpfs():
    mnt = tempfile.mkdtemp(prefix="switchyard-fulldisk-")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(mnt)
        why = (r.stderr or r.stdout).strip()
        privileges = os.geteuid() != 0 or any(
            s in why.lower() for s in ("permission denied", "operation not permitted", "only root", "must be superuser")
        )
        if not privileges:
            pytest.fail(f"mount -t tmpfs failed: {why}")
        # On CI (root) this must work.
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs for the full-disk test: {why}")
        pytest.skip(f"mounting a tmpfs needs root (CAP_SYS_ADMIN): {why}")
    try:
        yield pathlib.Path(mnt)
    finally:
        if subprocess.run(["umount", mnt], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", mnt], capture_output=True)
        os.rmdir(mnt)


def fill(directory):
    """Writes a filler file until the filesystem says ENOSPC; returns its path."""
    path = directory / "filler"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 16, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as e:
                assert e.errno == 28, e  # ENOSPC
    finally:
        os.close(fd)
    return path


def keyless(name, fake_urls):
    return {
        "name": name,
        "network_config": {"base_url": f"{fake_urls['gateway']}/mlflow",
                           "extra_headers": {"Authorization": "Bearer env.DATABRICKS_TOKEN"}},
        "custom_provider_config": {"base_provider_type": "openai", "is_key_less": True},
    }


def chat(url, model):
    return httpx.post(f"{url}/v1/chat/completions", timeout=10,
                      json={"model": model, "messages": [{"role": "user", "content": "hi"}]})


def test_full_data_dir_gives_a_clear_error_and_recovers(fake, small_tmpfs):
    data = small_tmpfs
    proc, url = start_gateway(fake, data, ["--api-env-allow", "DATABRICKS_TOKEN"])
    try:
        r = httpx.post(f"{url}/api/providers", json=keyless("before-full", fake), timeout=10)
        assert r.status_code == 201, r.text
        filler = fill(data)
        assert shutil.disk_usage(data).free < 4096

        started = time.monotonic()
        r = httpx.post(f"{url}/api/providers", json=keyless("while-full", fake), timeout=15)
        assert time.monotonic() - started < 10, "the write hung on a full disk"
        assert r.status_code == 507, (r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/json"), r.headers
        message = r.json()["error"]["message"]
        assert any(w in message.lower() for w in ("disk", "storage", "space")), message

        edit = keyless("before-full", fake)
        edit["network_config"]["base_url"] = f"{fake['gateway']}/elsewhere"
        r = httpx.put(f"{url}/api/providers/before-full", json=edit, timeout=15)
        assert 500 <= r.status_code < 600 and "disk" in r.json()["error"]["message"].lower(), r.text

        r = httpx.delete(f"{url}/api/providers/before-full", timeout=15)
        assert 500 <= r.status_code < 600 and "disk" in r.json()["error"]["message"].lower(), r.text

        # Still serving: reads, model traffic on file and API providers, health.
        assert proc.proc.poll() is None, "the process died on a full disk"
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
        names = [p["name"] for p in httpx.get(f"{url}/api/providers", timeout=5).json()]
        assert "before-full" in names and "while-full" not in names, names
        got = httpx.get(f"{url}/api/providers/before-full", timeout=5).json()
        assert got["network_config"]["base_url"].endswith("/mlflow"), "a failed edit must not apply"
        assert chat(url, "databricks-mlflow/llama").status_code == 200
        assert chat(url, "before-full/llama").status_code == 200
        assert chat(url, "while-full/llama").status_code == 404, "a failed create must not apply"

        filler.unlink()
        r = httpx.post(f"{url}/api/providers", json=keyless("after-full", fake), timeout=10)
        assert r.status_code == 201, r.text
        assert chat(url, "after-full/llama").status_code == 200
    finally:
        rc = proc.stop()
        err = proc.proc.stderr.read()
    assert rc == 0, err
    assert "panicked" not in err, err
    assert integrity_check(data / DB_FILE) == [("ok",)]

    proc, url = start_gateway(fake, data, ["--api-env-allow", "DATABRICKS_TOKEN"])
    try:
        names = [p["name"] for p in httpx.get(f"{url}/api/providers", timeout=5).json()]
        assert {"before-full", "after-full"} <= set(names) and "while-full" not in names, names
    finally:
        assert proc.stop() == 0
    assert integrity_check(data / DB_FILE) == [("ok",)]
