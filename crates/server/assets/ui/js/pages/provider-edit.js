// Edit Provider Config: the Network, Request Types, Request Shaping and Keys tabs.

import { h, toast, errorSlot, setError, switchEl, openModal, showServerErrors } from "../dom.js";
import { api } from "../api.js";
import { render } from "../router.js";
import { authChoice } from "../auth-fields.js";
import { isKeyless, allowedSet, baseUrlProblem, requestTypesEditor, parseList, customConfigFrom, looksLikeDatabricks } from "../provider-fields.js";

export function editConfigDialog(p) {
  const tabs = ["Network", "Request Types", "Request Shaping"];
  if (!isKeyless(p) || (p.keys && p.keys.length)) tabs.push("Keys");
  const content = h("div", {});
  const tabBar = h("div", { class: "tabs", role: "tablist" });
  const readOnly = p.source === "file";
  const show = (name) => {
    for (const b of tabBar.children) b.setAttribute("aria-selected", String(b.textContent === name));
    content.innerHTML = "";
    const tab = { Network: networkTab, Keys: keysTab, "Request Types": typesTab, "Request Shaping": shapingTab }[name];
    content.append(tab(p, close));
    if (readOnly) content.prepend(h("p", { class: "form-error" }, "This provider is managed by the config file: edit the file and restart to change it."));
  };
  for (const t of tabs) tabBar.append(h("button", { class: "tab", role: "tab", type: "button", onclick: () => show(t) }, t));
  const close = openModal(`Edit Provider Config · ${p.name}`, h("div", {}, tabBar, content), null, true);
  show("Network");
}

async function saveProvider(p, changes, close, what) {
  const body = { ...p, ...changes };
  delete body.name; delete body.source; delete body.warnings;
  try {
    await api("PUT", `/api/providers/${encodeURIComponent(p.name)}`, body);
    toast(`${what} saved`);
    close();
    await render();
    // The page was rebuilt: give keyboard users their place back.
    const again = document.querySelector('[aria-label="Edit Provider Config"]');
    if (again) again.focus();
    return null;
  } catch (err) { return err; }
}

