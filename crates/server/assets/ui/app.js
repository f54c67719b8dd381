// Switchyard admin UI: a small single-page app over the management API.
// Plain DOM code, no build step; every secret shown comes redacted from the API.
"use strict";

const REDACTED = "********";
let META = { request_types: [], base_formats: ["openai", "anthropic"] };
let PROVIDERS = [];

// ------------------------------------------------------------------ helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "html") el.innerHTML = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

async function api(method, path, body) {
  const opts = { method, headers: { "X-Requested-With": "switchyard" } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  if (res.status === 401) { location.href = "/login"; throw new Error("not signed in"); }
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err = new Error((data && data.error && data.error.message) || res.statusText);
    err.details = (data && data.error && data.error.details) || [];
    err.status = res.status;
    throw err;
  }
  return data;
}

function toast(message, error = false) {
  const msg = h("div", { class: "msg" + (error ? " error" : "") }, message);
  document.getElementById("toast").append(msg);
  setTimeout(() => msg.remove(), 4000);
}

function typeLabel(id) {
  const t = META.request_types.find((t) => t.id === id);
  return t ? t.label : id;
}

function baseFormat(p) {
  return (p.custom_provider_config && p.custom_provider_config.base_provider_type) || p.name;
}

function isKeyless(p) {
  return !!(p.custom_provider_config && p.custom_provider_config.is_key_less);
}

function allowedSet(p) {
  const flags = p.custom_provider_config && p.custom_provider_config.allowed_requests;
  if (!flags) return new Set(META.request_types.map((t) => t.id));
  return new Set(Object.entries(flags).filter(([, on]) => on).map(([k]) => k));
}

function isPathOrUrl(v) {
  if (v.startsWith("/")) return true;
  try { const u = new URL(v); return (u.protocol === "http:" || u.protocol === "https:") && !!u.host; } catch { return false; }
}

/** Client-side checks of a base URL: what is wrong and how to fix it. */
function baseUrlProblem(v) {
  if (!v) return "Enter the base URL, e.g. https://<workspace-id>.ai-gateway.cloud.databricks.com/mlflow";
  let u;
  try { u = new URL(v); } catch { return "This is not a URL. Start with https:// and the host name."; }
  if (u.protocol !== "http:" && u.protocol !== "https:") return "Use an http:// or https:// URL.";
  if (u.search || u.hash) return "Remove the query string; put query parameters in a per-request-type custom URL instead.";
  if (/\/v1\/?$/.test(u.pathname)) return "Remove the trailing /v1: Switchyard appends /v1/chat/completions and the other standard paths itself.";
  return null;
}

function nameProblem(v, existing) {
  if (!v) return "Enter a name; clients will write <name>/<model>.";
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(v)) return "Use 1-64 letters, digits, '-', '_' or '.' (no '/' or spaces).";
  if (existing.includes(v)) return `A provider named "${v}" already exists; pick another name.`;
  return null;
}

/** A reserved line for a field's message, so that showing or clearing it never
 * moves what is below (a layout shift between press and release loses the click). */
function errorSlot() {
  return h("div", { class: "field-error", role: "alert" });
}

function setError(input, message) {
  const field = input.closest(".field") || input.parentElement;
  let err = field.querySelector(":scope > .field-error");
  if (!message) { input.classList.remove("invalid"); input.removeAttribute("aria-invalid"); if (err) err.textContent = ""; return; }
  input.classList.add("invalid");
  input.setAttribute("aria-invalid", "true");
  if (!err) { err = h("div", { class: "field-error", role: "alert" }); field.append(err); }
  err.textContent = message;
}

function switchEl(id, label, checked, onchange) {
  const input = h("input", { type: "checkbox", id, role: "switch", onchange });
  input.checked = checked;
  return h("label", { class: "switch", for: id }, input, h("span", { class: "track", "aria-hidden": "true" }), label);
}

// ------------------------------------------------------------------ modals

