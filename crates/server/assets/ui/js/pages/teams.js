// Governance → Teams: a team's keys share its model list, tags and limits.
import { h, toast, errorSlot, setError, openModal, showServerErrors } from "../dom.js";
import { api } from "../api.js";
import { page, render } from "../router.js";
import { limitFields, usageBars } from "../governance.js";
import { usageSummary, trafficCell } from "../usage-summary.js";

function teamRow(t, traffic) {
  return h("tr", { "data-team": t.name },
    h("td", {}, h("code", {}, t.name)),
    h("td", {}, t.models.length ? h("div", { class: "chips" }, t.models.map((m) => h("span", { class: "chip" }, m))) : h("span", { class: "muted" }, "all models")),
    h("td", {}, String(t.keys.length)),
    h("td", { class: "usage-cell" }, usageBars(t.usage, t.budget)),
    h("td", {}, trafficCell(traffic, t.name)),
    h("td", {}, h("div", { class: "row-actions" },
      h("button", { class: "btn", type: "button", "aria-label": `Edit team ${t.name}`, onclick: () => teamDialog(t) }, "Edit"),
      h("button", { class: "btn danger", type: "button", "aria-label": `Delete team ${t.name}`, onclick: () => deleteDialog(t) }, "Delete"))));
}

function teamDialog(existing) {
  const editing = !!existing;
  const t = existing || { name: "", models: [], rate_limit: null, budget: null };
  const name = h("input", { type: "text", id: "team-name", value: t.name, placeholder: "ml-platform", autocomplete: "off", disabled: editing });
  const models = h("input", { type: "text", id: "team-models", value: t.models.join(", "), placeholder: "databricks-anthropic/*", autocomplete: "off" });
  const limits = limitFields("team", t.rate_limit, t.budget);
  const formError = h("div", { class: "form-error", role: "alert" });
  const saveBtn = h("button", { class: "btn primary", type: "button", id: "team-save", onclick: save }, editing ? "Save Team" : "Add Team");
  const body = h("form", { onsubmit: (e) => { e.preventDefault(); save(); } },
    h("div", { class: "field" }, h("label", { for: "team-name" }, "Name"), name, errorSlot()),
    h("div", { class: "field" }, h("label", { for: "team-models" }, "Models"), models, errorSlot(),
      h("div", { class: "help" }, "Every key of the team is limited to these too; empty allows every model.")),
    h("h3", { class: "section-title" }, "Limits shared by the team's keys"), limits.node, formError);
  const close = openModal(editing ? `Edit Team · ${t.name}` : "Add Team", body,
    [h("button", { class: "btn", type: "button", onclick: () => close() }, "Cancel"), saveBtn], true);
  async function save() {
    for (const el of [name, models, ...Object.values(limits.fields)]) setError(el, null);
    formError.textContent = "";
    const payload = { models: models.value.split(",").map((m) => m.trim()).filter(Boolean), ...limits.read() };
    saveBtn.disabled = true;
    try {
      if (editing) await api("PUT", `/api/teams/${encodeURIComponent(t.name)}`, payload);
      else await api("POST", "/api/teams", { name: name.value.trim(), ...payload });
      close();
      toast(`Team ${name.value.trim()} saved`);
      await render();
    } catch (err) { showServerErrors(err, { name, models, ...limits.fields }, formError); }
    finally { saveBtn.disabled = false; }
  }
}

function deleteDialog(t) {
  const go = h("button", { class: "btn danger", type: "button", id: "team-delete-confirm", onclick: async () => {
    go.disabled = true;
    try { await api("DELETE", `/api/teams/${encodeURIComponent(t.name)}`); close(); toast(`Team ${t.name} deleted`); await render(); }
    catch (err) { close(); toast(err.message, true); }
  } }, "Delete");
  const close = openModal(`Delete team ${t.name}?`, h("p", {}, "A team with keys cannot be deleted: move or delete its keys first."),
    [h("button", { class: "btn", type: "button", onclick: () => close() }, "Cancel"), go]);
}

async function teamsPage() {
  let teams = [];
  const traffic = usageSummary("team");
  try { teams = (await api("GET", "/api/teams")).data; } catch (err) { toast(err.message, true); }
  const summary = await traffic;
  const add = h("button", { class: "btn primary", type: "button", id: "add-team", onclick: () => teamDialog(null) }, "Add Team");
  const table = h("table", { class: "rows teams", "aria-label": "Teams" },
    h("thead", {}, h("tr", {}, ["Team", "Models", "Keys", "Usage vs limits", "Requests · tokens · cost", ""].map((c) => h("th", {}, c)))),
    h("tbody", {}, teams.map((t) => teamRow(t, summary))));
  return [
    h("div", { class: "page-header" }, h("h1", {}, "Teams"), add),
    h("div", { class: "card detail" }, teams.length ? table : h("p", { class: "empty" }, "No teams yet. A team's limits and budget are shared by all its keys.")),
  ];
}

page("teams", { title: "Teams", render: teamsPage });
