"""The web UI in a real browser: headless Debian Chromium driven by Playwright.

Each test starts its own `switchyard` with no config file and an empty
--data-dir, so the UI starts empty, in front of this module's own fake upstream
(any bearer accepted; what it saw is read back from GET /__fake/requests).
The seed's Databricks walkthrough is done with the UI alone, then requests go
through the gateway and the fake upstream's log is checked.

Screenshots of every page and dialog go to artifacts/screenshots/ (git-ignored).
Console errors and uncaught page errors fail the test that caused them.
"""

import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import tempfile

import anthropic
import httpx
import openai
import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import FAKE_UPSTREAM, ROOT, SWITCHYARD, Process

CHROMIUM = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = ROOT / "artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 860}
LAPTOP = {"width": 1440, "height": 900}

UC_PATH = "/api/2.1/unity-catalog/models"


# ---------------------------------------------------------------- processes


class Gateway:
    """A switchyard with no config file and its own empty data dir."""

    def __init__(self, *extra_args):
        self.dir = tempfile.TemporaryDirectory(prefix="switchyard-ui-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
        env["SWITCHYARD_LOG"] = "warn"
        self.log = open(pathlib.Path(self.dir.name) / "stderr.log", "w+")
        self.proc = subprocess.Popen(
            [SWITCHYARD, "serve", "--port", "0", "--data-dir", str(pathlib.Path(self.dir.name) / "data"), *extra_args],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env,
        )
        line = self.proc.stdout.readline().strip()
        prefix = "switchyard listening on "
        if not line.startswith(prefix):
            self.stop()
            raise RuntimeError(f"switchyard did not start: {line!r} {self.stderr()}")
        # Bound to 0.0.0.0 in the admin-token test: connect over loopback all the same.
        self.url = line[len(prefix):].replace("://0.0.0.0:", "://127.0.0.1:")

    def stderr(self):
        self.log.seek(0)
        return self.log.read()

    def providers(self, **kw):
        r = httpx.get(f"{self.url}/api/providers", **kw)
        r.raise_for_status()
        return {p["name"]: p for p in r.json()}

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        self.dir.cleanup()


@pytest.fixture(scope="module")
def fake():
    """This module's own fake upstream: any bearer is accepted, so header edits can be observed."""
    p = Process([FAKE_UPSTREAM])
    try:
        urls = json.loads(p.first_line)
    except ValueError:
        p.stop()
        raise RuntimeError(f"{FAKE_UPSTREAM} is not the testkit fake upstream: it printed {p.first_line!r}")
    yield urls
    p.stop()


class UpstreamLog:
    def __init__(self, fake_urls):
        self.base = fake_urls["gateway"]

    def clear(self):
        httpx.delete(f"{self.base}/__fake/requests").raise_for_status()

    def __call__(self, host=None, path=None):
        reqs = httpx.get(f"{self.base}/__fake/requests").json()
        return [
            r for r in reqs
            if (host is None or r["host"] == host) and (path is None or r["path"].split("?")[0] == path)
        ]


@pytest.fixture()
def upstream(fake):
    log = UpstreamLog(fake)
    log.clear()
    return log


@pytest.fixture()
def gateway():
    g = Gateway()
    yield g
    g.stop()


# ------------------------------------------------------------------ browser


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Ui:
    """One browser page plus the console/page errors it produced."""

    def __init__(self, browser, viewport=VIEWPORT):
        self.context = browser.new_context(viewport=viewport, device_scale_factor=1)
        self.context.set_default_timeout(5000)
        self.page = self.context.new_page()
        self.errors = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text} @ {m.location}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def expected_http_error(self, status, path):
        """Chromium logs every non-2xx fetch as a console error; drop the one a test provoked on purpose."""
        needle = f"status of {status} "
        self.errors[:] = [e for e in self.errors if not (needle in e and f"{path}'" in e)]

    def shot(self, name, locator=None):
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        # Toasts are transient (their text is asserted where it matters): keep them out of the pictures.
        (locator or self.page).screenshot(path=str(path), style="#toast { visibility: hidden; }")
        return path

    def close(self):
        self.context.close()


@pytest.fixture()
def ui(browser, request):
    u = Ui(browser)
    yield u
    # The page as the test left it, passed or failed: the first thing to look at when one fails in CI.
    try:
        u.shot(f"final-{request.node.name}")
    except Exception as e:  # a screenshot must not hide the test's own outcome
        print(f"no final screenshot: {e}")
    u.close()
    assert u.errors == [], "console or page errors in the UI:\n" + "\n".join(u.errors)


# ------------------------------------------------------------------ UI steps


def providers_page(page, gateway):
    """Sidebar Models → Model Providers."""
    page.goto(f"{gateway.url}/")
    expect(page.get_by_role("complementary", name="Main navigation")).to_contain_text("Models")
    page.get_by_role("link", name="Model Providers").click()
    expect(page.get_by_role("heading", name="Model Providers", level=1)).to_be_visible()


def open_add_menu(page):
    page.get_by_role("button", name="Add New Provider").click()
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    return menu


def open_custom_dialog(page):
    menu = open_add_menu(page)
    items = menu.get_by_role("menuitem")
    # The built-in kinds first, Custom provider… at the bottom, as in the seed.
    expect(items.last).to_contain_text("Custom provider…")
    items.last.click()
    dialog = page.get_by_role("dialog", name="Add Custom Provider")
    expect(dialog).to_be_visible()
    return dialog


def fill_custom_dialog(dialog, name, base_format, base_url):
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("Base Format").select_option(label=base_format)
    dialog.get_by_label("Base URL", exact=True).fill(base_url)
    keyless = dialog.get_by_role("switch", name="Is Keyless?")
    keyless.check()
    expect(keyless).to_be_checked()