function openModal(title, body, footer, wide = false) {
  const root = document.getElementById("modal-root");
  const previous = document.activeElement;
  const close = () => { root.innerHTML = ""; document.removeEventListener("keydown", onKey); if (previous) previous.focus(); };
  const onKey = (e) => {
    if (e.key === "Escape") close();
    // Tab and Shift+Tab cycle inside the dialog (aria-modal): focus never reaches the page behind it.
    if (e.key === "Tab") {
      const items = [...dialog.querySelectorAll("button, input, select, textarea, a[href]")].filter((el) => !el.disabled && el.offsetParent !== null);
      if (!items.length) return;
      const [first, last] = [items[0], items[items.length - 1]];
      const inside = dialog.contains(document.activeElement);
      if (e.shiftKey && (!inside || document.activeElement === first)) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && (!inside || document.activeElement === last)) { e.preventDefault(); first.focus(); }
    }
  };
  const dialog = h("div", { class: "dialog" + (wide ? " wide" : ""), role: "dialog", "aria-modal": "true", "aria-labelledby": "dialog-title" },
    h("header", {}, h("h2", { id: "dialog-title" }, title), h("button", { class: "btn icon", "aria-label": "Close", onclick: close }, "✕")),
    h("div", { class: "body" }, body),
    footer ? h("footer", {}, footer) : null);
  root.innerHTML = "";
  root.append(h("div", { class: "backdrop", onclick: (e) => { if (e.target.classList.contains("backdrop")) close(); } }, dialog));
  document.addEventListener("keydown", onKey);
  const first = dialog.querySelector(".body input, .body select, .body textarea, .body button");
  if (first) first.focus();
  return close;
}

// ------------------------------------------------------- request types editor

/** Toggles per request type, each with a gear opening a "Custom Path or URL" popover. */
function requestTypesEditor(allowed, overrides) {
  const state = { allowed: new Set(allowed), overrides: { ...overrides } };
  const wrap = h("div", { class: "types", role: "group", "aria-label": "Allowed Request Types" });
  for (const t of META.request_types) {
    const overrideText = h("div", { class: "override", "data-testid": `override-${t.id}` }, state.overrides[t.id] || "");
    const row = h("div", { class: "type-row", "data-type": t.id });
    const gear = h("button", { type: "button", class: "btn icon", "aria-label": `Custom path or URL for ${t.label}`, title: "Custom Path or URL",
      onclick: () => togglePopover() }, "⚙");
    let pop = null;
    const togglePopover = () => {
      if (pop) { pop.remove(); pop = null; return; }
      const input = h("input", { type: "text", id: `override-input-${t.id}`, value: state.overrides[t.id] || "",
        placeholder: "/custom/path or https://other-host/full/url" });
      const apply = () => {
        const v = input.value.trim();
        if (v && !isPathOrUrl(v)) { setError(input, "Enter a path starting with / (appended to the base URL) or a full http(s):// URL."); return; }
        setError(input, null);
        if (v) state.overrides[t.id] = v; else delete state.overrides[t.id];
        overrideText.textContent = v;
        pop.remove(); pop = null; gear.focus();
      };
      input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); apply(); } if (e.key === "Escape") { e.stopPropagation(); pop.remove(); pop = null; gear.focus(); } });
      pop = h("div", { class: "popover", role: "dialog", "aria-label": `Custom Path or URL for ${t.label}` },
        h("div", { class: "field" }, h("label", { for: input.id }, "Custom Path or URL"), input, errorSlot(),
          h("div", { class: "help" }, "A path is appended to the base URL; a full URL may point at another host (e.g. the workspace's Unity Catalog API).")),
        h("div", { class: "row" }, h("button", { type: "button", class: "btn", onclick: () => { input.value = ""; apply(); } }, "Clear"),
          h("button", { type: "button", class: "btn primary", onclick: apply }, "Done")));
      row.append(pop);
      input.focus();
    };
    row.append(
      h("div", {}, switchEl(`type-${t.id}`, t.label, state.allowed.has(t.id), (e) => { if (e.target.checked) state.allowed.add(t.id); else state.allowed.delete(t.id); }), overrideText),
      gear);
    wrap.append(row);
  }
  const setAllowed = (ids) => {
    state.allowed = new Set(ids);
    for (const t of META.request_types) {
      const box = wrap.querySelector(`#type-${t.id}`);
      if (box) box.checked = state.allowed.has(t.id);
    }
  };
  return { el: wrap, state, setAllowed };
}

