// Governance → Limits & Budgets: every policy, its live counters, shadow
// mode, and the reset (the only way spend goes back to zero). Policies a
// key's or team's own limits stand for are edited on that key or team.
import { h, toast, errorSlot, setError, openModal, showServerErrors } from "../dom.js";
import { api } from "../api.js";
import { page, render } from "../router.js";
import { usageBars, slotLabel } from "../governance.js";

const METRICS = ["requests", "total_tokens", "input_tokens", "output_tokens", "concurrent"];
const PERS = ["second", "minute", "hour", "day"];

function summary(p) {
  const parts = (p.limits || []).map((l) => `${l.amount.toLocaleString("en-US")} ${slotLabel(`${l.metric}.${l.per || "now"}`)}`);
  if (p.budget) parts.push(p.budget.max_usd !== undefined ? `$${p.budget.max_usd} / ${p.budget.period}` : `${p.budget.max_tokens.toLocaleString("en-US")} tokens / ${p.budget.period}`);
  return parts.join(" · ");
}

function policyRow(p, state) {
  const acts = h("div", { class: "row-actions" },
    p.owner ? null : h("button", { class: "btn", type: "button", "aria-label": `Edit policy ${p.name}`, onclick: () => policyDialog(p) }, "Edit"),
    h("button", { class: "btn", type: "button", "aria-label": `Reset policy ${p.name}`, onclick: () => resetDialog(p) }, "Reset"),
    p.owner ? null : h("button", { class: "btn danger", type: "button", "aria-label": `Delete policy ${p.name}`, onclick: () => remove(p) }, "Delete"));
  return h("tr", { "data-policy": p.id },
    h("td", {}, h("div", {}, p.name), h("code", { class: "muted" }, p.scope), p.owner ? h("div", { class: "muted" }, `${p.owner}'s own limits`) : null),
    h("td", {}, summary(p)),
    h("td", {}, h("span", { class: "badge" + (p.mode === "shadow" ? " file" : "") }, p.mode), p.enabled ? null : h("span", { class: "badge" }, "disabled")),
    h("td", { class: "usage-cell" }, usageBars(state, p.budget)),
    h("td", {}, acts));
}

function limitRows(initial) {
  const body = h("tbody", {});
  const add = (l = { metric: "requests", per: "minute", amount: "" }) => {
    const metric = h("select", { "aria-label": "Metric" }, METRICS.map((m) => h("option", { value: m }, m)));
    metric.value = l.metric;
    const per = h("select", { "aria-label": "Per" }, PERS.map((x) => h("option", { value: x }, x)));
    per.value = l.per || "minute";
    const amount = h("input", { type: "number", "aria-label": "Amount", min: 1, step: 1, value: l.amount });
    const sync = () => { per.disabled = metric.value === "concurrent"; };
    metric.addEventListener("change", sync);
    sync();
    const tr = h("tr", {}, h("td", {}, metric), h("td", {}, per), h("td", {}, amount),
      h("td", {}, h("button", { type: "button", class: "btn danger", "aria-label": "Remove limit", onclick: () => tr.remove() }, "Remove")));
    tr.inputs = { metric, per, amount };
    body.append(tr);
  };
  initial.forEach(add);
  const table = h("table", { class: "rows", "aria-label": "Limits" }, h("thead", {}, h("tr", {}, ["Metric", "Per", "Amount", ""].map((c) => h("th", {}, c)))), body);
  const read = () => [...body.children].filter((tr) => tr.inputs.amount.value.trim()).map((tr) => {
    const l = { metric: tr.inputs.metric.value, amount: Number(tr.inputs.amount.value) };
    if (l.metric !== "concurrent") l.per = tr.inputs.per.value;
    return l;
  });
  return { table, add, read, rows: () => [...body.children] };
}