def set_override(dialog, type_label, value):
    """The gear next to a request type → Custom Path or URL popover → Done."""
    dialog.get_by_role("button", name=f"Custom path or URL for {type_label}").click()
    pop = dialog.get_by_role("dialog", name=f"Custom Path or URL for {type_label}")
    expect(pop).to_be_visible()
    pop.get_by_label("Custom Path or URL").fill(value)
    return pop


def select_provider(page, name):
    page.get_by_role("navigation", name="Configured Providers").get_by_role("link", name=name).click()
    detail = page.get_by_test_id("provider-detail")
    expect(detail.get_by_role("heading", name=name)).to_be_visible()
    return detail


def open_network_tab(page, provider):
    page.get_by_role("button", name="Edit Provider Config").click()
    panel = page.get_by_role("dialog", name=f"Edit Provider Config · {provider}")
    expect(panel).to_be_visible()
    panel.get_by_role("tab", name="Network").click()
    expect(panel.get_by_role("tab", name="Network")).to_have_attribute("aria-selected", "true")
    return panel


def add_extra_header(panel, name, value):
    table = panel.get_by_role("table", name="Extra Headers")
    before = table.get_by_role("textbox", name="Header name").count()
    panel.get_by_role("button", name="+ Add Header").click()
    names = table.get_by_role("textbox", name="Header name")
    expect(names).to_have_count(before + 1)
    names.last.fill(name)
    table.get_by_role("textbox", name="Header value").last.fill(value)


def save_network(page, panel):
    panel.get_by_role("button", name="Save Network Configuration").click()
    expect(panel).to_be_hidden()
    expect(page.get_by_role("status")).to_contain_text("Network configuration saved")


def create_custom_provider(ui, gateway, *, name, base_format, base_url, list_models, off=(), override=None, shot=None, drops=None):
    page = ui.page
    dialog = open_custom_dialog(page)
    fill_custom_dialog(dialog, name, base_format, base_url)
    if drops is not None:
        dialog.get_by_label("Drop request fields").fill(drops)
    for label in off:
        dialog.get_by_role("switch", name=label, exact=True).uncheck()
    list_switch = dialog.get_by_role("switch", name="List Models")
    expect(list_switch).to_be_checked()  # both base formats start with List Models allowed
    if list_models:
        list_switch.check()
    else:
        list_switch.uncheck()
        expect(list_switch).not_to_be_checked()
    if override:
        pop = set_override(dialog, "List Models", override)
        if shot:
            ui.shot(f"{shot}-gear-popover")
        pop.get_by_role("button", name="Done").click()
        expect(pop).to_be_hidden()
        expect(dialog.get_by_test_id("override-list_models")).to_have_text(override)
    if shot:
        ui.shot(f"{shot}-dialog")
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog).to_be_hidden()
    nav = page.get_by_role("navigation", name="Configured Providers")
    expect(nav.get_by_role("link", name=name)).to_be_visible()


# -------------------------------------------------------------------- tests


