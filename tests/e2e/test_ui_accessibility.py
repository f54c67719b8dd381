"""Every page and dialog of the web UI passes axe-core with no `serious` or
`critical` violation. axe (tests/e2e/vendor/axe-core, test-only, never in the
binary) is injected into the page under test and run on the whole document.
"""

import pathlib
import re

import anthropic
import httpx
from playwright.sync_api import expect

from test_ui_browser import Gateway, browser, fake, gateway, ui, upstream  # noqa: F401 (fixtures)
from test_ui_observability import add_providers, chat, logged, wait_until

AXE = pathlib.Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")

RUN_AXE = """async (blocking) => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.filter((v) => blocking.includes(v.impact)).map((v) => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 160), why: n.failureSummary })),
  }));
}"""


class Audit:
    """Scans the page as it is now, under a name, and keeps what failed."""

    def __init__(self, page):
        self.page = page
        self.failures = {}
        self.scanned = []

    def __call__(self, name):
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(AXE))
        violations = self.page.evaluate(RUN_AXE, list(BLOCKING))
        self.scanned.append(name)
        if violations:
            self.failures[name] = violations

    def report(self):
        lines = []
        for name, violations in self.failures.items():
            lines.append(f"== {name}")
            for v in violations:
                lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['url']})")
                for n in v["nodes"]:
                    lines.append(f"      at {n['target']}: {n['html']}")
                    lines.append("         " + n["why"].replace("\n", "\n         "))
        return "\n".join(lines)


