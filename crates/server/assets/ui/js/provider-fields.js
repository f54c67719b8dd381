// What a provider's JSON means to the forms: base format, allowed request
// types and their editor, defaults per base format, base URL checks.

import { h, errorSlot, setError, switchEl } from "./dom.js";
import { state } from "./api.js";

export function typeLabel(id) {
  const t = state.meta.request_types.find((t) => t.id === id);
  return t ? t.label : id;
}

export function baseFormat(p) {
  return (p.custom_provider_config && p.custom_provider_config.base_provider_type) || p.name;
}

export function isKeyless(p) {
  return !!(p.custom_provider_config && p.custom_provider_config.is_key_less);
}

export function allowedSet(p) {
  const flags = p.custom_provider_config && p.custom_provider_config.allowed_requests;
  if (!flags) return new Set(state.meta.request_types.map((t) => t.id));
  return new Set(Object.entries(flags).filter(([, on]) => on).map(([k]) => k));
}

export function isPathOrUrl(v) {
  if (v.startsWith("/")) return true;
  try { const u = new URL(v); return (u.protocol === "http:" || u.protocol === "https:") && !!u.host; } catch { return false; }
}

/** Client-side checks of a base URL: what is wrong and how to fix it. */
export function baseUrlProblem(v) {
  if (!v) return "Enter the base URL, e.g. https://<workspace-id>.ai-gateway.cloud.databricks.com/mlflow";
  let u;
  try { u = new URL(v); } catch { return "This is not a URL. Start with https:// and the host name."; }
  if (u.protocol !== "http:" && u.protocol !== "https:") return "Use an http:// or https:// URL.";
  if (u.search || u.hash) return "Remove the query string; put query parameters in a per-request-type custom URL instead.";
  if (/\/v1\/?$/.test(u.pathname)) return "Remove the trailing /v1: Switchyard appends /v1/chat/completions and the other standard paths itself.";
  return null;
}

// ------------------------------------------------------- request types editor

/** Toggles per request type, each with a gear opening a "Custom Path or URL" popover. */
export function requestTypesEditor(allowed, overrides) {
  const picked = { allowed: new Set(allowed), overrides: { ...overrides } };
  const wrap = h("div", { class: "types", role: "group", "aria-label": "Allowed Request Types" });
  for (const t of state.meta.request_types) {
    const overrideText = h("div", { class: "override", "data-testid": `override-${t.id}` }, picked.overrides[t.id] || "");
    const row = h("div", { class: "type-row", "data-type": t.id });
    const gear = h("button", { type: "button", class: "btn icon", "aria-label": `Custom path or URL for ${t.label}`, title: "Custom Path or URL",
      onclick: () => togglePopover() }, "⚙");
    let pop = null;
    const togglePopover = () => {
      if (pop) { pop.remove(); pop = null; return; }
      const input = h("input", { type: "text", id: `override-input-${t.id}`, value: picked.overrides[t.id] || "",
        placeholder: "/custom/path or https://other-host/full/url ({model}: the model name)" });
      const apply = () => {
        const v = input.value.trim();
        if (v && !isPathOrUrl(v)) { setError(input, "Enter a path starting with / (appended to the base URL) or a full http(s):// URL."); return; }
        setError(input, null);
        if (v) picked.overrides[t.id] = v; else delete picked.overrides[t.id];
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
      h("div", {}, switchEl(`type-${t.id}`, t.label, picked.allowed.has(t.id), (e) => { if (e.target.checked) picked.allowed.add(t.id); else picked.allowed.delete(t.id); }), overrideText),
      gear);
    wrap.append(row);
  }
  const setAllowed = (ids) => {
    picked.allowed = new Set(ids);
    for (const t of state.meta.request_types) {
      const box = wrap.querySelector(`#type-${t.id}`);
      if (box) box.checked = picked.allowed.has(t.id);
    }
  };
  return { el: wrap, state: picked, setAllowed };
}

/** What a new provider of each base format allows by default: the operations its
 * wire format has. Responses and completions on an OpenAI-compatible upstream are
 * then emulated via chat, which works even where the upstream has no such endpoint. */
export const DEFAULT_TYPES = {
  openai: ["list_models", "chat_completion", "chat_completion_stream", "embedding"],
  anthropic: ["list_models", "chat_completion", "chat_completion_stream", "responses", "responses_stream",
    "text_completion", "text_completion_stream", "count_tokens"],
};

/** Fields Databricks AI Gateway rejects, per base format (protocols.md §6.3). */
export const DATABRICKS_DROPS = { openai: "store, tools[].function.strict", anthropic: "tools[].eager_input_streaming" };

export function looksLikeDatabricks(url) {
  return /databricks\.(com|net)|azuredatabricks\.net|gcp\.databricks/.test(url);
}

export function parseList(v) {
  return v.split(/[,\n]/).map((x) => x.trim()).filter(Boolean);
}

export function customConfigFrom(base, keyless, editor) {
  const all = state.meta.request_types.map((t) => t.id);
  const allowed_requests = {};
  for (const id of all) allowed_requests[id] = editor.state.allowed.has(id);
  return { base_provider_type: base, is_key_less: keyless, allowed_requests, request_path_overrides: { ...editor.state.overrides } };
}