def test_seed_walkthrough_in_the_ui(ui, gateway, fake, upstream):
    """Both Databricks providers created click for click as the seed says, then used."""
    gw, ws = fake["gateway"], fake["workspace"]
    page = ui.page
    providers_page(page, gateway)
    expect(page.get_by_role("navigation", name="Configured Providers")).to_contain_text("No providers yet.")
    ui.shot("01-providers-empty")

    menu = open_add_menu(page)
    labels = [t.split("\n")[0] for t in menu.get_by_role("menuitem").all_inner_texts()]
    assert labels == ["OpenAI", "Anthropic", "Databricks AI Gateway", "Custom provider…"], labels
    ui.shot("02-add-new-provider-menu")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()

    # Unified API: databricks-mlflow, OpenAI format, models through Unity Catalog.
    create_custom_provider(
        ui, gateway, name="databricks-mlflow", base_format="OpenAI", base_url=f"{gw}/mlflow",
        list_models=True, override=f"{ws}{UC_PATH}", shot="03-custom-mlflow",
        # The Unified API has chat only (the OpenAI format's defaults already say so): other
        # clients are then served by emulation via chat.
        off=["Responses", "Responses (stream)", "Text Completion", "Text Completion (stream)", "Count Tokens"],
        # Databricks' Unified route rejects these OpenAI fields.
        drops="store, tools[].function.strict",
    )
    detail = select_provider(page, "databricks-mlflow")
    expect(detail).to_contain_text(f"List Models → {ws}{UC_PATH}")
    panel = open_network_tab(page, "databricks-mlflow")
    expect(panel.locator("#net-base-url")).to_have_value(f"{gw}/mlflow")
    add_extra_header(panel, "Authorization", "Bearer dapi-ui-token")
    ui.shot("04-network-tab-extra-headers")
    save_network(page, panel)
    expect(detail).to_contain_text("Authorization: Bearer ********")
    assert "dapi-ui-token" not in page.content()

    # Native API: databricks-anthropic, Anthropic format, List Models off.
    create_custom_provider(
        ui, gateway, name="databricks-anthropic", base_format="Anthropic", base_url=f"{gw}/anthropic",
        list_models=False, shot="05-custom-anthropic",
    )
    detail = select_provider(page, "databricks-anthropic")
    expect(detail).to_contain_text("Anthropic format")
    expect(detail.locator(".chip.off", has_text="List Models")).to_be_visible()
    panel = open_network_tab(page, "databricks-anthropic")
    add_extra_header(panel, "Authorization", "Bearer dapi-ui-token")
    save_network(page, panel)
    expect(detail).to_contain_text("Authorization: Bearer ********")
    ui.shot("06-provider-detail")

    stored = gateway.providers()
    assert stored["databricks-mlflow"]["custom_provider_config"]["base_provider_type"] == "openai"
    assert stored["databricks-mlflow"]["custom_provider_config"]["is_key_less"] is True
    allowed = stored["databricks-mlflow"]["custom_provider_config"]["allowed_requests"]
    assert {k for k, on in allowed.items() if on} == {
        "list_models", "chat_completion", "chat_completion_stream", "embedding"
    }, allowed
    assert stored["databricks-mlflow"]["custom_provider_config"]["request_path_overrides"] == {
        "list_models": f"{ws}{UC_PATH}"
    }
    assert stored["databricks-anthropic"]["custom_provider_config"]["base_provider_type"] == "anthropic"
    assert stored["databricks-anthropic"]["custom_provider_config"]["allowed_requests"]["list_models"] is False
    assert "dapi-ui-token" not in json.dumps(stored)

    # Send requests through the gateway: the fake upstream sees the header and the seed's paths.
    oa = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="client-own-key", max_retries=0)
    reply = oa.chat.completions.create(
        model="databricks-mlflow/llama-3-70b", messages=[{"role": "user", "content": "Hello!"}]
    )
    assert reply.choices[0].message.content == "Hello from llama-3-70b! You said: Hello!"
    # `store` would be rejected by the Unified route: the drop list set in the dialog removes it.
    stored_reply = oa.chat.completions.create(
        model="databricks-mlflow/llama-3-70b", messages=[{"role": "user", "content": "Hello!"}], store=False
    )
    assert stored_reply.choices[0].message.content
    assert stored["databricks-mlflow"]["request_shaping"]["drop_fields"] == ["store", "tools[].function.strict"]
    an = anthropic.Anthropic(base_url=f"{gateway.url}/anthropic", api_key="client-own-key", max_retries=0)
    msg = an.messages.create(
        model="databricks-anthropic/claude-sonnet", max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
    )
    assert "".join(b.text for b in msg.content if b.type == "text")
    models = [m.id for m in oa.models.list()]
    assert models == [
        "databricks-mlflow/main.default.llama",
        "databricks-mlflow/main.default.mixtral",
        "databricks-mlflow/system.ai.claude",
    ], models

    first_chat, chat = upstream("gateway", "/mlflow/v1/chat/completions")
    assert "store" not in chat["body"] and "store" not in first_chat["body"]
    [messages] = upstream("gateway", "/anthropic/v1/messages")
    uc = upstream("workspace", UC_PATH)
    assert len(uc) == 3, uc  # three Unity Catalog pages
    for r in [chat, messages, *uc]:
        assert r["headers"]["authorization"] == "Bearer dapi-ui-token", r
        assert "client-own-key" not in json.dumps(r["headers"])
    assert chat["body"]["model"] == "llama-3-70b"
    assert messages["body"]["model"] == "claude-sonnet"
    assert all(r["method"] == "GET" for r in uc)
    # A Responses client on the Unified provider is served through chat completions.
    upstream.clear()
    resp = oa.responses.create(model="databricks-mlflow/llama", input="Hi there")
    assert resp.output_text == "Hello from llama! You said: Hi there"
    assert [r["path"] for r in upstream("gateway")] == ["/mlflow/v1/chat/completions"]
    assert not upstream("gateway", "/anthropic/v1/models"), "list models is off for databricks-anthropic"

    # Edit the header in the UI: the very next request carries the new token, no restart.
    select_provider(page, "databricks-mlflow")
    panel = open_network_tab(page, "databricks-mlflow")
    value = panel.get_by_role("table", name="Extra Headers").get_by_role("textbox", name="Header value")
    expect(value).to_have_value("Bearer ********")
    value.fill("Bearer dapi-ui-token-rotated")
    save_network(page, panel)
    upstream.clear()
    oa.chat.completions.create(model="databricks-mlflow/llama", messages=[{"role": "user", "content": "again"}])
    [chat] = upstream("gateway", "/mlflow/v1/chat/completions")
    assert chat["headers"]["authorization"] == "Bearer dapi-ui-token-rotated"

    # Saving the Network tab with the redacted value left as shown keeps the stored secret.
    select_provider(page, "databricks-anthropic")
    panel = open_network_tab(page, "databricks-anthropic")
    panel.get_by_label("Max retries").fill("1")
    save_network(page, panel)
    assert gateway.providers()["databricks-anthropic"]["network_config"]["max_retries"] == 1
    upstream.clear()
    an.messages.create(
        model="databricks-anthropic/claude-sonnet", max_tokens=16, messages=[{"role": "user", "content": "Hi"}]
    )
    [messages] = upstream("gateway", "/anthropic/v1/messages")
    assert messages["headers"]["authorization"] == "Bearer dapi-ui-token"
    assert "dapi-ui-token" not in page.content()


