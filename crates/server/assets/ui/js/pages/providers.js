// Models → Model Providers: the list, a provider's details, its connection
// test and usage snippets.

import { h, toast } from "../dom.js";
import { api, state } from "../api.js";
import { page, render } from "../router.js";
import { typeLabel, baseFormat, isKeyless, allowedSet } from "../provider-fields.js";
import { addCustomProviderDialog, addBuiltInDialog } from "./provider-add.js";
import { databricksDialog } from "./databricks-preset.js";
import { editConfigDialog } from "./provider-edit.js";

// ------------------------------------------------------------ usage snippets

function snippets(p) {
  const origin = location.origin;
  const model = `${p.name}/<model>`;
  return {
    curl: `curl ${origin}/v1/chat/completions \\\n  -H 'Content-Type: application/json' \\\n  -d '{"model": "${model}", "messages": [{"role": "user", "content": "Hello!"}]}'`,
    "Python SDK": `from openai import OpenAI\n\nclient = OpenAI(base_url="${origin}/v1", api_key="unused")\nreply = client.chat.completions.create(\n    model="${model}",\n    messages=[{"role": "user", "content": "Hello!"}],\n)\nprint(reply.choices[0].message.content)`,
    "Claude Code": `export ANTHROPIC_BASE_URL=${origin}/anthropic\nexport ANTHROPIC_AUTH_TOKEN=unused\nexport ANTHROPIC_MODEL=${model}\nexport CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1\nclaude`,
    Codex: `# ~/.codex/config.toml\nmodel = "${model}"\nmodel_provider = "switchyard"\n\n[model_providers.switchyard]\nname = "Switchyard"\nbase_url = "${origin}/v1"\nenv_key = "SWITCHYARD_KEY"\nwire_api = "responses"`,
  };
}

export function snippetsView(p) {
  const all = snippets(p);
  const pre = h("pre", { class: "snippet", "data-testid": "snippet" });
  const bar = h("div", { class: "tabs", role: "tablist", "aria-label": "Usage snippets" });
  const show = (k) => { pre.textContent = all[k]; for (const b of bar.children) b.setAttribute("aria-selected", String(b.textContent === k)); };
  for (const k of Object.keys(all)) bar.append(h("button", { class: "tab", role: "tab", type: "button", onclick: () => show(k) }, k));
  const copy = h("button", { class: "btn", type: "button", onclick: async () => { try { await navigator.clipboard.writeText(pre.textContent); toast("Copied"); } catch { toast("Select the text to copy it", true); } } }, "Copy");
  show("curl");
  return h("div", {}, h("div", { style: "display:flex;justify-content:space-between;align-items:end" }, bar, copy), pre);
}

// ------------------------------------------------------------------ pages

function providerDetail(p) {
  const format = baseFormat(p);
  const allowed = allowedSet(p);
  const overrides = (p.custom_provider_config && p.custom_provider_config.request_path_overrides) || {};
  const n = p.network_config || {};
  const modelInput = h("input", { type: "text", id: "test-model", placeholder: "model (for a one-token chat)", style: "max-width:260px" });
  const result = h("div", { "data-testid": "test-result" });
  const testBtn = h("button", { class: "btn", type: "button", onclick: async () => {
    testBtn.disabled = true; result.className = "result"; result.textContent = "Testing…";
    try {
      const r = await api("POST", `/api/providers/${encodeURIComponent(p.name)}/test`, { model: modelInput.value.trim() || undefined });
      result.className = "result " + (r.ok ? "ok" : "fail");
      // A service principal's token is the first step: say whether it worked before the rest.
      const token = r.token && r.token.ok ? `OAuth token fetched (valid ${r.token.expires_in_s} s)\n` : "";
      result.textContent = r.ok
        ? token + (r.kind === "list_models"
          // Every model the endpoint serves (the API sends the first 50), as clients address them.
          ? `Connected: ${r.count} models (${r.latency_ms} ms)\n${(r.models || []).join("\n")}${r.count > (r.models || []).length ? `\n… and ${r.count - r.models.length} more (GET /v1/models lists them all)` : ""}`
          : `Connected: the model answered (${r.latency_ms} ms)`)
        : r.step === "token"
          ? `Failed getting the OAuth token: ${r.error}`
          : `${token}Failed${r.status ? ` (HTTP ${r.status})` : ""}: ${r.error}`;
    } catch (err) { result.className = "result fail"; result.textContent = err.message; }
    finally { testBtn.disabled = false; }
  } }, "Test connection");
  const del = p.source === "file" ? null : h("button", { class: "btn danger", type: "button", onclick: async () => {
    if (!confirm(`Delete provider ${p.name}?`)) return;
    try { await api("DELETE", `/api/providers/${encodeURIComponent(p.name)}`); toast(`Provider ${p.name} deleted`); location.hash = "#/providers"; await render(); }
    catch (err) { toast(err.message, true); }
  } }, "Delete");
  return h("div", { class: "card detail", "data-testid": "provider-detail" },
    h("div", { class: "detail-head" },
      h("div", {}, h("h2", {}, p.name),
        h("div", { class: "chips" }, h("span", { class: `badge ${format}` }, format === "anthropic" ? "Anthropic format" : "OpenAI format"),
          isKeyless(p) ? h("span", { class: "badge" }, "keyless") : h("span", { class: "badge" }, `${(p.keys || []).length} key(s)`),
          p.source === "file" ? h("span", { class: "badge file", title: "Edit the config file to change it" }, "config file") : null)),
      h("div", { class: "detail-actions" }, del,
        h("button", { class: "btn icon", type: "button", "aria-label": "Edit Provider Config", title: "Edit Provider Config", onclick: () => editConfigDialog(p) }, "⚙ Edit Provider Config"))),
    h("dl", { class: "kv" },
      h("dt", {}, "Base URL"), h("dd", {}, n.base_url || "(vendor default)"),
      h("dt", {}, "Model prefix"), h("dd", {}, h("code", {}, `${p.name}/<model>`)),
      h("dt", {}, "Allowed request types"), h("dd", {}, h("div", { class: "chips" }, state.meta.request_types.map((t) =>
        h("span", { class: "chip" + (allowed.has(t.id) ? "" : " off") }, t.label)))),
      h("dt", {}, "Custom paths"), h("dd", {}, Object.keys(overrides).length
        ? Object.entries(overrides).map(([k, v]) => h("div", {}, `${typeLabel(k)} → `, h("code", {}, v))) : h("span", { class: "muted" }, "none")),
      n.oauth ? h("dt", {}, "Authentication") : null,
      n.oauth ? h("dd", {}, `Service principal (OAuth): client ${n.oauth.client_id}, tokens from `, h("code", {}, n.oauth.token_url)) : null,
      h("dt", {}, "Extra headers"), h("dd", {}, Object.keys(n.extra_headers || {}).length
        ? Object.entries(n.extra_headers).map(([k, v]) => h("div", {}, h("code", {}, `${k}: ${v}`))) : h("span", { class: "muted" }, "none"))),
    h("h3", { class: "section-title" }, "Test connection"),
    h("div", { class: "test-row" }, modelInput, testBtn), result,
    h("h3", { class: "section-title" }, "Use it"), snippetsView(p));
}

