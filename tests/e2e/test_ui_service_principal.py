"""The Databricks preset with a service principal, in a real browser: the fake workspace's
OAuth endpoint issues tokens only to the principal it knows, and the fake gateway accepts
only those tokens. Test connection fetches the token first and lists the Unity Catalog
models with it; a wrong secret, set in the provider's Network tab, fails at the token step
with the identity provider's words and never shows the secret."""

import json
import re

import httpx
import pytest
from playwright.sync_api import expect

from conftest import FAKE_UPSTREAM, Process
from test_ui_browser import (  # noqa: F401  (browser, ui and gateway are fixtures)
    UC_PATH,
    browser,
    gateway,
    open_add_menu,
    open_network_tab,
    providers_page,
    save_network,
    select_provider,
    ui,
)

CLIENT_ID, CLIENT_SECRET = "sp-ui-app", "sp-ui-secret"


@pytest.fixture(scope="module")
def sp_fake():
    p = Process([FAKE_UPSTREAM, "--oauth-client", f"{CLIENT_ID}:{CLIENT_SECRET}"])
    urls = json.loads(p.first_line)
    yield urls
    p.stop()


def fake_requests(fake, path):
    reqs = httpx.get(f"{fake['gateway']}/__fake/requests").json()
    return [r for r in reqs if r["path"].split("?")[0] == path]


def test_databricks_preset_with_a_service_principal_passes_test_connection(ui, gateway, sp_fake):
    gw, ws = sp_fake["gateway"], sp_fake["workspace"]
    page = ui.page
    providers_page(page, gateway)
    open_add_menu(page).get_by_role("menuitem", name=re.compile("^Databricks AI Gateway")).click()
    dialog = page.get_by_role("dialog", name="Databricks AI Gateway")
    dialog.get_by_label("AI Gateway URL").fill(gw)
    dialog.get_by_label("Workspace URL").fill(ws)
    sp_fields = dialog.get_by_test_id("dbx-sp-fields")
    expect(sp_fields).to_be_hidden()
    dialog.get_by_label("Service principal (OAuth)").check()
    expect(sp_fields).to_be_visible()
    expect(dialog.get_by_label("Token", exact=True)).to_be_hidden()
    # Nothing filled in: each field says what it needs.
    dialog.get_by_role("button", name="Create providers").click()
    expect(dialog).to_contain_text("Enter the service principal's client ID.")
    dialog.get_by_label("Client ID").fill(CLIENT_ID)
    dialog.get_by_label("Client secret").fill(CLIENT_SECRET)
    # A schema alone is refused (Unity Catalog filters schemas within a catalog); with its catalog it narrows the list.
    dialog.get_by_label("Schema (optional)").fill("default")
    dialog.get_by_role("button", name="Create providers").click()
    expect(dialog).to_contain_text("enter the catalog too")
    dialog.get_by_label("Catalog (optional)").fill("main")
    ui.shot("60-databricks-preset-service-principal")
    dialog.get_by_role("button", name="Create providers").click()
    expect(dialog).to_be_hidden()
    assert CLIENT_SECRET not in page.content()

    stored = gateway.providers()
    assert sorted(stored) == ["databricks-anthropic", "databricks-mlflow"]
    for p in stored.values():
        oauth = p["network_config"]["oauth"]
        assert oauth["token_url"] == f"{ws}/oidc/v1/token", "derived from the workspace URL"
        assert (oauth["client_id"], oauth["client_secret"], oauth["scope"]) == (CLIENT_ID, "********", "all-apis")
        assert "extra_headers" not in p["network_config"]
    assert stored["databricks-mlflow"]["custom_provider_config"]["request_path_overrides"]["list_models"] == (
        f"{ws}{UC_PATH}?catalog_name=main&schema_name=default")

    detail = select_provider(page, "databricks-mlflow")
    expect(detail).to_contain_text(f"Service principal (OAuth): client {CLIENT_ID}")
    detail.get_by_role("button", name="Test connection").click()
    result = detail.get_by_test_id("test-result")
    expect(result).to_contain_text("OAuth token fetched")
    expect(result).to_contain_text("Connected: 2 models")
    expect(result).to_contain_text("databricks-mlflow/main.default.mixtral")
    expect(result).not_to_contain_text("system.ai.claude")
    expect(result).to_have_class(re.compile(r"\bok\b"))
    ui.shot("61-test-connection-service-principal")
    listed = fake_requests(sp_fake, UC_PATH)
    assert all("catalog_name=main&schema_name=default" in r["path"] for r in listed)
    assert listed and all(r["headers"]["authorization"].startswith("Bearer fake-sp-token-") for r in listed)
    token_requests = fake_requests(sp_fake, "/oidc/v1/token")
    assert token_requests and all(r["headers"]["authorization"].startswith("Basic ") for r in token_requests)

    # A chat through the Native provider uses its own service principal token.
    r = httpx.post(f"{gateway.url}/anthropic/v1/messages", json={
        "model": "databricks-anthropic/claude-sonnet", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]})
    assert r.status_code == 200, r.text

    # A wrong secret, set in the Network tab: the token step fails and says why.
    panel = open_network_tab(page, "databricks-mlflow")
    expect(panel.get_by_label("Service principal (OAuth)")).to_be_checked()
    expect(panel.get_by_label("Client secret")).to_have_value("********")
    panel.get_by_label("Client secret").fill("not-the-secret")
    attribution = panel.get_by_role("switch", name=re.compile("^Send caller attribution"))
    expect(attribution).not_to_be_checked()  # a loopback host is not a Databricks host
    attribution.check()
    save_network(page, panel)
    assert gateway.providers()["databricks-mlflow"]["network_config"]["databricks_request_tags"] is True
    detail = select_provider(page, "databricks-mlflow")
    detail.get_by_role("button", name="Test connection").click()
    result = detail.get_by_test_id("test-result")
    expect(result).to_contain_text("Failed getting the OAuth token")
    expect(result).to_contain_text("invalid_client: Client authentication failed")
    expect(result).to_have_class(re.compile(r"\bfail\b"))
    assert "not-the-secret" not in page.content()
    ui.shot("62-test-connection-token-step-failed")

    # Back to a personal access token: the OAuth settings go, the header comes.
    panel = open_network_tab(page, "databricks-mlflow")
    panel.get_by_label("Personal access token").check()
    expect(panel.get_by_test_id("net-sp-fields")).to_be_hidden()
    table = panel.get_by_role("table", name="Extra Headers")
    panel.get_by_role("button", name="+ Add Header").click()
    table.get_by_role("textbox", name="Header name").last.fill("Authorization")
    table.get_by_role("textbox", name="Header value").last.fill("Bearer dapi-any")
    save_network(page, panel)
    mlflow = gateway.providers()["databricks-mlflow"]
    assert "oauth" not in mlflow["network_config"]
    assert mlflow["network_config"]["extra_headers"] == {"Authorization": "Bearer ********"}