def test_custom_dialog_validation(ui, gateway, fake):
    """Inline messages say what is wrong and how to fix it; nothing is saved until fixed."""
    gw = fake["gateway"]
    r = httpx.post(f"{gateway.url}/api/providers", json={
        "name": "taken", "network_config": {"base_url": f"{gw}/mlflow"},
        "custom_provider_config": {"base_provider_type": "openai", "is_key_less": True},
    })
    assert r.status_code == 201, r.text
    page = ui.page
    providers_page(page, gateway)
    dialog = open_custom_dialog(page)

    name = dialog.get_by_label("Name", exact=True)
    url = dialog.get_by_label("Base URL", exact=True)
    name.fill("taken")
    url.fill("https://1234.ai-gateway.cloud.databricks.com/mlflow/v1")
    name.focus()  # leaving the Base URL field checks it
    expect(url).to_have_attribute("aria-invalid", "true")
    url_error = url.locator("xpath=..").locator(".field-error")
    expect(url_error).to_have_text(
        "Remove the trailing /v1: Switchyard appends /v1/chat/completions and the other standard paths itself."
    )
    url.focus()  # leaving the Name field checks it
    name_error = name.locator("xpath=..").locator(".field-error")
    expect(name_error).to_have_text('A provider named "taken" already exists; pick another name.')

    for bad in ["ftp://files.example.com/models", "unity-catalog/models"]:
        pop = set_override(dialog, "List Models", bad)
        pop.get_by_role("button", name="Done").click()
        expect(pop).to_be_visible()  # stays open until the value is fixed
        expect(pop.get_by_role("alert")).to_have_text(
            "Enter a path starting with / (appended to the base URL) or a full http(s):// URL."
        )
        if bad.startswith("ftp"):
            ui.shot("07-validation-messages")
        pop.get_by_label("Custom Path or URL").press("Escape")
        expect(pop).to_be_hidden()
    expect(dialog.get_by_test_id("override-list_models")).to_have_text("")

    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog.locator(".form-error")).to_have_text("Fix the highlighted fields.")
    assert list(gateway.providers()) == ["taken"], "nothing saved while invalid"

    # Fixed as the messages say: the dialog saves.
    name.fill("fixed")
    url.fill("https://1234.ai-gateway.cloud.databricks.com/mlflow")
    pop = set_override(dialog, "List Models", "/api/2.1/unity-catalog/models")
    pop.get_by_role("button", name="Done").click()
    expect(pop).to_be_hidden()
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog).to_be_hidden()
    fixed = gateway.providers()["fixed"]
    assert fixed["network_config"]["base_url"] == "https://1234.ai-gateway.cloud.databricks.com/mlflow"
    assert fixed["custom_provider_config"]["request_path_overrides"] == {"list_models": UC_PATH}

    # The Network tab checks its base URL the same way.
    select_provider(page, "fixed")
    panel = open_network_tab(page, "fixed")
    panel.locator("#net-base-url").fill("https://1234.ai-gateway.cloud.databricks.com/mlflow/v1/")
    panel.get_by_role("button", name="Save Network Configuration").click()
    expect(panel.locator("#net-base-url")).to_have_attribute("aria-invalid", "true")
    expect(panel.get_by_role("alert").filter(has_text="trailing /v1")).to_be_visible()
    assert gateway.providers()["fixed"]["network_config"]["base_url"].endswith("/mlflow")
    panel.get_by_role("button", name="Close").click()
    expect(panel).to_be_hidden()

    # Delete asks first; declining keeps the provider, accepting removes it.
    page.once("dialog", lambda d: d.dismiss())
    page.get_by_test_id("provider-detail").get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("provider-detail").get_by_role("heading", name="fixed")).to_be_visible()
    assert "fixed" in gateway.providers()
    page.once("dialog", lambda d: d.accept())
    page.get_by_test_id("provider-detail").get_by_role("button", name="Delete").click()
    nav = page.get_by_role("navigation", name="Configured Providers")
    expect(nav.get_by_role("link", name="fixed")).to_have_count(0)
    assert list(gateway.providers()) == ["taken"]


def test_databricks_preset_and_test_connection(ui, gateway, fake, upstream):
    gw, ws = fake["gateway"], fake["workspace"]
    page = ui.page
    providers_page(page, gateway)
    open_add_menu(page).get_by_role("menuitem", name=re.compile("^Databricks AI Gateway")).click()
    dialog = page.get_by_role("dialog", name="Databricks AI Gateway")
    dialog.get_by_label("AI Gateway URL").fill(gw + "/")  # a trailing slash is trimmed
    dialog.get_by_label("Workspace URL").fill(ws)
    expect(dialog.get_by_label("Personal access token")).to_be_checked()
    dialog.get_by_label("Token", exact=True).fill("dapi-preset-token")
    ui.shot("08-databricks-preset")
    dialog.get_by_role("button", name="Create providers").click()
    expect(dialog).to_be_hidden()
    nav = page.get_by_role("navigation", name="Configured Providers")
    expect(nav.get_by_role("link")).to_have_count(2)
    assert "dapi-preset-token" not in page.content()

    stored = gateway.providers()
    assert sorted(stored) == ["databricks-anthropic", "databricks-mlflow"]
    mlflow, anth = stored["databricks-mlflow"], stored["databricks-anthropic"]
    assert mlflow["network_config"]["base_url"] == f"{gw}/mlflow"
    assert anth["network_config"]["base_url"] == f"{gw}/anthropic"
    for p in (mlflow, anth):
        assert p["network_config"]["extra_headers"] == {"Authorization": "Bearer ********"}
        assert p["custom_provider_config"]["is_key_less"] is True
    assert mlflow["custom_provider_config"]["base_provider_type"] == "openai"
    assert anth["custom_provider_config"]["base_provider_type"] == "anthropic"
    assert mlflow["custom_provider_config"]["request_path_overrides"] == {"list_models": f"{ws}{UC_PATH}"}
    assert mlflow["custom_provider_config"]["allowed_requests"]["list_models"] is True
    assert anth["custom_provider_config"]["allowed_requests"]["list_models"] is False
    assert anth["custom_provider_config"]["allowed_requests"]["responses"] is True
    assert mlflow["request_shaping"]["drop_fields"] == ["store", "tools[].function.strict"]
    assert anth["request_shaping"]["drop_fields"] == ["tools[].eager_input_streaming"]

    # Test connection on the Unified provider lists the Unity Catalog models.
    detail = select_provider(page, "databricks-mlflow")
    detail.get_by_role("button", name="Test connection").click()
    result = detail.get_by_test_id("test-result")
    expect(result).to_contain_text("Connected: 3 models")
    for m in ["main.default.llama", "main.default.mixtral", "system.ai.claude"]:
        expect(result).to_contain_text(f"databricks-mlflow/{m}")
    expect(result).to_have_class(re.compile(r"\bok\b"))
    ui.shot("09-test-connection-ok")
    # Usage snippets for this provider, with this gateway's address.
    detail.get_by_role("tab", name="Claude Code").click()
    snippet = detail.get_by_test_id("snippet")
    expect(snippet).to_contain_text(f"ANTHROPIC_BASE_URL={gateway.url}/anthropic")
    expect(snippet).to_contain_text("ANTHROPIC_MODEL=databricks-mlflow/<model>")
    detail.get_by_role("tab", name="Codex").click()
    expect(snippet).to_contain_text(f'base_url = "{gateway.url}/v1"')
    detail.get_by_role("tab", name="Python SDK").click()
    expect(snippet).to_contain_text('model="databricks-mlflow/<model>"')
    uc = upstream("workspace", UC_PATH)
    assert uc and all(r["headers"]["authorization"] == "Bearer dapi-preset-token" for r in uc)

    # On the Native provider (list models off): a one-token chat; an upstream error shows its exact words.
    detail = select_provider(page, "databricks-anthropic")
    detail.get_by_role("button", name="Test connection").click()
    result = detail.get_by_test_id("test-result")
    expect(result).to_contain_text("list models is off for this provider: give a model name")
    detail.locator("#test-model").fill("claude-sonnet")
    detail.get_by_role("button", name="Test connection").click()
    expect(result).to_contain_text("Connected: the model answered")
    detail.locator("#test-model").fill("error-400-demo")
    detail.get_by_role("button", name="Test connection").click()
    expect(result).to_contain_text("Failed (HTTP 400)")
    expect(result).to_contain_text("Invalid request: model error-400-demo rejects this input")
    expect(result).to_have_class(re.compile(r"\bfail\b"))
    ui.shot("10-test-connection-upstream-error")
    sent = upstream("gateway", "/anthropic/v1/messages")
    assert [r["body"]["model"] for r in sent] == ["claude-sonnet", "error-400-demo"]
    assert all(r["headers"]["authorization"] == "Bearer dapi-preset-token" for r in sent)