/** What a new provider of each base format allows by default: the operations its
 * wire format has. Responses and completions on an OpenAI-compatible upstream are
 * then emulated via chat, which works even where the upstream has no such endpoint. */
const DEFAULT_TYPES = {
  openai: ["list_models", "chat_completion", "chat_completion_stream", "embedding"],
  anthropic: ["list_models", "chat_completion", "chat_completion_stream", "responses", "responses_stream",
    "text_completion", "text_completion_stream", "count_tokens"],
};

/** Fields Databricks AI Gateway rejects, per base format (protocols.md §6.3). */
const DATABRICKS_DROPS = { openai: "store, tools[].function.strict", anthropic: "tools[].eager_input_streaming" };

function looksLikeDatabricks(url) {
  return /databricks\.(com|net)|azuredatabricks\.net|gcp\.databricks/.test(url);
}

function parseList(v) {
  return v.split(/[,\n]/).map((x) => x.trim()).filter(Boolean);
}

function customConfigFrom(base, keyless, editor) {
  const all = META.request_types.map((t) => t.id);
  const allowed_requests = {};
  for (const id of all) allowed_requests[id] = editor.state.allowed.has(id);
  return { base_provider_type: base, is_key_less: keyless, allowed_requests, request_path_overrides: { ...editor.state.overrides } };
}

/** Shows server validation details next to the fields they name. */
function showServerErrors(err, fieldsByPath, formError) {
  let placed = false;
  for (const d of err.details || []) {
    if (d.severity !== "error") continue;
    const key = Object.keys(fieldsByPath).find((p) => d.path === p || d.path.endsWith("." + p) || d.path.startsWith(p + "."));
    if (key) { setError(fieldsByPath[key], d.message + (d.hint ? ` (${d.hint})` : "")); placed = true; }
  }
  formError.textContent = placed ? "Fix the highlighted fields." : err.message;
}

// -------------------------------------------------------------- add dialogs