def close_dialog(page, dialog):
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_every_page_and_dialog_passes_axe(ui, gateway, fake):
    add_providers(gateway, fake)
    assert httpx.post(f"{gateway.url}/api/routes", json={"name": "smart", "targets": [{"model": "oa/big", "weight": 1}]}).status_code == 201
    assert httpx.post(f"{gateway.url}/api/teams", json={"name": "ml"}).status_code == 201
    key = httpx.post(f"{gateway.url}/api/keys", json={"name": "ci", "team": "ml", "rate_limit": {"requests_per_minute": 100}}).json()
    assert httpx.post(f"{gateway.url}/api/prices", json={"model": "oa/*", "input": 1, "output": 3}).status_code in (200, 201)
    req_id, _ = chat(gateway, "oa/llama", "audit", key=key["key"])
    chat(gateway, "oa/error-400-demo", key=key["key"])
    an = anthropic.Anthropic(base_url=f"{gateway.url}/anthropic", api_key=key["key"], max_retries=0)
    an.messages.create(model="an/claude-sonnet", max_tokens=16, messages=[{"role": "user", "content": "Hi"}])
    logged(gateway, 3)

    page = ui.page
    audit = Audit(page)
    page.goto(f"{gateway.url}/#/providers")
    detail = page.get_by_test_id("provider-detail")
    expect(detail).to_be_visible()
    audit("providers")

    page.get_by_role("button", name="Add New Provider").click()
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    audit("providers: add menu")
    for item, title in [("OpenAI", "Add OpenAI"), ("Anthropic", "Add Anthropic"),
                        ("Databricks AI Gateway", "Databricks AI Gateway"), ("Custom provider…", "Add Custom Provider")]:
        if not menu.is_visible():
            page.get_by_role("button", name="Add New Provider").click()
        menu.get_by_role("menuitem", name=re.compile(f"^{re.escape(item)}")).click()
        dialog = page.get_by_role("dialog", name=title)
        expect(dialog).to_be_visible()
        audit(f"dialog: {title}")
        close_dialog(page, dialog)

    page.get_by_role("button", name="Edit Provider Config").click()
    panel = page.get_by_role("dialog", name="Edit Provider Config · an")
    expect(panel).to_be_visible()
    for tab in panel.get_by_role("tab").all_inner_texts():
        panel.get_by_role("tab", name=tab).click()
        expect(panel.get_by_role("tab", name=tab)).to_have_attribute("aria-selected", "true")
        audit(f"dialog: provider edit, {tab} tab")
    close_dialog(page, panel)

    for nav, heading, button, dialog_name in [
        ("Routes", "Routes", "Add Route", "Add Route"),
        ("Virtual Keys", "Virtual Keys", "Create Key", "Create Virtual Key"),
        ("Teams", "Teams", "Add Team", "Add Team"),
        ("Limits & Budgets", "Limits & Budgets", "Add Policy", "Add Policy"),
        ("Prices", "Prices", "Add Price", "Add Price"),
    ]:
        page.get_by_role("complementary", name="Main navigation").get_by_role("link", name=nav, exact=True).click()
        expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        audit(nav)
        page.get_by_role("button", name=button, exact=True).click()
        dialog = page.get_by_role("dialog", name=dialog_name)
        expect(dialog).to_be_visible()
        audit(f"dialog: {dialog_name}")
        close_dialog(page, dialog)

    # The key shown once, with its snippets.
    page.get_by_role("link", name="Virtual Keys").click()
    page.get_by_role("button", name="Create Key").click()
    dialog = page.get_by_role("dialog", name="Create Virtual Key")
    dialog.get_by_label("Name", exact=True).fill("audited")
    dialog.get_by_role("button", name="Create Key").click()
    shown = page.get_by_role("dialog", name="Key audited created")
    expect(shown).to_be_visible()
    audit("dialog: key shown once")
    shown.get_by_role("button", name="Done").click()
    expect(shown).to_be_hidden()

    page.get_by_role("link", name="Playground").click()
    expect(page.get_by_role("heading", name="Playground", level=1)).to_be_visible()
    audit("Playground")

    page.get_by_role("link", name="Logs").click()
    expect(page.locator("table.logs tbody tr")).to_have_count(3)
    audit("Logs")
    page.get_by_label("Time range").select_option("custom")
    expect(page.get_by_label("From")).to_be_visible()
    audit("Logs: custom range")
    page.get_by_role("switch", name="Live tail").check()
    expect(page.get_by_test_id("live-status")).to_contain_text("Live")
    audit("Logs: live tail")
    page.get_by_role("switch", name="Live tail").uncheck()
    page.locator(f'tr[data-request-id="{req_id}"]').get_by_role("button").click()
    drawer = page.get_by_role("dialog", name=f"Request {req_id}")
    expect(drawer).to_be_visible()
    audit("dialog: log detail")
    close_dialog(page, drawer)

    wait_until("usage rollups", lambda: httpx.get(f"{gateway.url}/api/usage").json()["totals"]["requests"] >= 3)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator('figure[data-chart="requests"] canvas').first).to_be_attached()
    audit("Dashboard")
    for summary in page.locator("figure.chart summary").all():
        summary.click()
    expect(page.locator("figure.chart table").first).to_be_visible()
    audit("Dashboard: charts as tables")
    page.get_by_label("Group by").select_option("provider")
    expect(page.locator('figure[data-chart="requests"]').get_by_role("img")).to_have_attribute("aria-label", re.compile(r"\boa: "))
    audit("Dashboard: grouped by provider")

    assert len(audit.scanned) >= 25, audit.scanned
    assert not audit.failures, "serious or critical axe violations:\n" + audit.report()


def test_sign_in_page_passes_axe(ui):
    g = Gateway("--host", "0.0.0.0", "--admin-token", "a11y-admin-T0ken")
    try:
        page = ui.page
        page.goto(f"{g.url}/")
        expect(page).to_have_url(f"{g.url}/login")
        audit = Audit(page)
        audit("sign in")
        page.get_by_label("Admin token").fill("wrong-token")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("That token is not right.")
        ui.expected_http_error(401, "/login")
        audit("sign in: wrong token")
        assert not audit.failures, "serious or critical axe violations:\n" + audit.report()
    finally:
        g.stop()