def test_playground_streams_the_answer(ui, gateway, fake):
    gw, ws = fake["gateway"], fake["workspace"]
    r = httpx.post(f"{gateway.url}/api/providers", json={
        "name": "databricks-mlflow",
        "network_config": {"base_url": f"{gw}/mlflow", "extra_headers": {"Authorization": "Bearer dapi-pg"}},
        "custom_provider_config": {
            "base_provider_type": "openai", "is_key_less": True,
            "allowed_requests": {"list_models": True, "chat_completion": True, "chat_completion_stream": True},
            "request_path_overrides": {"list_models": f"{ws}{UC_PATH}"},
        },
    })
    assert r.status_code == 201, r.text
    page = ui.page
    page.goto(f"{gateway.url}/")
    page.get_by_role("link", name="Playground").click()
    expect(page.get_by_role("heading", name="Playground", level=1)).to_be_visible()
    # Models listed by providers are offered as suggestions.
    expect(page.locator("#pg-models option")).to_have_count(3)
    page.get_by_label("Model").fill("databricks-mlflow/slow-llama")
    page.get_by_label("Message").fill("tell me a story")
    answer = page.get_by_test_id("answer")
    # Count the answer's text updates: a streamed answer arrives in several pieces.
    answer.evaluate("""el => { window.__updates = 0;
        new MutationObserver(() => { window.__updates++; }).observe(el, {childList: true, characterData: true, subtree: true}); }""")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("button", name="Stop")).to_be_enabled()
    expect(answer).to_have_text("Hello from slow-llama! You said: tell me a story")
    expect(page.locator(".stats")).to_contain_text("first token")
    expect(page.get_by_role("button", name="Stop")).to_be_disabled()
    assert page.evaluate("window.__updates") >= 5, "the answer should appear piece by piece"
    ui.shot("11-playground")

    # An upstream error is shown in the answer area.
    page.get_by_label("Model").fill("databricks-mlflow/error-400-pg")
    page.get_by_role("button", name="Send").click()
    expect(answer).to_contain_text("Invalid request: model error-400-pg rejects this input")
    expect(answer).to_have_class(re.compile(r"\berror\b"))
    ui.expected_http_error(400, "/v1/chat/completions")


def test_keys_tab_shows_redacted_values(ui, gateway, fake, upstream):
    page = ui.page
    providers_page(page, gateway)

    # A built-in kind with a key: the key never comes back to the page.
    open_add_menu(page).get_by_role("menuitem", name=re.compile("^OpenAI")).click()
    dialog = page.get_by_role("dialog", name="Add OpenAI")
    dialog.get_by_label("API key").fill("sk-ui-secret-openai-123")
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog).to_be_hidden()
    detail = select_provider(page, "openai")
    expect(detail).to_contain_text("1 key(s)")

    # A custom keyed provider on the fake upstream, so the kept secret can be seen in use.
    dialog = open_custom_dialog(page)
    dialog.get_by_label("Name", exact=True).fill("keyed")
    dialog.get_by_label("Base URL", exact=True).fill(f"{fake['gateway']}/mlflow")
    dialog.get_by_role("switch", name="Is Keyless?").uncheck()
    dialog.get_by_label("API key").fill("sk-ui-secret-first")
    dialog.get_by_role("button", name="Add", exact=True).click()
    expect(dialog).to_be_hidden()

    detail = select_provider(page, "keyed")
    detail.get_by_role("button", name="Edit Provider Config").click()
    panel = page.get_by_role("dialog", name="Edit Provider Config · keyed")
    panel.get_by_role("tab", name="Keys").click()
    keys = panel.get_by_role("table", name="Keys")
    expect(keys.get_by_label("Key value")).to_have_value("********")
    # Restrict the first key to one model and add a second key for another, keeping the first secret.
    keys.get_by_label("Models (comma separated, empty = all)").fill("model-a")
    panel.get_by_role("button", name="+ Add Key").click()
    expect(keys.get_by_label("Key value")).to_have_count(2)
    keys.get_by_label("Key name").last.fill("second")
    keys.get_by_label("Key value").last.fill("sk-ui-secret-second")
    keys.get_by_label("Models (comma separated, empty = all)").last.fill("model-b")
    keys.get_by_label("Weight").last.fill("2")
    panel.get_by_role("button", name="Save Keys").click()
    expect(panel).to_be_hidden()

    select_provider(page, "keyed")
    page.get_by_role("button", name="Edit Provider Config").click()
    panel.get_by_role("tab", name="Keys").click()
    expect(keys.get_by_label("Key value")).to_have_count(2)
    for i in range(2):
        expect(keys.get_by_label("Key value").nth(i)).to_have_value("********")
    expect(keys.get_by_label("Weight").last).to_have_value("2")
    ui.shot("12-keys-tab")
    html = page.content()
    for secret in ["sk-ui-secret-openai-123", "sk-ui-secret-first", "sk-ui-secret-second"]:
        assert secret not in html
    api_json = json.dumps(gateway.providers())
    assert "sk-ui-secret" not in api_json

    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="client-own-key", max_retries=0)
    for model in ["model-a", "model-b"]:
        client.chat.completions.create(model=f"keyed/{model}", messages=[{"role": "user", "content": "hi"}])
    seen = {r["body"]["model"]: r["headers"]["authorization"] for r in upstream("gateway")}
    assert seen == {"model-a": "Bearer sk-ui-secret-first", "model-b": "Bearer sk-ui-secret-second"}