function policyDialog(existing) {
  const p = existing || { name: "", scope: "global", limits: [], budget: null, mode: "enforce" };
  const name = h("input", { type: "text", id: "policy-name", value: p.name, placeholder: "org-wide cap", autocomplete: "off" });
  const scope = h("input", { type: "text", id: "policy-scope", value: p.scope, placeholder: "global", autocomplete: "off" });
  const mode = h("select", { id: "policy-mode" }, h("option", { value: "enforce" }, "enforce"), h("option", { value: "shadow" }, "shadow: count, never refuse"));
  mode.value = p.mode;
  const limits = limitRows(p.limits || []);
  const b = p.budget || {};
  const unit = h("select", { id: "policy-budget-unit", "aria-label": "Budget unit" }, h("option", { value: "usd" }, "USD"), h("option", { value: "tokens" }, "tokens"));
  unit.value = b.max_tokens !== undefined ? "tokens" : "usd";
  const max = h("input", { type: "number", id: "policy-budget-max", min: 0, step: "any", value: b.max_usd ?? b.max_tokens ?? "" });
  const period = h("select", { id: "policy-budget-period", "aria-label": "Budget period" }, ["day", "week", "month", "total"].map((x) => h("option", { value: x }, x)));
  period.value = b.period || "month";
  const onExceed = h("select", { id: "policy-budget-action", "aria-label": "When the budget is exceeded" }, h("option", { value: "block" }, "block"), h("option", { value: "alert" }, "alert only"));
  onExceed.value = b.on_exceed || "block";
  const alertAt = h("input", { type: "text", id: "policy-alert-at", value: (b.alert_at || []).join(", "), placeholder: "0.5, 0.8, 1" });
  const webhook = h("input", { type: "url", id: "policy-webhook", value: b.webhook || "", placeholder: "https://hooks.example.com/budget" });
  const formError = h("div", { class: "form-error", role: "alert" });
  const saveBtn = h("button", { class: "btn primary", type: "button", id: "policy-save", onclick: save }, existing ? "Save Policy" : "Add Policy");
  const body = h("form", { onsubmit: (e) => { e.preventDefault(); save(); } },
    h("div", { class: "grid2" },
      h("div", { class: "field" }, h("label", { for: "policy-name" }, "Name"), name, errorSlot()),
      h("div", { class: "field" }, h("label", { for: "policy-mode" }, "Mode"), mode, errorSlot())),
    h("div", { class: "field" }, h("label", { for: "policy-scope" }, "Scope"), scope, errorSlot(),
      h("div", { class: "help" }, "global, team:<name>, key:<id>, user:* (each user), user:<name>, provider:<name>, model:<glob>, route:<name>. Every policy that matches a request applies.")),
    h("h3", { class: "section-title" }, "Rate limits"), limits.table,
    h("button", { type: "button", class: "btn", onclick: () => limits.add() }, "+ Add Limit"),
    h("h3", { class: "section-title" }, "Budget"),
    h("div", { class: "field" }, h("label", { for: "policy-budget-max" }, "Maximum"), h("div", { class: "inline" }, max, unit, h("span", { class: "muted" }, "per"), period, onExceed), errorSlot()),
    h("div", { class: "grid2" },
      h("div", { class: "field" }, h("label", { for: "policy-alert-at" }, "Alert at (fractions)"), alertAt, errorSlot()),
      h("div", { class: "field" }, h("label", { for: "policy-webhook" }, "Alert webhook"), webhook, errorSlot())),
    formError);
  const close = openModal(existing ? `Edit Policy · ${p.name}` : "Add Policy", body,
    [h("button", { class: "btn", type: "button", onclick: () => close() }, "Cancel"), saveBtn], true);
  async function save() {
    for (const el of [name, scope, max, alertAt, webhook, ...limits.rows().map((r) => r.inputs.amount)]) setError(el, null);
    formError.textContent = "";
    const payload = { name: name.value.trim() || undefined, scope: scope.value.trim(), mode: mode.value, limits: limits.read() };
    if (max.value.trim() !== "") {
      payload.budget = { period: period.value, on_exceed: onExceed.value, [unit.value === "usd" ? "max_usd" : "max_tokens"]: Number(max.value) };
      const fractions = alertAt.value.split(",").map((x) => x.trim()).filter(Boolean).map(Number);
      if (fractions.length) payload.budget.alert_at = fractions;
      if (webhook.value.trim()) payload.budget.webhook = webhook.value.trim();
    }
    saveBtn.disabled = true;
    try {
      const saved = existing ? await api("PUT", `/api/policies/${encodeURIComponent(p.id)}`, payload) : await api("POST", "/api/policies", payload);
      close();
      for (const w of saved.warnings || []) toast(w.message);
      toast(`Policy ${saved.name} saved`);
      await render();
    } catch (err) {
      const rows = limits.rows();
      const fields = { name, scope, budget: max, "budget.max_usd": max, "budget.max_tokens": max, "budget.alert_at": alertAt, "budget.webhook": webhook };
      rows.forEach((r, i) => { fields[`limits[${i}]`] = r.inputs.amount; });
      showServerErrors(err, fields, formError);
    } finally { saveBtn.disabled = false; }
  }
}

function resetDialog(p) {
  const go = h("button", { class: "btn danger", type: "button", id: "policy-reset-confirm", onclick: async () => {
    go.disabled = true;
    try { await api("POST", `/api/policies/${encodeURIComponent(p.id)}/reset`); close(); toast(`Usage of ${p.name} reset`); await render(); }
    catch (err) { close(); toast(err.message, true); }
  } }, "Reset usage");
  const close = openModal(`Reset ${p.name}?`, h("p", {}, "Its counters and spend go back to zero; requests in flight still settle. Editing a policy never does this."),
    [h("button", { class: "btn", type: "button", onclick: () => close() }, "Cancel"), go]);
}

async function remove(p) {
  try { await api("DELETE", `/api/policies/${encodeURIComponent(p.id)}`); toast(`Policy ${p.name} deleted`); await render(); }
  catch (err) { toast(err.message, true); }
}

async function policiesPage() {
  let policies = [];
  try { policies = (await api("GET", "/api/policies")).data; } catch (err) { toast(err.message, true); }
  const states = await Promise.all(policies.map((p) => api("GET", `/api/policies/${encodeURIComponent(p.id)}/state`).catch(() => null)));
  const add = h("button", { class: "btn primary", type: "button", id: "add-policy", onclick: () => policyDialog(null) }, "Add Policy");
  const table = h("table", { class: "rows policies", "aria-label": "Policies" },
    h("thead", {}, h("tr", {}, ["Policy", "Limits", "Mode", "Usage", ""].map((c) => h("th", {}, c)))),
    h("tbody", {}, policies.map((p, i) => policyRow(p, states[i]))));
  return [
    h("div", { class: "page-header" }, h("h1", {}, "Limits & Budgets"), add),
    h("div", { class: "card detail" },
      h("p", { class: "muted" }, "Rates are GCRA: 100 per minute is a burst of 100, then one every 0.6 s, with no double burst at a window edge. Token and cost limits reserve each request's estimate up front and settle with what it used. A refused request consumes nothing."),
      policies.length ? table : h("p", { class: "empty" }, "No policies yet. Keys and teams get their own from their limits; add a policy for a global, per-user, provider or model cap.")),
  ];
}

page("policies", { title: "Limits & Budgets", render: policiesPage });