function addCustomProviderDialog() {
  const names = PROVIDERS.map((p) => p.name);
  const name = h("input", { type: "text", id: "cp-name", placeholder: "databricks-mlflow", autocomplete: "off" });
  const base = h("select", { id: "cp-format" }, h("option", { value: "openai" }, "OpenAI"), h("option", { value: "anthropic" }, "Anthropic"));
  const url = h("input", { type: "url", id: "cp-base-url", placeholder: "https://<workspace-id>.ai-gateway.cloud.databricks.com/mlflow" });
  const key = h("input", { type: "password", id: "cp-key", placeholder: "API key or env.NAME", autocomplete: "off" });
  const keyField = h("div", { class: "field", hidden: true }, h("label", { for: "cp-key" }, "API key"), key, errorSlot(),
    h("div", { class: "help" }, "Sent as Authorization: Bearer (OpenAI) or x-api-key (Anthropic). env.NAME reads it from the environment."));
  const keyless = switchEl("cp-keyless", "Is Keyless?", true, (e) => { keyField.hidden = e.target.checked; });
  const editor = requestTypesEditor(DEFAULT_TYPES.openai, {});
  const drops = h("input", { type: "text", id: "cp-drop-fields", placeholder: "store, tools[].function.strict" });
  let dropsTouched = false;
  drops.addEventListener("input", () => { dropsTouched = true; });
  const suggestDrops = () => {
    if (dropsTouched) return;
    drops.value = looksLikeDatabricks(url.value) ? DATABRICKS_DROPS[base.value] : "";
  };
  base.addEventListener("change", () => { editor.setAllowed(DEFAULT_TYPES[base.value]); suggestDrops(); });
  url.addEventListener("input", suggestDrops);
  const formError = h("div", { class: "form-error", role: "alert" });
  const body = h("form", { onsubmit: (e) => { e.preventDefault(); submit(); } },
    h("div", { class: "field" }, h("label", { for: "cp-name" }, "Name"), name, errorSlot(), h("div", { class: "help" }, "Clients address it as <name>/<model>.")),
    h("div", { class: "grid2" },
      h("div", { class: "field" }, h("label", { for: "cp-format" }, "Base Format"), base),
      h("div", { class: "field" }, h("label", { for: "cp-keyless" }, "Authentication"), keyless)),
    h("div", { class: "field" }, h("label", { for: "cp-base-url" }, "Base URL"), url, errorSlot(),
      h("div", { class: "help" }, "Only the base: Switchyard appends /v1/chat/completions, /v1/messages, /v1/models …")),
    keyField,
    h("div", { class: "field" }, h("label", {}, "Allowed Request Types"), editor.el),
    h("div", { class: "field" }, h("label", { for: "cp-drop-fields" }, "Drop request fields"), drops,
      h("div", { class: "help" }, "Fields removed before sending, for upstreams that reject them (filled in for Databricks). Comma separated; [] means every item.")),
    formError);
  name.addEventListener("blur", () => setError(name, nameProblem(name.value.trim(), names)));
  url.addEventListener("blur", () => setError(url, baseUrlProblem(url.value.trim())));
  const addBtn = h("button", { class: "btn primary", type: "button", onclick: () => submit() }, "Add");
  const close = openModal("Add Custom Provider", body, [h("button", { class: "btn", type: "button", onclick: () => close() }, "Cancel"), addBtn], true);

  async function submit() {
    const n = name.value.trim(), u = url.value.trim();
    const problems = [[name, nameProblem(n, names)], [url, baseUrlProblem(u)]];
    if (!keyless.querySelector("input").checked && !key.value.trim()) problems.push([key, "Enter an API key, or turn on Is Keyless?"]);
    problems.forEach(([el, p]) => setError(el, p));
    if (problems.some(([, p]) => p)) { formError.textContent = "Fix the highlighted fields."; return; }
    const isKeyless = keyless.querySelector("input").checked;
    const provider = { name: n, network_config: { base_url: u }, custom_provider_config: customConfigFrom(base.value, isKeyless, editor) };
    const dropFields = parseList(drops.value);
    if (dropFields.length) provider.request_shaping = { drop_fields: dropFields };
    if (!isKeyless) provider.keys = [{ name: "default", value: key.value.trim(), weight: 1 }];
    addBtn.disabled = true;
    try {
      await api("POST", "/api/providers", provider);
      close();
      toast(`Provider ${n} added`);
      location.hash = `#/providers/${encodeURIComponent(n)}`;
      await render();
    } catch (err) {
      showServerErrors(err, { name, "network_config.base_url": url, keys: key, "request_shaping.drop_fields": drops }, formError);
    } finally { addBtn.disabled = false; }
  }
}

