"""The observability pages in a real browser: Logs (filters bound to the URL,
live tail, the detail panel and its Copy as curl) and Dashboard (uPlot charts
from the usage rollups), and the traffic columns of Virtual Keys and Teams.

Fixtures and helpers come from test_ui_browser: each test starts its own empty
`switchyard` in front of this module's fake upstream, and fails on any console
or page error in the UI.
"""

import json
import re
import subprocess
import time

import anthropic
import httpx
import openai
from playwright.sync_api import expect

import pytest

from test_ui_browser import Gateway, Ui, browser, fake, gateway, ui, upstream  # noqa: F401 (fixtures)


def add_providers(gateway, fake):
    """`oa` (OpenAI format) and `an` (Anthropic format), both keyless, on the fake upstream."""
    gw = fake["gateway"]
    for name, base, fmt in [("oa", f"{gw}/mlflow", "openai"), ("an", f"{gw}/anthropic", "anthropic")]:
        r = httpx.post(f"{gateway.url}/api/providers", json={"name": name, "network_config": {"base_url": base},
                       "custom_provider_config": {"base_provider_type": fmt, "is_key_less": True}})
        assert r.status_code == 201, r.text


def wait_until(what, check, timeout=10.0):
    """Polls `check()` until it returns something truthy: the log writer flushes every 200 ms."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def logged(gateway, n, **params):
    """The log's rows once there are at least `n` matching `params`."""
    def check():
        rows = httpx.get(f"{gateway.url}/api/logs", params={"limit": 500, **params}).json()["data"]
        return rows if len(rows) >= n else None
    return wait_until(f"{n} logged request(s) {params}", check)


def chat(gateway, model, content="hi", key="unused", stream=False):
    """One chat completion through the gateway; returns (request id, reply or None for an error)."""
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0)
    try:
        raw = client.chat.completions.with_raw_response.create(
            model=model, messages=[{"role": "user", "content": content}], stream=stream)
    except openai.APIStatusError as e:
        return e.response.headers["x-request-id"], None
    reply = raw.parse()
    if stream:
        for _ in reply:
            pass
        return raw.headers["x-request-id"], None
    return raw.headers["x-request-id"], reply


def log_rows(page):
    return page.locator("table.logs tbody tr")


def test_logs_page_lists_filters_and_links_requests(ui, gateway, fake):
    add_providers(gateway, fake)
    ok_id, reply = chat(gateway, "oa/llama", "first")
    bad_id, _ = chat(gateway, "oa/error-400-demo")
    an = anthropic.Anthropic(base_url=f"{gateway.url}/anthropic", api_key="unused", max_retries=0)
    msg = an.messages.with_raw_response.create(model="an/claude-sonnet", max_tokens=32, messages=[{"role": "user", "content": "Hi"}])
    an_id = msg.headers["x-request-id"]
    logged(gateway, 3)

    page = ui.page
    page.goto(f"{gateway.url}/")
    page.get_by_role("complementary", name="Main navigation").get_by_role("link", name="Logs").click()
    expect(page.get_by_role("heading", name="Logs", level=1)).to_be_visible()
    rows = log_rows(page)
    expect(rows).to_have_count(3)
    # Newest first.
    assert [rows.nth(i).get_attribute("data-request-id") for i in range(3)] == [an_id, bad_id, ok_id]
    ok = page.locator(f'tr[data-request-id="{ok_id}"]')
    expect(ok).to_contain_text("200")
    expect(ok).to_contain_text("openai.chat")
    expect(ok).to_contain_text("oa")
    expect(ok).to_contain_text(f"{reply.usage.prompt_tokens} / {reply.usage.completion_tokens}")
    expect(page.locator(f'tr[data-request-id="{bad_id}"]')).to_contain_text("400")
    expect(page.locator(f'tr[data-request-id="{an_id}"]')).to_contain_text("anthropic.messages")
    ui.shot("30-logs-page")

    # Filter by provider: the Anthropic row stays, the others go; the URL says so.
    page.get_by_label("Provider").select_option("an")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-request-id", an_id)
    assert "provider=an" in page.url
    # The filtered view is a link: opened afresh, it shows the same rows and the same form.
    page.goto(page.url)
    page.reload()
    expect(page.get_by_label("Provider")).to_have_value("an")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-request-id", an_id)

    # Status class and free-text fields, applied with the form's button.
    page.get_by_role("button", name="Clear filters").click()
    expect(rows).to_have_count(3)
    page.get_by_label("Status").select_option("4xx")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-request-id", bad_id)
    page.get_by_label("Status").select_option("")
    page.get_by_label("Request id").fill(ok_id)
    page.get_by_role("button", name="Apply filters").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-request-id", ok_id)
    page.get_by_label("Request id").fill("no-such-request")
    page.get_by_label("Request id").press("Enter")
    expect(rows).to_have_count(0)
    expect(page.get_by_text("No request matches these filters.")).to_be_visible()

    # A filter the API refuses (a hand-edited link): its message is on the page.
    page.goto(f"{gateway.url}/#/logs?status=9xx")
    # Chromium logs the refused fetch: wait for that message before dropping it, or it may come after.
    with page.expect_console_message(lambda m: "status of 400" in m.text):
        page.reload()
    expect(page.get_by_test_id("logs-error")).to_have_text(
        'Could not load the request log: status: "9xx" is not a status class (2xx, 4xx, 5xx)')
    ui.expected_http_error(400, "/api/logs?status=9xx")


