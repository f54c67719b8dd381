// The Logs page's filters: read from and written to the URL query (so a
// filtered view can be linked), turned into /api/logs parameters, and the
// form that edits them.
import { h } from "./dom.js";
import { api, state } from "./api.js";
import { bounds, rangePicker } from "./timerange.js";

const ANY = "";
/** `[name, label, kind, options]`: the API's filter names, in form order. */
const FIELDS = [
  ["q", "Search", "search", "text in stored request and response bodies"],
  ["provider", "Provider", "provider"],
  ["model", "Model", "text", "as the client asked"],
  ["route", "Route", "text"],
  ["key", "Key id", "key"],
  ["team", "Team", "text"],
  ["user", "User", "text"],
  ["status", "Status", "select", [[ANY, "any"], ["2xx", "2xx"], ["4xx", "4xx"], ["5xx", "5xx"]]],
  ["error_code", "Error code", "text", "e.g. rate_limited"],
  ["stream", "Stream", "select", [[ANY, "either"], ["true", "streamed"], ["false", "not streamed"]]],
  ["request_id", "Request id", "text"],
];
export const FILTER_NAMES = FIELDS.map(([name]) => name);
const RANGES = ["all", "15m", "1h", "24h", "7d", "30d"];

/** The filter state the URL query holds. */
export function readQuery(query) {
  const f = { range: query.get("range") || "all", since: query.get("since") || "", until: query.get("until") || "" };
  for (const name of FILTER_NAMES) f[name] = query.get(name) || "";
  return f;
}

export function toQuery(f) {
  const q = new URLSearchParams();
  if (f.range && f.range !== "all") q.set("range", f.range);
  if (f.range === "custom") { if (f.since) q.set("since", f.since); if (f.until) q.set("until", f.until); }
  for (const name of FILTER_NAMES) if (f[name]) q.set(name, f[name]);
  return q;
}

/** /api/logs parameters; the tail takes the same minus the time range (its rows are new). */
export function apiParams(f, { tail = false } = {}) {
  const p = {};
  for (const name of FILTER_NAMES) if (f[name]) p[name] = f[name];
  if (!tail) {
    const [since, until] = bounds(f);
    if (since) p.since = new Date(since).toISOString();
    if (until) p.until = new Date(until).toISOString();
  }
  return p;
}

export function activeCount(f) {
  return FILTER_NAMES.filter((n) => f[n]).length + (f.range && f.range !== "all" ? 1 : 0);
}

function control(name, kind, options, value) {
  const id = `log-f-${name}`;
  if (kind === "select" || kind === "provider") {
    const opts = kind === "provider" ? [[ANY, "any"], ...state.providers.map((p) => [p.name, p.name])] : options;
    if (kind === "provider" && value && !opts.some(([v]) => v === value)) opts.push([value, value]);
    const el = h("select", { id, name }, opts.map(([v, label]) => h("option", { value: v }, label)));
    el.value = value;
    return el;
  }
  const attrs = { type: kind === "search" ? "search" : "text", id, name, value, autocomplete: "off" };
  if (kind === "key") attrs.list = "log-key-ids";
  if (typeof options === "string") attrs.placeholder = options;
  return h("input", attrs);
}

/** Suggestions for the key filter (ids, with names); only a help, so a failure is ignored. */
function keySuggestions() {
  const list = h("datalist", { id: "log-key-ids" });
  api("GET", "/api/keys").then((r) => { for (const k of r.data || []) list.append(h("option", { value: k.id }, k.name)); }).catch(() => {});
  return list;
}

/** The form; `onapply(filters)` runs on submit, on a select's change and on a range pick. */
export function filterForm(f, onapply) {
  const inputs = {};
  const apply = () => {
    const next = { ...range.read() };
    for (const name of FILTER_NAMES) next[name] = inputs[name].value.trim();
    onapply(next);
  };
  const range = rangePicker("log", f, RANGES, apply);
  const fields = FIELDS.map(([name, label, kind, options]) => {
    inputs[name] = control(name, kind, options, f[name]);
    if (inputs[name].tagName === "SELECT") inputs[name].addEventListener("change", apply);
    return h("div", { class: "field" + (name === "q" ? " wide" : "") }, h("label", { for: `log-f-${name}` }, label), inputs[name]);
  });
  // A new hash re-renders the page, so the form shows the cleared state too.
  const clear = h("button", { class: "btn", type: "button", onclick: () => { location.hash = "#/logs"; } }, "Clear filters");
  return h("form", { class: "filters card", role: "search", "aria-label": "Filter the request log", onsubmit: (e) => { e.preventDefault(); apply(); } },
    h("div", { class: "filter-grid" }, range.node, ...fields),
    h("div", { class: "filter-actions" }, h("button", { class: "btn primary", type: "submit" }, "Apply filters"), clear),
    keySuggestions());
}
