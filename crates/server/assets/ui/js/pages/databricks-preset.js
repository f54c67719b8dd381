// The Databricks AI Gateway preset: the seed's providers from a few answers.
// Two layouts: the AI Gateway host (<id>.ai-gateway.cloud.databricks.com, models
// listed through Unity Catalog on the workspace) or the Unity AI Gateway on the
// workspace host itself (/ai-gateway/…, models listed as model services), which
// also serves OpenAI Responses natively for Codex.

import { h, toast, errorSlot, setError, openModal } from "../dom.js";
import { api } from "../api.js";
import { render } from "../router.js";
import { authChoice } from "../auth-fields.js";

const UNIFIED_TYPES = { list_models: true, chat_completion: true, chat_completion_stream: true, embedding: true };
const NATIVE_TYPES = { chat_completion: true, chat_completion_stream: true, responses: true, responses_stream: true,
  text_completion: true, text_completion_stream: true, count_tokens: true };

/** The providers one answer set creates; `credentials` is `{oauth}` or `{extra_headers}`. */
export function presetProviders(layout, gateway, workspace, credentials, ucQuery) {
  const keyless = (base, allowed, overrides) => ({ base_provider_type: base, is_key_less: true, allowed_requests: allowed,
    ...(overrides ? { request_path_overrides: overrides } : {}) });
  const mlflowShaping = { drop_fields: ["store", "tools[].function.strict"] };
  const anthropicShaping = { drop_fields: ["tools[].eager_input_streaming"] };
  if (layout === "workspace") {
    const base = `${workspace}/ai-gateway`;
    return [
      { name: "databricks-mlflow", network_config: { base_url: `${base}/mlflow`, ...credentials },
        custom_provider_config: keyless("openai", UNIFIED_TYPES,
          { list_models: `${workspace}/api/2.1/unity-catalog/model-services?page_size=100` }),
        request_shaping: mlflowShaping },
      { name: "databricks-anthropic", network_config: { base_url: `${base}/anthropic`, ...credentials },
        custom_provider_config: keyless("anthropic", { ...NATIVE_TYPES, list_models: true }), request_shaping: anthropicShaping },
      // Responses natively: Codex's requests pass through rather than being emulated over chat.
      { name: "databricks-codex", network_config: { base_url: `${base}/codex`, ...credentials },
        custom_provider_config: keyless("openai", { responses: true, responses_stream: true }) },
    ];
  }
  const q = ucQuery.toString();
  return [
    { name: "databricks-mlflow", network_config: { base_url: `${gateway}/mlflow`, ...credentials },
      custom_provider_config: keyless("openai", UNIFIED_TYPES,
        { list_models: `${workspace}/api/2.1/unity-catalog/models${q ? "?" + q : ""}` }),
      request_shaping: mlflowShaping },
    { name: "databricks-anthropic", network_config: { base_url: `${gateway}/anthropic`, ...credentials },
      custom_provider_config: keyless("anthropic", { ...NATIVE_TYPES, list_models: false }), request_shaping: anthropicShaping },
  ];
}