function networkTab(p, close) {
  const n = p.network_config || {};
  const num = (id, label, value, help) => h("div", { class: "field" }, h("label", { for: id }, label),
    h("input", { type: "number", id, value: value ?? "", min: 0 }), help ? h("div", { class: "help" }, help) : null);
  const baseUrl = h("input", { type: "url", id: "net-base-url", value: n.base_url || "" });
  const rows = h("tbody", {});
  const addRow = (name = "", value = "") => {
    const nameInput = h("input", { type: "text", "aria-label": "Header name", value: name, placeholder: "Authorization" });
    const valueInput = h("input", { type: "text", "aria-label": "Header value", value, placeholder: "Bearer <your-databricks-pat>" });
    const tr = h("tr", {}, h("td", {}, nameInput), h("td", {}, valueInput),
      h("td", {}, h("button", { type: "button", class: "btn danger", "aria-label": `Remove header ${name || "row"}`, onclick: () => tr.remove() }, "Remove")));
    rows.append(tr);
    return nameInput;
  };
  for (const [k, v] of Object.entries(n.extra_headers || {})) addRow(k, v);
  // Keyed providers authenticate with their keys; keyless ones (Databricks') by header or service principal.
  const auth = isKeyless(p) || n.oauth ? authChoice("net", n.oauth || null) : null;
  // On by default for Databricks hosts (as the server decides); saved only when set against that default.
  const tagsDefault = looksLikeDatabricks(n.base_url || "");
  const tags = switchEl("net-request-tags", "Send caller attribution (Databricks-Ai-Gateway-Request-Tags)",
    n.databricks_request_tags ?? tagsDefault);
  const formError = h("div", { class: "form-error", role: "alert" });
  const saveBtn = h("button", { class: "btn primary", type: "button", onclick: save }, "Save Network Configuration");
  const el = h("div", {},
    h("div", { class: "field" }, h("label", { for: "net-base-url" }, "Base URL"), baseUrl, errorSlot()),
    h("div", { class: "grid2" },
      num("net-timeout", "Request timeout (s)", n.default_request_timeout_in_seconds, "Whole request; for streams, until the first byte."),
      num("net-idle", "Stream idle timeout (s)", n.stream_idle_timeout_in_seconds, "Longest silence between two chunks."),
      num("net-retries", "Max retries", n.max_retries),
      num("net-backoff-initial", "Retry backoff initial (ms)", n.retry_backoff_initial),
      num("net-backoff-max", "Retry backoff max (ms)", n.retry_backoff_max)),
    auth ? auth.el : null,
    h("div", { class: "field" }, tags, h("div", { class: "help" },
      "Tells Databricks' usage and inference tables which virtual key, team and user made each call (merged with the client's own tags).")),
    h("h3", { class: "section-title" }, "Extra Headers"),
    h("p", { class: "help muted" }, "Sent on every request to this provider. Credential values are shown redacted; leave them as they are to keep the stored secret."),
    h("table", { class: "rows", "aria-label": "Extra Headers" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Value"), h("th", {}, ""))), rows),
    h("button", { type: "button", class: "btn", onclick: () => addRow().focus() }, "+ Add Header"),
    formError,
    h("div", { style: "display:flex;justify-content:flex-end;margin-top:16px" }, saveBtn));
  async function save() {
    const problem = baseUrlProblem(baseUrl.value.trim());
    setError(baseUrl, problem);
    if (problem) return;
    const headers = {};
    for (const tr of rows.children) {
      const [k, v] = [...tr.querySelectorAll("input")].map((i) => i.value.trim());
      if (k) headers[k] = v;
    }
    const oauth = auth && auth.isOAuth() ? auth.value("") : null;
    if (auth && auth.isOAuth() && !oauth) return;
    // The service principal's token is the Authorization header: a static one would fight it.
    if (oauth) for (const k of Object.keys(headers)) if (k.toLowerCase() === "authorization") delete headers[k];
    const val = (id) => { const v = el.querySelector("#" + id).value; return v === "" ? undefined : Number(v); };
    const network_config = { ...n, base_url: baseUrl.value.trim(), extra_headers: headers,
      default_request_timeout_in_seconds: val("net-timeout"), stream_idle_timeout_in_seconds: val("net-idle"),
      max_retries: val("net-retries"), retry_backoff_initial: val("net-backoff-initial"), retry_backoff_max: val("net-backoff-max") };
    if (oauth) network_config.oauth = oauth; else delete network_config.oauth;
    const tagsOn = tags.querySelector("input").checked;
    if (tagsOn === tagsDefault && n.databricks_request_tags === undefined) delete network_config.databricks_request_tags;
    else network_config.databricks_request_tags = tagsOn;
    saveBtn.disabled = true;
    const err = await saveProvider(p, { network_config }, close, "Network configuration");
    saveBtn.disabled = false;
    if (err) showServerErrors(err, { "network_config.base_url": baseUrl }, formError);
  }
  return el;
}

function typesTab(p, close) {
  const c = p.custom_provider_config;
  if (!c) return h("p", { class: "muted" }, "Built-in providers allow every request type.");
  const editor = requestTypesEditor([...allowedSet(p)], c.request_path_overrides || {});
  const formError = h("div", { class: "form-error", role: "alert" });
  const save = async () => {
    const err = await saveProvider(p, { custom_provider_config: customConfigFrom(c.base_provider_type, c.is_key_less, editor) }, close, "Request types");
    if (err) formError.textContent = err.message;
  };
  return h("div", {}, editor.el, formError, h("div", { style: "display:flex;justify-content:flex-end;margin-top:16px" },
    h("button", { class: "btn primary", type: "button", onclick: save }, "Save Request Types")));
}

function shapingTab(p, close) {
  const r = p.request_shaping || {};
  const drops = h("input", { type: "text", id: "rs-drop-fields", value: (r.drop_fields || []).join(", "), placeholder: "store, tools[].function.strict" });
  const maxTokens = h("input", { type: "number", id: "rs-max-tokens", value: r.default_max_tokens ?? 4096, min: 1 });
  const betaValue = Array.isArray(r.anthropic_beta) ? "allow" : (r.anthropic_beta || "forward");
  const beta = h("select", { id: "rs-beta" }, ["forward", "drop", "allow"].map((v) => h("option", { value: v, selected: v === betaValue }, v === "allow" ? "only these:" : v)));
  const betaList = h("input", { type: "text", id: "rs-beta-list", value: Array.isArray(r.anthropic_beta) ? r.anthropic_beta.join(", ") : "", placeholder: "interleaved-thinking-2025-05-14" });
  const formError = h("div", { class: "form-error", role: "alert" });
  const save = async () => {
    const request_shaping = { ...r, drop_fields: parseList(drops.value), default_max_tokens: Number(maxTokens.value || 4096),
      anthropic_beta: beta.value === "allow" ? parseList(betaList.value) : beta.value };
    const err = await saveProvider(p, { request_shaping }, close, "Request shaping");
    if (err) showServerErrors(err, { "request_shaping.drop_fields": drops, "request_shaping.default_max_tokens": maxTokens }, formError);
  };
  return h("div", {},
    h("div", { class: "field" }, h("label", { for: "rs-drop-fields" }, "Drop request fields"), drops,
      h("div", { class: "help" }, "Removed before sending. Databricks' Unified route rejects store and tools[].function.strict; its Anthropic route rejects tools[].eager_input_streaming.")),
    h("div", { class: "grid2" },
      h("div", { class: "field" }, h("label", { for: "rs-max-tokens" }, "Default max_tokens"), maxTokens,
        h("div", { class: "help" }, "Sent to an Anthropic-format upstream when an OpenAI client gave none.")),
      h("div", { class: "field" }, h("label", { for: "rs-beta" }, "anthropic-beta from clients"), beta, betaList)),
    formError,
    h("div", { style: "display:flex;justify-content:flex-end;margin-top:16px" }, h("button", { class: "btn primary", type: "button", onclick: save }, "Save Request Shaping")));
}

function keysTab(p, close) {
  const rows = h("tbody", {});
  const addRow = (k = { name: "", value: "", models: [], weight: 1 }) => {
    const tr = h("tr", {},
      h("td", {}, h("input", { type: "text", "aria-label": "Key name", value: k.name || "" })),
      h("td", {}, h("input", { type: "password", "aria-label": "Key value", value: k.value || "", autocomplete: "off" })),
      h("td", {}, h("input", { type: "text", "aria-label": "Models (comma separated, empty = all)", value: (k.models || []).join(", ") })),
      h("td", {}, h("input", { type: "number", "aria-label": "Weight", value: k.weight ?? 1, min: 0, step: "0.1", style: "width:80px" })),
      h("td", {}, h("button", { type: "button", class: "btn danger", onclick: () => tr.remove() }, "Remove")));
    rows.append(tr);
  };
  (p.keys || []).forEach(addRow);
  const formError = h("div", { class: "form-error", role: "alert" });
  const save = async () => {
    const keys = [...rows.children].map((tr) => {
      const [name, value, models, weight] = [...tr.querySelectorAll("input")].map((i) => i.value.trim());
      return { name: name || undefined, value, models: models ? models.split(",").map((m) => m.trim()).filter(Boolean) : [], weight: Number(weight || 1) };
    });
    const err = await saveProvider(p, { keys }, close, "Keys");
    if (err) formError.textContent = err.message;
  };
  return h("div", {},
    h("p", { class: "muted" }, "A key serving the requested model is chosen in proportion to its weight. Stored values are shown redacted; leave them to keep them."),
    h("table", { class: "rows", "aria-label": "Keys" }, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Value"), h("th", {}, "Models"), h("th", {}, "Weight"), h("th", {}, ""))), rows),
    h("button", { type: "button", class: "btn", onclick: () => addRow() }, "+ Add Key"), formError,
    h("div", { style: "display:flex;justify-content:flex-end;margin-top:16px" }, h("button", { class: "btn primary", type: "button", onclick: save }, "Save Keys")));
}