def test_keyboard_opens_the_custom_dialog(ui, gateway):
    page = ui.page
    providers_page(page, gateway)
    toggle = page.get_by_role("button", name="Add New Provider")
    toggle.focus()
    page.keyboard.press("Enter")
    items = page.get_by_role("menuitem")
    expect(items.first).to_be_focused()
    page.keyboard.press("ArrowUp")  # wraps to the bottom entry
    expect(items.last).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Add Custom Provider")
    expect(dialog.get_by_label("Name", exact=True)).to_be_focused()
    # Focus stays in the modal dialog: Shift+Tab past the first control wraps to the last (Add), Tab wraps back.
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(dialog.get_by_role("button", name="Add", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(toggle).to_be_focused()  # focus goes back where it was, not to the page

    # Escape closes the menu; so does a click anywhere else, every time.
    menu = page.get_by_role("menu")
    for _ in range(2):
        page.keyboard.press("Enter")
        expect(menu).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(toggle).to_be_focused()
    for _ in range(2):
        toggle.click()
        expect(menu).to_be_visible()
        page.get_by_role("heading", name="Model Providers", level=1).click()
        expect(menu).to_be_hidden()
        expect(toggle).to_have_attribute("aria-expanded", "false")


def test_admin_token_login(ui):
    g = Gateway("--host", "0.0.0.0", "--admin-token", "ui-admin-T0ken")
    try:
        page = ui.page
        page.goto(f"{g.url}/")
        expect(page).to_have_url(f"{g.url}/login")
        expect(page.get_by_role("heading", name="Switchyard")).to_be_visible()
        ui.shot("13-login")
        page.get_by_label("Admin token").fill("wrong-token")
        # The 401 answer to a wrong token is the point here, not a UI error.
        with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as resp:
            page.get_by_role("button", name="Sign in").click()
        assert resp.value.status == 401
        expect(page.get_by_role("alert")).to_have_text("That token is not right.")
        ui.expected_http_error(401, "/login")
        page.get_by_label("Admin token").fill("ui-admin-T0ken")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Model Providers", level=1)).to_be_visible()
        expect(page.get_by_role("navigation", name="Configured Providers")).to_contain_text("No providers yet.")
        assert "ui-admin-T0ken" not in page.content()
        # The session cookie is HttpOnly: page scripts cannot read it.
        assert page.evaluate("document.cookie") == ""
        assert httpx.get(f"{g.url}/api/providers").status_code == 401
        # Changes made through the UI carry the CSRF header the session cookie requires.
        dialog = open_custom_dialog(page)
        fill_custom_dialog(dialog, "remote", "OpenAI", "https://1234.ai-gateway.cloud.databricks.com/mlflow")
        dialog.get_by_role("button", name="Add", exact=True).click()
        expect(dialog).to_be_hidden()
        expect(page.get_by_role("navigation", name="Configured Providers").get_by_role("link", name="remote")).to_be_visible()
        admin = {"Authorization": "Bearer ui-admin-T0ken"}
        assert list(g.providers(headers=admin)) == ["remote"]
    finally:
        g.stop()


def test_providers_page_fits_1280_and_laptop(browser, gateway, fake):
    gw, ws = fake["gateway"], fake["workspace"]
    for p in [
        {"name": "databricks-mlflow", "network_config": {"base_url": f"{gw}/mlflow",
         "extra_headers": {"Authorization": "Bearer dapi-layout-secret"}},
         "custom_provider_config": {"base_provider_type": "openai", "is_key_less": True,
                                    "request_path_overrides": {"list_models": f"{ws}{UC_PATH}"}}},
        {"name": "databricks-anthropic", "network_config": {"base_url": f"{gw}/anthropic"},
         "custom_provider_config": {"base_provider_type": "anthropic", "is_key_less": True}},
    ]:
        assert httpx.post(f"{gateway.url}/api/providers", json=p).status_code == 201
    for label, viewport in [("1280", VIEWPORT), ("laptop-1440", LAPTOP)]:
        u = Ui(browser, viewport)
        try:
            providers_page(u.page, gateway)
            select_provider(u.page, "databricks-mlflow")
            overflow = u.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"horizontal scrolling at {viewport}"
            # Nothing of the detail card is cut off on the right.
            box = u.page.get_by_test_id("provider-detail").bounding_box()
            assert box["x"] + box["width"] <= viewport["width"]
            u.shot(f"14-providers-{label}")
            assert "dapi-layout-secret" not in u.page.content()
        finally:
            u.close()
        assert u.errors == [], u.errors


def routes_page(page, gateway):
    """Sidebar Models → Routes."""
    page.goto(f"{gateway.url}/")
    page.get_by_role("link", name="Routes").click()
    expect(page.get_by_role("heading", name="Routes", level=1)).to_be_visible()


def test_routes_page_creates_serves_edits_and_deletes_a_route(ui, gateway, fake, upstream):
    gw = fake["gateway"]
    for name, base, fmt in [("oa", f"{gw}/mlflow", "openai"), ("an", f"{gw}/anthropic", "anthropic")]:
        r = httpx.post(f"{gateway.url}/api/providers", json={"name": name, "network_config": {"base_url": base},
                       "custom_provider_config": {"base_provider_type": fmt, "is_key_less": True}})
        assert r.status_code == 201, r.text
    page = ui.page
    routes_page(page, gateway)
    expect(page.get_by_text("No routes yet.")).to_be_visible()

    page.get_by_role("button", name="Add Route").click()
    dialog = page.get_by_role("dialog", name="Add Route")
    dialog.get_by_label("Name", exact=True).fill("smart")
    dialog.get_by_label("Target model").fill("oa/big")
    dialog.get_by_label("Target weight").fill("3")
    dialog.get_by_role("button", name="+ Add Fallback").click()
    dialog.get_by_label("Fallback model").fill("an/backup")
    dialog.get_by_role("button", name="+ Add Target").click()
    dialog.get_by_label("Target model").last.fill("nope/m")
    # The server's diagnostic lands next to the target it names.
    dialog.get_by_role("button", name="Add Route").click()
    bad = dialog.get_by_label("Target model").last
    expect(bad).to_have_class(re.compile(r"\binvalid\b"))
    expect(dialog).to_contain_text("names provider `nope`, which is not configured")
    expect(dialog.get_by_label("Target model").first).not_to_have_class(re.compile(r"\binvalid\b"))
    ui.shot("15-route-dialog-error")
    ui.expected_http_error(400, "/api/routes")
    dialog.get_by_role("button", name="Remove target").last.click()
    dialog.get_by_role("button", name="Add Route").click()
    expect(dialog).to_be_hidden()

    row = page.locator('tr[data-route="smart"]')
    expect(row).to_contain_text("oa/big")
    expect(row).to_contain_text("weight 3 · 100%")
    expect(row).to_contain_text("an/backup")
    expect(row).to_contain_text("api")
    ui.shot("16-routes-page")

    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="unused", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model="smart", messages=[{"role": "user", "content": "hi"}])
    assert raw.headers["x-switchyard-served-by"] == "oa/big"
    assert raw.parse().choices[0].message.content
    assert upstream("gateway", "/mlflow/v1/chat/completions")[-1]["body"]["model"] == "big"

    # Edit: a weight the server refuses, shown on that input; then two targets at 1:1.
    row.get_by_role("button", name="Edit route smart").click()
    dialog = page.get_by_role("dialog", name="Edit Route · smart")
    expect(dialog.get_by_label("Name", exact=True)).to_be_disabled()
    expect(dialog.get_by_label("Target weight")).to_have_value("3")
    dialog.get_by_label("Target weight").fill("0")
    dialog.get_by_role("button", name="Save Route").click()
    expect(dialog.get_by_label("Target weight")).to_have_class(re.compile(r"\binvalid\b"))
    expect(dialog).to_contain_text("must be more than zero")
    ui.expected_http_error(400, "/api/routes/smart")
    dialog.get_by_label("Target weight").fill("2")
    dialog.get_by_role("button", name="+ Add Target").click()
    dialog.get_by_label("Target model").last.fill("an/claude")
    dialog.get_by_label("Target weight").last.fill("2")
    dialog.get_by_role("button", name="Save Route").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("weight 2 · 50%")
    expect(row).to_contain_text("an/claude")
    served = {client.chat.completions.with_raw_response.create(
        model="smart", messages=[{"role": "user", "content": "hi"}]).headers["x-switchyard-served-by"] for _ in range(30)}
    assert served == {"oa/big", "an/claude"}

    row.get_by_role("button", name="Delete route smart").click()
    confirm = page.get_by_role("dialog", name="Delete route smart?")
    confirm.get_by_role("button", name="Delete").click()
    expect(confirm).to_be_hidden()
    expect(row).to_have_count(0)
    expect(page.get_by_text("No routes yet.")).to_be_visible()
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="smart", messages=[{"role": "user", "content": "hi"}])
    assert httpx.get(f"{gateway.url}/api/routes").json() == []