export function databricksDialog() {
  const radio = (value, label, checked) => {
    const input = h("input", { type: "radio", name: "dbx-layout", id: `dbx-layout-${value}`, value });
    input.checked = checked;
    input.addEventListener("change", () => sync());
    return h("label", { class: "radio", for: input.id }, input, " ", label);
  };
  const onGateway = radio("gateway", "AI Gateway host", true);
  const onWorkspace = radio("workspace", "Workspace host (Unity AI Gateway)", false);
  const layout = h("fieldset", { class: "auth-choice" }, h("legend", {}, "Layout"), h("div", { class: "row" }, onGateway, " ", onWorkspace));
  const gw = h("input", { type: "url", id: "dbx-gateway", placeholder: "https://<workspace-id>.ai-gateway.cloud.databricks.com" });
  const gwField = h("div", { class: "field" }, h("label", { for: "dbx-gateway" }, "AI Gateway URL"), gw, errorSlot());
  const ws = h("input", { type: "url", id: "dbx-workspace", placeholder: "https://adb-1234567890123456.7.azuredatabricks.net" });
  const token = h("input", { type: "password", id: "dbx-token", placeholder: "dapi… or env.DATABRICKS_TOKEN", autocomplete: "off" });
  const tokenField = h("div", { class: "field" }, h("label", { for: "dbx-token" }, "Token"), token, errorSlot(),
    h("div", { class: "help" }, "Sent as Authorization: Bearer on every request."));
  const auth = authChoice("dbx", null, (oauth) => { tokenField.hidden = oauth; });
  const catalog = h("input", { type: "text", id: "dbx-catalog", placeholder: "all catalogs", autocomplete: "off" });
  const schema = h("input", { type: "text", id: "dbx-schema", placeholder: "all schemas", autocomplete: "off" });
  const filters = h("div", { class: "grid2" },
    h("div", { class: "field" }, h("label", { for: "dbx-catalog" }, "Catalog (optional)"), catalog, errorSlot()),
    h("div", { class: "field" }, h("label", { for: "dbx-schema" }, "Schema (optional)"), schema, errorSlot(),
      h("div", { class: "help" }, "Lists only the Unity Catalog models in this catalog (and schema).")));
  const what = h("p", { class: "muted" });
  const formError = h("div", { class: "form-error", role: "alert" });
  const isWorkspace = () => onWorkspace.querySelector("input").checked;
  function sync() {
    gwField.hidden = isWorkspace();
    filters.hidden = isWorkspace();
    what.textContent = isWorkspace()
      ? "Creates databricks-mlflow (chat, every model family, at /ai-gateway/mlflow/v1; models listed as Unity AI Gateway model services), databricks-anthropic (/ai-gateway/anthropic) and databricks-codex (OpenAI Responses, natively, for Codex) — all on the workspace host, keyless, authenticated with a personal access token or a service principal."
      : "Creates databricks-mlflow (Unified API, OpenAI format, models listed through Unity Catalog) and databricks-anthropic (Native API, Anthropic format), keyless, authenticated with a personal access token or a service principal.";
  }
  const body = h("div", {}, what, layout, gwField,
    h("div", { class: "field" }, h("label", { for: "dbx-workspace" }, "Workspace URL"), ws, errorSlot()),
    auth.el, tokenField, filters, formError);
  sync();
  const createBtn = h("button", { class: "btn primary", onclick: submit }, "Create providers");
  const close = openModal("Databricks AI Gateway", body, [h("button", { class: "btn", onclick: () => close() }, "Cancel"), createBtn]);
  async function submit() {
    const trim = (v) => v.trim().replace(/\/+$/, "");
    const g = trim(gw.value), w = trim(ws.value), t = token.value.trim();
    const urlProblem = (v) => { try { const u = new URL(v); return /^https?:$/.test(u.protocol) ? null : "Use an https:// URL."; } catch { return "Enter the full URL, starting with https://"; } };
    const problems = [[ws, urlProblem(w)]];
    if (!isWorkspace()) problems.push([gw, urlProblem(g)]);
    if (!auth.isOAuth()) problems.push([token, t ? null : "Enter the token (or env.NAME)."]);
    const cat = isWorkspace() ? "" : catalog.value.trim(), sch = isWorkspace() ? "" : schema.value.trim();
    problems.push([schema, sch && !cat ? "Unity Catalog filters by schema only within a catalog: enter the catalog too." : null]);
    const ucQuery = new URLSearchParams();
    if (cat) ucQuery.set("catalog_name", cat);
    if (sch) ucQuery.set("schema_name", sch);
    problems.forEach(([el, p]) => setError(el, p));
    const oauth = auth.isOAuth() ? auth.value(urlProblem(w) ? "" : `${w}/oidc/v1/token`) : null;
    if (problems.some(([, p]) => p) || (auth.isOAuth() && !oauth)) return;
    // env.NAME after "Bearer " is resolved by the server at load.
    const credentials = oauth ? { oauth } : { extra_headers: { Authorization: `Bearer ${t}` } };
    createBtn.disabled = true;
    try {
      for (const p of presetProviders(isWorkspace() ? "workspace" : "gateway", g, w, credentials, ucQuery)) {
        await api("POST", "/api/providers", p);
      }
      close(); toast("Databricks providers created"); location.hash = "#/providers/databricks-mlflow"; await render();
    } catch (err) { formError.textContent = err.message; await render(false); }
    finally { createBtn.disabled = false; }
  }
}
