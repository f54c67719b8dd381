// Governance → Virtual Keys: create (the key is shown once, with a copy
// button and usage snippets), list with usage-versus-limit bars, rotate,
// revoke, delete. Keys are `sk-sy-<id>-<secret>`; only the id is ever shown again.
import { h, toast, errorSlot, setError, openModal, showServerErrors } from "../dom.js";
import { api } from "../api.js";
import { page, render } from "../router.js";
import { limitFields, usageBars, usageSnippets, copyButton } from "../governance.js";
import { usageSummary, trafficCell } from "../usage-summary.js";

const STATUS = { active: "ok", disabled: "off", expired: "off", revoked: "danger" };

function keyRow(k, traffic) {
  const acts = k.status === "revoked"
    ? h("div", { class: "row-actions" },
      h("button", { class: "btn danger", type: "button", "aria-label": `Delete key ${k.name}`, onclick: () => deleteDialog(k) }, "Delete"))
    : h("div", { class: "row-actions" },
      h("button", { class: "btn", type: "button", "aria-label": `Edit key ${k.name}`, onclick: () => keyDialog(k) }, "Edit"),
      h("button", { class: "btn", type: "button", "aria-label": `Rotate key ${k.name}`, onclick: () => rotateDialog(k) }, "Rotate"),
      h("button", { class: "btn danger", type: "button", "aria-label": `Revoke key ${k.name}`, onclick: () => revokeDialog(k) }, "Revoke"));
  return h("tr", { "data-key": k.id },
    h("td", {}, h("div", { class: "key-name" }, k.name), h("code", { class: "muted" }, `sk-sy-${k.id}-…`)),
    h("td", {}, h("span", { class: `badge status ${STATUS[k.status] || ""}` }, k.status), k.team ? h("div", { class: "muted" }, `team ${k.team}`) : null),
    h("td", {}, k.models.length ? h("div", { class: "chips" }, k.models.map((m) => h("span", { class: "chip" }, m))) : h("span", { class: "muted" }, "all models")),
    h("td", { class: "usage-cell" }, usageBars(k.usage, k.budget)),
    h("td", {}, trafficCell(traffic, k.id)),
    h("td", {}, acts));
}

function shownOnce(title, created) {
  const model = (created.models || []).find((m) => !m.includes("*"));
  const secret = h("code", { class: "secret", id: "new-key" }, created.key);
  const close = openModal(title, h("div", {},
    h("p", {}, "Copy the key now: this is the only time it is shown. Switchyard keeps only a hash of it."),
    h("div", { class: "secret-row" }, secret, copyButton(created.key, "Copy key")),
    h("h3", { class: "section-title" }, "Use it"),
    usageSnippets(created.key, model)), [h("button", { class: "btn primary", type: "button", id: "key-done", onclick: () => close() }, "Done")], true);
}

function keyDialog(existing) {
  const editing = !!existing;
  const k = existing || { name: "", team: null, models: [], tags: {}, rate_limit: null, budget: null };
  const name = h("input", { type: "text", id: "key-name", value: k.name, placeholder: "ci-pipeline", autocomplete: "off" });
  const team = h("input", { type: "text", id: "key-team", value: k.team || "", placeholder: "optional", autocomplete: "off" });
  const models = h("input", { type: "text", id: "key-models", value: k.models.join(", "), placeholder: "databricks-mlflow/*, claude-sonnet", autocomplete: "off" });
  const expires = h("input", { type: "text", id: "key-expires", value: k.expires_at || "", placeholder: "2027-01-31T00:00:00Z (optional)", autocomplete: "off" });
  const limits = limitFields("key", k.rate_limit, k.budget);
  const formError = h("div", { class: "form-error", role: "alert" });
  const saveBtn = h("button", { class: "btn primary", type: "button", id: "key-save", onclick: save }, editing ? "Save Key" : "Create Key");
  const body = h("form", { onsubmit: (e) => { e.preventDefault(); save(); } },
    h("div", { class: "grid2" },
      h("div", { class: "field" }, h("label", { for: "key-name" }, "Name"), name, errorSlot()),
      h("div", { class: "field" }, h("label", { for: "key-team" }, "Team"), team, errorSlot())),
    h("div", { class: "field" }, h("label", { for: "key-models" }, "Models"), models, errorSlot(),
      h("div", { class: "help" }, "Comma-separated provider/model names, route names or globs; empty allows every model.")),
    h("div", { class: "field" }, h("label", { for: "key-expires" }, "Expires at"), expires, errorSlot()),
    h("h3", { class: "section-title" }, "Limits"), limits.node, formError);
  const close = openModal(editing ? `Edit Key · ${k.name}` : "Create Virtual Key", body,
    [h("button", { class: "btn", type: "button", onclick: () => close() }, "Cancel"), saveBtn], true);

  async function save() {
    for (const el of [name, team, models, expires, ...Object.values(limits.fields)]) setError(el, null);
    formError.textContent = "";
    if (!name.value.trim()) { setError(name, "Enter a name: who or what uses the key."); return; }
    const payload = {
      name: name.value.trim(),
      team: team.value.trim() || null,
      models: models.value.split(",").map((m) => m.trim()).filter(Boolean),
      expires_at: expires.value.trim() || null,
      ...limits.read(),
    };
    saveBtn.disabled = true;
    try {
      if (editing) {
        await api("PUT", `/api/keys/${encodeURIComponent(k.id)}`, payload);
        close();
        toast(`Key ${payload.name} saved`);
      } else {
        const created = await api("POST", "/api/keys", payload);
        close();
        shownOnce(`Key ${created.name} created`, created);
      }
      await render();
    } catch (err) {
      showServerErrors(err, { name, team, models, expires_at: expires, ...limits.fields }, formError);
    } finally { saveBtn.disabled = false; }
  }
}

