// The Add New Provider dialogs: custom provider, OpenAI/Anthropic built-ins,
// and the Databricks AI Gateway preset.

import { h, toast, errorSlot, setError, switchEl, openModal, showServerErrors } from "../dom.js";
import { api, state } from "../api.js";
import { render } from "../router.js";
import { baseUrlProblem, requestTypesEditor, DEFAULT_TYPES, DATABRICKS_DROPS, looksLikeDatabricks, parseList, customConfigFrom } from "../provider-fields.js";

function nameProblem(v, existing) {
  if (!v) return "Enter a name; clients will write <name>/<model>.";
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(v)) return "Use 1-64 letters, digits, '-', '_' or '.' (no '/' or spaces).";
  if (existing.includes(v)) return `A provider named "${v}" already exists; pick another name.`;
  return null;
}

export function addCustomProviderDialog() {
  const names = state.providers.map((p) => p.name);
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

export function addBuiltInDialog(kind) {
  const label = kind === "openai" ? "OpenAI" : "Anthropic";
  const names = state.providers.map((p) => p.name);
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