def test_file_managed_routes_are_read_only_in_the_ui(ui, fake, tmp_path):
    config = tmp_path / "switchyard.json"
    config.write_text(json.dumps({
        "providers": {"oa": {"network_config": {"base_url": f"{fake['gateway']}/mlflow"},
                             "custom_provider_config": {"base_provider_type": "openai", "is_key_less": True}}},
        "routes": {"from-file": {"targets": [{"model": "oa/m", "weight": 1}], "fallbacks": ["oa/n"]}},
    }))
    g = Gateway("--config", str(config))
    try:
        page = ui.page
        routes_page(page, g)
        row = page.locator('tr[data-route="from-file"]')
        expect(row).to_contain_text("config file")
        expect(row).to_contain_text("read-only")
        expect(row).to_contain_text("oa/n")
        expect(row.get_by_role("button")).to_have_count(0)
        assert [r["source"] for r in httpx.get(f"{g.url}/api/routes").json()] == ["file"]
    finally:
        g.stop()


def test_virtual_key_created_in_the_ui_is_copied_used_and_its_usage_bar_moves(browser, gateway, fake):
    r = httpx.post(f"{gateway.url}/api/providers", json={"name": "oa", "network_config": {"base_url": f"{fake['gateway']}/mlflow"},
                   "custom_provider_config": {"base_provider_type": "openai", "is_key_less": True}})
    assert r.status_code == 201, r.text
    ui = Ui(browser)
    ui.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=gateway.url)
    page = ui.page
    try:
        page.goto(f"{gateway.url}/")
        nav = page.get_by_role("complementary", name="Main navigation")
        expect(nav).to_contain_text("Governance")
        nav.get_by_role("link", name="Virtual Keys").click()
        expect(page.get_by_role("heading", name="Virtual Keys", level=1)).to_be_visible()
        expect(page.get_by_text("No keys yet.")).to_be_visible()

        page.get_by_role("button", name="Create Key").click()
        dialog = page.get_by_role("dialog", name="Create Virtual Key")
        dialog.get_by_label("Name", exact=True).fill("ui-made")
        dialog.get_by_label("Models").fill("oa/*")
        dialog.get_by_label("Requests per minute").fill("0")
        dialog.get_by_role("button", name="Create Key").click()
        # The server's field path lands on the input it names.
        expect(dialog.get_by_label("Requests per minute")).to_have_class(re.compile(r"\binvalid\b"))
        expect(dialog).to_contain_text("must be at least 1")
        ui.expected_http_error(400, "/api/keys")
        dialog.get_by_label("Requests per minute").fill("5")
        dialog.get_by_label("Requests per day").fill("1000")
        ui.shot("20-key-create-dialog", dialog)
        dialog.get_by_role("button", name="Create Key").click()

        shown = page.get_by_role("dialog", name="Key ui-made created")
        expect(shown).to_contain_text("only time it is shown")
        token = shown.locator("#new-key").inner_text()
        assert re.fullmatch(r"sk-sy-[a-z0-9]{12}-[a-z0-9]{32}", token), token
        shown.get_by_role("button", name="Copy key").click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == token
        expect(shown.locator("#key-snippet")).to_contain_text(f"Authorization: Bearer {token}")
        shown.get_by_role("tab", name="Claude Code").click()
        expect(shown.locator("#key-snippet")).to_contain_text(f"ANTHROPIC_AUTH_TOKEN={token}")
        shown.get_by_role("tab", name="Codex").click()
        expect(shown.locator("#key-snippet")).to_contain_text(f"SWITCHYARD_API_KEY={token}")
        ui.shot("21-key-shown-once", shown)
        shown.get_by_role("button", name="Done").click()
        expect(shown).to_be_hidden()

        key_id = token.split("-")[2]
        row = page.locator(f'tr[data-key="{key_id}"]')
        expect(row).to_contain_text("ui-made")
        expect(row).to_contain_text("active")
        assert token.split("-")[3] not in page.content(), "the secret is gone from the page once closed"
        day_bar = row.locator('[data-slot="requests.day"] [role="meter"]')
        expect(day_bar).to_have_attribute("aria-valuenow", "0")

        client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=copied, max_retries=0)
        for _ in range(3):
            client.chat.completions.create(model="oa/llama", messages=[{"role": "user", "content": "hi"}])
        page.reload()
        day_bar = page.locator(f'tr[data-key="{key_id}"] [data-slot="requests.day"] [role="meter"]')
        expect(day_bar).to_have_attribute("aria-valuenow", re.compile(r"^[23](\.\d+)?$"))
        expect(page.locator(f'tr[data-key="{key_id}"] [data-slot="requests.day"]')).to_contain_text("of 1,000")
        ui.shot("22-keys-page-usage")

        row = page.locator(f'tr[data-key="{key_id}"]')
        row.get_by_role("button", name="Revoke key ui-made").click()
        page.get_by_role("dialog", name="Revoke key ui-made?").get_by_role("button", name="Revoke").click()
        expect(row).to_contain_text("revoked")
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="oa/llama", messages=[{"role": "user", "content": "hi"}])
    finally:
        ui.shot("final-virtual-keys")
        ui.close()
    assert ui.errors == [], "console or page errors in the UI:\n" + "\n".join(ui.errors)