def test_unity_ai_gateway_layout_needs_only_the_workspace_url(ui, gateway, sp_fake):
    ws = sp_fake["workspace"]
    page = ui.page
    providers_page(page, gateway)
    open_add_menu(page).get_by_role("menuitem", name=re.compile("^Databricks AI Gateway")).click()
    dialog = page.get_by_role("dialog", name="Databricks AI Gateway")
    dialog.get_by_label("Workspace host (Unity AI Gateway)").check()
    expect(dialog.get_by_label("AI Gateway URL")).to_be_hidden()
    expect(dialog).to_contain_text("databricks-codex (OpenAI Responses, natively, for Codex)")
    dialog.get_by_label("Workspace URL").fill(ws)
    dialog.get_by_label("Service principal (OAuth)").check()
    dialog.get_by_label("Client ID").fill(CLIENT_ID)
    dialog.get_by_label("Client secret").fill(CLIENT_SECRET)
    ui.shot("63-databricks-preset-unity-ai-gateway")
    dialog.get_by_role("button", name="Create providers").click()
    expect(dialog).to_be_hidden()

    stored = gateway.providers()
    assert sorted(stored) == ["databricks-anthropic", "databricks-codex", "databricks-mlflow"]
    assert stored["databricks-mlflow"]["network_config"]["base_url"] == f"{ws}/ai-gateway/mlflow"
    assert stored["databricks-mlflow"]["custom_provider_config"]["request_path_overrides"]["list_models"] == (
        f"{ws}/api/2.1/unity-catalog/model-services?page_size=100")
    assert stored["databricks-anthropic"]["network_config"]["base_url"] == f"{ws}/ai-gateway/anthropic"
    codex = stored["databricks-codex"]
    assert codex["network_config"]["base_url"] == f"{ws}/ai-gateway/codex"
    assert codex["custom_provider_config"]["base_provider_type"] == "openai"
    allowed = codex["custom_provider_config"]["allowed_requests"]
    assert allowed["responses"] is True and not allowed.get("chat_completion")

    detail = select_provider(page, "databricks-mlflow")
    detail.get_by_role("button", name="Test connection").click()
    result = detail.get_by_test_id("test-result")
    expect(result).to_contain_text("OAuth token fetched")
    expect(result).to_contain_text("Connected: 3 models")
    expect(result).to_contain_text("databricks-mlflow/system.ai.gpt-5")
    expect(result).to_contain_text("databricks-mlflow/main.default.support-bot")

    # The Responses-only provider is tested in its own API, passed through to /ai-gateway/codex/v1/responses.
    detail = select_provider(page, "databricks-codex")
    detail.locator("#test-model").fill("system.ai.gpt-5")
    detail.get_by_role("button", name="Test connection").click()
    result = detail.get_by_test_id("test-result")
    expect(result).to_contain_text("Connected: the model answered")
    ui.shot("64-test-connection-codex-responses")
    sent = fake_requests(sp_fake, "/ai-gateway/codex/v1/responses")
    assert sent and sent[-1]["body"]["input"] == "ping" and sent[-1]["body"]["model"] == "system.ai.gpt-5"