def test_logs_load_more_pages_through_the_cursor(ui, gateway, fake):
    add_providers(gateway, fake)
    ids = [chat(gateway, "oa/llama", f"n{i}")[0] for i in range(55)]
    logged(gateway, 55)
    page = ui.page
    page.goto(f"{gateway.url}/#/logs")
    rows = log_rows(page)
    expect(rows).to_have_count(50)  # the API's default page
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(55)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    shown = [rows.nth(i).get_attribute("data-request-id") for i in range(55)]
    assert shown == list(reversed(ids))


@pytest.mark.parametrize("payloads", [False, True], ids=["no-payloads", "payloads"])
def test_log_detail_panel_shows_tokens_and_copies_a_working_curl(browser, fake, payloads):
    gateway = Gateway(*(["--log-payloads"] if payloads else []))
    add_providers(gateway, fake)
    req_id, reply = chat(gateway, "oa/llama", "replay me")
    logged(gateway, 1)
    stored = httpx.get(f"{gateway.url}/api/logs/{req_id}").json()
    assert stored["has_payload"] is payloads
    u = Ui(browser)
    u.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=gateway.url)
    page = u.page
    try:
        page.goto(f"{gateway.url}/#/logs")
        opener = page.locator(f'tr[data-request-id="{req_id}"]').get_by_role("button")
        opener.click()
        panel = page.get_by_role("dialog", name=f"Request {req_id}")
        expect(panel).to_be_visible()
        tokens = panel.locator("section", has=page.get_by_role("heading", name="Tokens"))
        expect(tokens.locator("dt:text-is('Input') + dd")).to_have_text(str(reply.usage.prompt_tokens))
        expect(tokens.locator("dt:text-is('Output') + dd")).to_have_text(str(reply.usage.completion_tokens))
        expect(panel.get_by_test_id("token-source")).to_have_text(
            "Estimated: the upstream reported no usage." if stored["usage_estimated"] else "As the upstream reported them.")
        expect(panel).to_contain_text("Duration")
        expect(panel).to_contain_text("oa/llama")
        u.shot("31-log-detail-panel")

        panel.get_by_role("button", name="Copy as curl").click()
        command = page.evaluate("navigator.clipboard.readText()")
        assert command == panel.locator("#curl-command").inner_text()
        assert f"'{gateway.url}/v1/chat/completions'" in command
        assert '"Authorization: Bearer $SWITCHYARD_KEY"' in command
        # Replayed by a shell, the command is a working request against this gateway.
        out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30,
                             env={"PATH": "/usr/bin:/bin", "SWITCHYARD_KEY": "any-key"})
        assert out.returncode == 0, out.stderr
        said = "replay me" if payloads else "…"  # the stored body, or the skeleton's
        assert json.loads(out.stdout)["choices"][0]["message"]["content"] == f"Hello from llama! You said: {said}", out.stdout
        if payloads:
            # The stored bodies, pretty-printed.
            request = panel.locator("pre.payload").first
            assert json.loads(request.inner_text())["messages"] == [{"role": "user", "content": "replay me"}]
            assert "\n  " in request.inner_text()
            expect(panel.locator("pre.payload").nth(1)).to_contain_text("Hello from llama! You said: replay me")
        else:
            expect(panel).to_contain_text("Bodies are not stored for this request.")
            assert command.startswith("# The request body was not stored")

        # Escape closes the panel and gives focus back to the row's button.
        page.keyboard.press("Escape")
        expect(panel).to_be_hidden()
        expect(opener).to_be_focused()
        if payloads:
            # Text search in the stored bodies.
            other, _ = chat(gateway, "oa/llama", "something else")
            logged(gateway, 3)  # with the replay made by the curl command
            page.get_by_label("Search").fill("something else")
            page.get_by_label("Search").press("Enter")
            expect(log_rows(page)).to_have_count(1)
            expect(log_rows(page).first).to_have_attribute("data-request-id", other)
            assert "q=something+else" in page.url
    finally:
        u.close()
        gateway.stop()
    assert u.errors == [], "console or page errors in the UI:\n" + "\n".join(u.errors)