function rotateDialog(k) {
  const grace = h("input", { type: "number", id: "rotate-grace", min: 0, step: 1, value: 86400 });
  const go = h("button", { class: "btn primary", type: "button", id: "rotate-confirm", onclick: async () => {
    go.disabled = true;
    try {
      const rotated = await api("POST", `/api/keys/${encodeURIComponent(k.id)}/rotate`, { grace_secs: Number(grace.value || 0) });
      close();
      shownOnce(`Key ${k.name} rotated`, rotated);
      await render();
    } catch (err) { close(); toast(err.message, true); }
  } }, "Rotate");
  const close = openModal(`Rotate key ${k.name}?`, h("div", {},
    h("p", {}, "A new secret replaces the current one; the id, limits and usage stay."),
    h("div", { class: "field" }, h("label", { for: "rotate-grace" }, "Old secret keeps working for (seconds)"), grace)),
  [h("button", { class: "btn", type: "button", onclick: () => close() }, "Cancel"), go]);
}

function revokeDialog(k) {
  const go = h("button", { class: "btn danger", type: "button", id: "revoke-confirm", onclick: async () => {
    go.disabled = true;
    try { await api("POST", `/api/keys/${encodeURIComponent(k.id)}/revoke`); close(); toast(`Key ${k.name} revoked`); await render(); }
    catch (err) { close(); toast(err.message, true); }
  } }, "Revoke");
  const close = openModal(`Revoke key ${k.name}?`, h("p", {}, "Every request with this key is refused from now on. This cannot be undone."),
    [h("button", { class: "btn", type: "button", onclick: () => close() }, "Cancel"), go]);
}

function deleteDialog(k) {
  const go = h("button", { class: "btn danger", type: "button", id: "key-delete-confirm", onclick: async () => {
    go.disabled = true;
    try { await api("DELETE", `/api/keys/${encodeURIComponent(k.id)}`); close(); toast(`Key ${k.name} deleted`); await render(); }
    catch (err) { close(); toast(err.message, true); }
  } }, "Delete");
  const close = openModal(`Delete key ${k.name}?`, h("p", {}, "Its record and its limits are removed."),
    [h("button", { class: "btn", type: "button", onclick: () => close() }, "Cancel"), go]);
}

async function keysPage() {
  let keys = [];
  const traffic = usageSummary("key");
  try { keys = (await api("GET", "/api/keys")).data; } catch (err) { toast(err.message, true); }
  const summary = await traffic;
  const add = h("button", { class: "btn primary", type: "button", id: "add-key", onclick: () => keyDialog(null) }, "Create Key");
  const table = h("table", { class: "rows keys", "aria-label": "Virtual keys" },
    h("thead", {}, h("tr", {}, ["Key", "Status", "Models", "Usage vs limits", "Requests · tokens · cost", ""].map((c) => h("th", {}, c)))),
    h("tbody", {}, keys.map((k) => keyRow(k, summary))));
  return [
    h("div", { class: "page-header" }, h("h1", {}, "Virtual Keys"), add),
    h("div", { class: "card detail" },
      h("p", { class: "muted" }, "Give each person, team or pipeline its own key: Switchyard calls the provider with its own credential, and limits, budgets and usage are kept per key."),
      keys.length ? table : h("p", { class: "empty" }, "No keys yet. Create Key makes one with its own limits.")),
  ];
}

page("keys", { title: "Virtual Keys", render: keysPage });