function addBuiltInDialog(kind) {
  const label = kind === "openai" ? "OpenAI" : "Anthropic";
  const names = PROVIDERS.map((p) => p.name);
  const key = h("input", { type: "password", id: "bi-key", placeholder: "sk-… or env.NAME", autocomplete: "off" });
  const formError = h("div", { class: "form-error", role: "alert" });
  const body = h("div", {},
    h("p", { class: "muted" }, `Creates the built-in provider "${kind}" (${label}'s own API). Clients write ${kind}/<model>.`),
    h("div", { class: "field" }, h("label", { for: "bi-key" }, "API key"), key), formError);
  const close = openModal(`Add ${label}`, body, [h("button", { class: "btn", onclick: () => close() }, "Cancel"), h("button", { class: "btn primary", onclick: submit }, "Add")]);
  async function submit() {
    if (names.includes(kind)) { formError.textContent = `A provider named "${kind}" already exists.`; return; }
    if (!key.value.trim()) { setError(key, "Enter the API key."); return; }
    try {
      await api("POST", "/api/providers", { name: kind, keys: [{ name: "default", value: key.value.trim(), weight: 1 }] });
      close(); toast(`Provider ${kind} added`); location.hash = `#/providers/${kind}`; await render();
    } catch (err) { showServerErrors(err, { keys: key }, formError); }
  }
}

/** Both of the seed's providers from three answers. */
function databricksDialog() {
  const gw = h("input", { type: "url", id: "dbx-gateway", placeholder: "https://<workspace-id>.ai-gateway.cloud.databricks.com" });
  const ws = h("input", { type: "url", id: "dbx-workspace", placeholder: "https://adb-1234567890123456.7.azuredatabricks.net" });
  const token = h("input", { type: "password", id: "dbx-token", placeholder: "dapi… or env.DATABRICKS_TOKEN", autocomplete: "off" });
  const formError = h("div", { class: "form-error", role: "alert" });
  const body = h("div", {},
    h("p", { class: "muted" }, "Creates databricks-mlflow (Unified API, OpenAI format, models listed through Unity Catalog) and databricks-anthropic (Native API, Anthropic format), keyless, with your token as the Authorization header."),
    h("div", { class: "field" }, h("label", { for: "dbx-gateway" }, "AI Gateway URL"), gw),
    h("div", { class: "field" }, h("label", { for: "dbx-workspace" }, "Workspace URL"), ws),
    h("div", { class: "field" }, h("label", { for: "dbx-token" }, "Personal access token"), token), formError);
  const createBtn = h("button", { class: "btn primary", onclick: submit }, "Create providers");
  const close = openModal("Databricks AI Gateway", body, [h("button", { class: "btn", onclick: () => close() }, "Cancel"), createBtn]);
  async function submit() {
    const trim = (v) => v.trim().replace(/\/+$/, "");
    const g = trim(gw.value), w = trim(ws.value), t = token.value.trim();
    const urlProblem = (v) => { try { const u = new URL(v); return /^https?:$/.test(u.protocol) ? null : "Use an https:// URL."; } catch { return "Enter the full URL, starting with https://"; } };
    const problems = [[gw, urlProblem(g)], [ws, urlProblem(w)], [token, t ? null : "Enter the token (or env.NAME)."]];
    problems.forEach(([el, p]) => setError(el, p));
    if (problems.some(([, p]) => p)) return;
    // env.NAME after "Bearer " is resolved by the server at load.
    const headers = { Authorization: `Bearer ${t}` };
    const mlflow = {
      name: "databricks-mlflow",
      network_config: { base_url: `${g}/mlflow`, extra_headers: headers },
      custom_provider_config: { base_provider_type: "openai", is_key_less: true,
        allowed_requests: { list_models: true, chat_completion: true, chat_completion_stream: true, embedding: true },
        request_path_overrides: { list_models: `${w}/api/2.1/unity-catalog/models` } },
      request_shaping: { drop_fields: ["store", "tools[].function.strict"] },
    };
    const anthropic = {
      name: "databricks-anthropic",
      network_config: { base_url: `${g}/anthropic`, extra_headers: headers },
      custom_provider_config: { base_provider_type: "anthropic", is_key_less: true,
        allowed_requests: { list_models: false, chat_completion: true, chat_completion_stream: true, responses: true, responses_stream: true,
          text_completion: true, text_completion_stream: true, count_tokens: true } },
      request_shaping: { drop_fields: ["tools[].eager_input_streaming"] },
    };
    createBtn.disabled = true;
    try {
      for (const p of [mlflow, anthropic]) await api("POST", "/api/providers", p);
      close(); toast("Databricks providers created"); location.hash = "#/providers/databricks-mlflow"; await render();
    } catch (err) { formError.textContent = err.message; await render(false); }
    finally { createBtn.disabled = false; }
  }
}