function providersPage(selected) {
  const menu = h("ul", { class: "menu", role: "menu", hidden: true });
  const setOpen = (open) => { menu.hidden = !open; toggle.setAttribute("aria-expanded", String(open)); };
  const toggle = h("button", { class: "btn primary", type: "button", id: "add-provider", "aria-haspopup": "menu", "aria-expanded": "false",
    onclick: () => { setOpen(menu.hidden); if (!menu.hidden) menu.querySelector("button").focus(); } }, "Add New Provider ▾");
  // Focus goes back to the toggle first, so a dialog opened from the menu returns focus there when it closes.
  const item = (label, hint, action) => h("li", { role: "none" }, h("button", { role: "menuitem", type: "button",
    onclick: () => { setOpen(false); toggle.focus(); action(); } }, label, hint ? h("span", { class: "hint" }, hint) : null));
  menu.append(
    item("OpenAI", "api.openai.com with your key", () => addBuiltInDialog("openai")),
    item("Anthropic", "api.anthropic.com with your key", () => addBuiltInDialog("anthropic")),
    item("Databricks AI Gateway", "both Unified and Native providers at once", databricksDialog),
    h("li", { role: "separator" }, h("hr")),
    item("Custom provider…", "any OpenAI- or Anthropic-compatible endpoint", addCustomProviderDialog));
  menu.addEventListener("keydown", (e) => {
    const items = [...menu.querySelectorAll("button")];
    const i = items.indexOf(document.activeElement);
    if (e.key === "ArrowDown") { e.preventDefault(); items[(i + 1) % items.length].focus(); }
    if (e.key === "ArrowUp") { e.preventDefault(); items[(i - 1 + items.length) % items.length].focus(); }
    if (e.key === "Escape") { setOpen(false); toggle.focus(); }
  });
  // A click outside closes the menu, every time; the listener leaves with the page it belongs to.
  const onOutsideClick = (e) => {
    if (!menu.isConnected) { document.removeEventListener("click", onOutsideClick); return; }
    if (!e.target.closest(".dropdown")) setOpen(false);
  };
  document.addEventListener("click", onOutsideClick);
  const list = h("ul", {}, state.providers.map((p) => h("li", {}, h("a", { href: `#/providers/${encodeURIComponent(p.name)}`, class: p.name === selected ? "active" : "" },
    p.name, h("span", { class: `badge ${baseFormat(p)}` }, baseFormat(p))))));
  const current = state.providers.find((p) => p.name === selected) || (selected ? null : state.providers[0]);
  return [
    h("div", { class: "page-header" }, h("h1", {}, "Model Providers"), h("div", { class: "dropdown" }, toggle, menu)),
    h("div", { class: "layout" },
      h("nav", { class: "card provider-list", "aria-label": "Configured Providers" }, h("h2", {}, "Configured Providers"),
        state.providers.length ? list : h("p", { class: "empty" }, "No providers yet.")),
      current ? providerDetail(current) : h("div", { class: "card detail empty" },
        selected ? `No provider named ${selected}.` : "Add a provider with Add New Provider: pick Databricks AI Gateway or Custom provider…")),
  ];
}

page("providers", { title: "Model Providers", render: (arg) => providersPage(arg) });