def test_live_tail_prepends_requests_made_while_the_page_is_open(ui, gateway, fake):
    add_providers(gateway, fake)
    first, _ = chat(gateway, "oa/llama", "before")
    logged(gateway, 1)
    page = ui.page
    page.goto(f"{gateway.url}/#/logs?provider=oa")
    rows = log_rows(page)
    expect(rows).to_have_count(1)
    page.get_by_role("switch", name="Live tail").check()
    expect(page.get_by_test_id("live-status")).to_have_text("Live: 0 new")
    # A request the filter excludes stays out; the matching one arrives on top, marked new.
    an = anthropic.Anthropic(base_url=f"{gateway.url}/anthropic", api_key="unused", max_retries=0)
    an.messages.create(model="an/claude-sonnet", max_tokens=16, messages=[{"role": "user", "content": "Hi"}])
    tailed, _ = chat(gateway, "oa/llama", "during", stream=True)
    new_row = page.locator(f'tr.live-new[data-request-id="{tailed}"]')
    expect(new_row).to_be_visible()
    expect(new_row).to_contain_text("new")
    expect(rows).to_have_count(2)
    expect(rows.first).to_have_attribute("data-request-id", tailed)
    expect(page.get_by_test_id("live-status")).to_have_text("Live: 1 new")
    ui.shot("32-logs-live-tail")
    page.get_by_role("switch", name="Live tail").uncheck()
    expect(page.get_by_test_id("live-status")).to_have_text("")


CHARTS = ["requests", "errors", "tokens", "cost", "latency", "ttft"]