// ------------------------------------------------------- edit config panel

function editConfigDialog(p) {
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
    const val = (id) => { const v = el.querySelector("#" + id).value; return v === "" ? undefined : Number(v); };
    const network_config = { ...n, base_url: baseUrl.value.trim(), extra_headers: headers,
      default_request_timeout_in_seconds: val("net-timeout"), stream_idle_timeout_in_seconds: val("net-idle"),
      max_retries: val("net-retries"), retry_backoff_initial: val("net-backoff-initial"), retry_backoff_max: val("net-backoff-max") };
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

function snippetsView(p) {
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
      result.textContent = r.ok
        ? (r.kind === "list_models" ? `Connected: ${r.count} models (${r.latency_ms} ms)\n${(r.models || []).slice(0, 10).join("\n")}` : `Connected: the model answered (${r.latency_ms} ms)`)
        : `Failed${r.status ? ` (HTTP ${r.status})` : ""}: ${r.error}`;
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
      h("dt", {}, "Allowed request types"), h("dd", {}, h("div", { class: "chips" }, META.request_types.map((t) =>
        h("span", { class: "chip" + (allowed.has(t.id) ? "" : " off") }, t.label)))),
      h("dt", {}, "Custom paths"), h("dd", {}, Object.keys(overrides).length
        ? Object.entries(overrides).map(([k, v]) => h("div", {}, `${typeLabel(k)} → `, h("code", {}, v))) : h("span", { class: "muted" }, "none")),
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
  const list = h("ul", {}, PROVIDERS.map((p) => h("li", {}, h("a", { href: `#/providers/${encodeURIComponent(p.name)}`, class: p.name === selected ? "active" : "" },
    p.name, h("span", { class: `badge ${baseFormat(p)}` }, baseFormat(p))))));
  const current = PROVIDERS.find((p) => p.name === selected) || (selected ? null : PROVIDERS[0]);
  return [
    h("div", { class: "page-header" }, h("h1", {}, "Model Providers"), h("div", { class: "dropdown" }, toggle, menu)),
    h("div", { class: "layout" },
      h("nav", { class: "card provider-list", "aria-label": "Configured Providers" }, h("h2", {}, "Configured Providers"),
        PROVIDERS.length ? list : h("p", { class: "empty" }, "No providers yet.")),
      current ? providerDetail(current) : h("div", { class: "card detail empty" },
        selected ? `No provider named ${selected}.` : "Add a provider with Add New Provider: pick Databricks AI Gateway or Custom provider…")),
  ];
}

function playgroundPage() {
  const model = h("input", { type: "text", id: "pg-model", list: "pg-models", placeholder: "provider/model" });
  const datalist = h("datalist", { id: "pg-models" });
  const system = h("textarea", { id: "pg-system", placeholder: "Optional system prompt", style: "min-height:60px" });
  const prompt = h("textarea", { id: "pg-prompt", placeholder: "Say hello…" });
  const answer = h("div", { class: "answer", "data-testid": "answer", "aria-live": "polite" });
  const stats = h("div", { class: "stats" });
  let controller = null;
  const send = h("button", { class: "btn primary", type: "button", onclick: run }, "Send");
  const stop = h("button", { class: "btn", type: "button", disabled: true, onclick: () => controller && controller.abort() }, "Stop");
  fetch("/v1/models").then((r) => r.json()).then((l) => { for (const m of l.data || []) datalist.append(h("option", { value: m.id })); }).catch(() => {});
  prompt.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run(); });
  async function run() {
    const m = model.value.trim();
    if (!m.includes("/")) { setError(model, "Write provider/model, e.g. databricks-mlflow/llama-3"); return; }
    setError(model, null);
    const messages = [];
    if (system.value.trim()) messages.push({ role: "system", content: system.value.trim() });
    messages.push({ role: "user", content: prompt.value.trim() || "Hello!" });
    answer.textContent = ""; answer.classList.remove("error"); stats.textContent = "";
    controller = new AbortController(); send.disabled = true; stop.disabled = false;
    const started = performance.now(); let first = null;
    try {
      const res = await fetch("/v1/chat/completions", { method: "POST", signal: controller.signal, headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ model: m, messages, stream: true, stream_options: { include_usage: true } }) });
      if (!res.ok) { const e = await res.json().catch(() => ({})); throw new Error((e.error && e.error.message) || res.statusText); }
      const reader = res.body.getReader(); const dec = new TextDecoder(); let buf = ""; let usage = null;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const event = buf.slice(0, i); buf = buf.slice(i + 2);
          for (const line of event.split("\n")) {
            if (!line.startsWith("data: ")) continue;
            const data = line.slice(6);
            if (data === "[DONE]") continue;
            const chunk = JSON.parse(data);
            if (chunk.error) throw new Error(chunk.error.message);
            if (chunk.usage) usage = chunk.usage;
            const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
            if (delta && delta.content) { if (first === null) first = performance.now(); answer.textContent += delta.content; }
          }
        }
      }
      const total = Math.round(performance.now() - started);
      stats.textContent = `first token ${first ? Math.round(first - started) : "–"} ms · total ${total} ms` + (usage ? ` · ${usage.prompt_tokens} in / ${usage.completion_tokens} out tokens` : "");
    } catch (err) {
      if (err.name !== "AbortError") { answer.classList.add("error"); answer.textContent = err.message; }
    } finally { send.disabled = false; stop.disabled = true; }
  }
  return [
    h("div", { class: "page-header" }, h("h1", {}, "Playground")),
    h("div", { class: "playground" },
      h("div", { class: "card" },
        h("div", { class: "field" }, h("label", { for: "pg-model" }, "Model"), model, datalist, h("div", { class: "help" }, "provider/model — models listed by providers are suggested.")),
        h("div", { class: "field" }, h("label", { for: "pg-system" }, "System"), system),
        h("div", { class: "field" }, h("label", { for: "pg-prompt" }, "Message"), prompt, h("div", { class: "help" }, "Ctrl+Enter sends.")),
        h("div", { style: "display:flex;gap:8px" }, send, stop)),
      h("div", { class: "card" }, h("h2", { class: "section-title", style: "margin-top:0" }, "Answer"), answer, stats)),
  ];
}

// ------------------------------------------------------------------ router

async function render(reload = true) {
  if (reload) {
    try { PROVIDERS = await api("GET", "/api/providers"); } catch (err) { toast(err.message, true); }
  }
  const main = document.getElementById("main");
  const [, page, arg] = (location.hash || "#/providers").split("/");
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === (page || "providers"));
  main.innerHTML = "";
  if (page === "playground") { main.append(...playgroundPage()); document.title = "Playground · Switchyard"; }
  else { main.append(...providersPage(arg ? decodeURIComponent(arg) : null)); document.title = "Model Providers · Switchyard"; }
}

window.addEventListener("hashchange", () => render(false));
window.addEventListener("DOMContentLoaded", async () => {
  try { META = await api("GET", "/api/meta"); document.getElementById("version").textContent = `v${META.version}`; } catch (err) { toast(err.message, true); }
  if (META.auth_required) {
    const out = h("button", { class: "btn", type: "button", id: "sign-out", onclick: async () => {
      await fetch("/logout", { method: "POST", headers: { "X-Requested-With": "switchyard" } });
      location.href = "/login";
    } }, "Sign out");
    document.querySelector(".sidebar-footer").prepend(out);
  }
  if (!location.hash) location.hash = "#/providers";
  await render();
});