def test_limits_budgets_teams_and_prices_pages(ui, gateway):
    page = ui.page
    page.goto(f"{gateway.url}/#/teams")
    expect(page.get_by_role("heading", name="Teams", level=1)).to_be_visible()
    page.get_by_role("button", name="Add Team").click()
    dialog = page.get_by_role("dialog", name="Add Team")
    dialog.get_by_label("Name", exact=True).fill("ml")
    dialog.get_by_label("Tokens per minute").fill("50000")
    dialog.get_by_role("button", name="Add Team").click()
    expect(dialog).to_be_hidden()
    expect(page.locator('tr[data-team="ml"]')).to_contain_text("tokens / minute")

    page.get_by_role("link", name="Limits & Budgets").click()
    expect(page.get_by_role("heading", name="Limits & Budgets", level=1)).to_be_visible()
    expect(page.locator('tr[data-policy="team-ml"]')).to_contain_text("team:ml's own limits")
    page.get_by_role("button", name="Add Policy").click()
    dialog = page.get_by_role("dialog", name="Add Policy")
    dialog.get_by_label("Name", exact=True).fill("org cap")
    dialog.get_by_role("button", name="+ Add Limit").click()
    dialog.get_by_label("Amount").fill("100")
    dialog.get_by_label("Maximum").fill("-3")
    dialog.get_by_role("button", name="Add Policy").click()
    expect(dialog.get_by_label("Maximum")).to_have_class(re.compile(r"\binvalid\b"))
    ui.expected_http_error(400, "/api/policies")
    dialog.get_by_label("Maximum").fill("50")
    dialog.get_by_label("Mode").select_option("shadow")
    dialog.get_by_role("button", name="Add Policy").click()
    expect(dialog).to_be_hidden()
    row = page.locator("tr", has_text="org cap")
    expect(row).to_contain_text("100 requests / minute · $50 / month")
    expect(row).to_contain_text("shadow")
    ui.shot("23-limits-and-budgets")

    page.get_by_role("link", name="Prices").click()
    page.get_by_role("button", name="Add Price").click()
    dialog = page.get_by_role("dialog", name="Add Price")
    dialog.get_by_label("Model (glob)").fill("oa/*")
    dialog.get_by_label("Input, USD per 1M tokens").fill("1")
    dialog.get_by_label("Output, USD per 1M tokens").fill("3")
    dialog.get_by_role("button", name="Save Price").click()
    expect(dialog).to_be_hidden()
    expect(page.locator('tr[data-price="oa/*"]')).to_contain_text("$3")
    ui.shot("24-prices")