def test_dashboard_draws_a_chart_per_measure_from_the_rollups(ui, gateway, fake):
    add_providers(gateway, fake)
    for i in range(4):
        chat(gateway, "oa/llama", f"dash {i}")
    chat(gateway, "oa/error-400-demo")
    chat(gateway, "an/claude", stream=True)
    wait_until("the usage rollups", lambda: httpx.get(f"{gateway.url}/api/usage").json()["totals"]["requests"] >= 6)

    page = ui.page
    page.clock.install()  # the 30 s refresh, without waiting 30 s
    page.goto(f"{gateway.url}/")
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.locator('[data-tile="Requests"] .tile-value')).to_have_text("6")
    expect(page.locator('[data-tile="Errors"] .tile-value')).to_have_text("1")
    # A request made while the page is open shows at the next refresh.
    chat(gateway, "oa/llama", "later")
    wait_until("the rollup of the 7th request", lambda: httpx.get(f"{gateway.url}/api/usage").json()["totals"]["requests"] >= 7)
    page.clock.run_for(29_000)
    expect(page.locator('[data-tile="Requests"] .tile-value')).to_have_text("6")
    page.clock.run_for(2_000)
    expect(page.locator('[data-tile="Requests"] .tile-value')).to_have_text("7")
    for chart in CHARTS:
        figure = page.locator(f'figure[data-chart="{chart}"]')
        expect(figure.locator("canvas").first).to_be_attached()
        # Each chart has a name and its numbers as a table.
        expect(figure.get_by_role("img")).to_have_attribute("aria-label", re.compile(r"per hour"))
        expect(figure.locator("details summary")).to_have_text("Show as table")
    requests = page.locator('figure[data-chart="requests"]')
    expect(requests.get_by_role("img")).to_have_attribute("aria-label", re.compile(r"All requests: 7 in total"))
    ui.shot("33-dashboard")

    # Grouped by provider: one series per provider, named in the table and the chart's name.
    page.get_by_label("Group by").select_option("provider")
    assert "group=provider" in page.url
    expect(requests.get_by_role("img")).to_have_attribute("aria-label", re.compile(r"oa: 6 in total; an: 1 in total"))
    requests.locator("summary").click()
    table = requests.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(["Bucket", "oa", "an"])
    expect(table.locator("tbody tr").last).to_contain_text("6")
    ui.shot("34-dashboard-by-provider")

    # A longer range switches to day buckets; the canvases are redrawn.
    page.get_by_label("Time range").select_option("7d")
    expect(requests.get_by_role("img")).to_have_attribute("aria-label", re.compile(r"per day"))
    for chart in CHARTS:
        expect(page.locator(f'figure[data-chart="{chart}"] canvas').first).to_be_attached()
    assert ui.errors == [], ui.errors

    # A range the API refuses (a hand-edited link): its message is on the page.
    page.goto(f"{gateway.url}/#/dashboard?range=custom&since=2027-01-02T00:00:00.000Z&until=2027-01-01T00:00:00.000Z")
    with page.expect_console_message(lambda m: "status of 400" in m.text):
        page.reload()
    expect(page.get_by_test_id("dashboard-error")).to_have_text("Could not load usage: since: must be before until")
    ui.errors[:] = [e for e in ui.errors if not ("status of 400" in e and "/api/usage?" in e)]


def test_keys_and_teams_show_their_traffic(ui, gateway, fake):
    add_providers(gateway, fake)
    assert httpx.post(f"{gateway.url}/api/teams", json={"name": "ml"}).status_code == 201
    made = httpx.post(f"{gateway.url}/api/keys", json={"name": "busy", "team": "ml"}).json()
    idle = httpx.post(f"{gateway.url}/api/keys", json={"name": "idle"}).json()
    for i in range(3):
        _, reply = chat(gateway, "oa/llama", f"key {i}", key=made["key"])
        assert reply is not None
    wait_until("the usage of key busy", lambda: httpx.get(f"{gateway.url}/api/usage", params={"key": made["id"]}).json()["totals"]["requests"] >= 3)

    page = ui.page
    page.goto(f"{gateway.url}/#/keys")
    busy = page.locator(f'tr[data-key="{made["id"]}"]')
    expect(busy.locator('[data-period="24 h"]')).to_contain_text("3 req")
    expect(busy.locator('[data-period="30 d"]')).to_contain_text("3 req")
    expect(page.locator(f'tr[data-key="{idle["id"]}"] [data-period="24 h"]')).to_contain_text("0 req")
    ui.shot("35-keys-traffic")
    page.get_by_role("link", name="Teams").click()
    expect(page.locator('tr[data-team="ml"] [data-period="24 h"]')).to_contain_text("3 req")
