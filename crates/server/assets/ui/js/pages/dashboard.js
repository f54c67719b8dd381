// Observe → Dashboard: traffic, errors, tokens, cost and latency over time
// from the hourly rollups (GET /api/usage), grouped by provider, model, key or
// team, refreshed every 30 s while the page is visible. The range and the
// grouping are in the URL query.
import { h } from "../dom.js";
import { api, withQuery } from "../api.js";
import { page, onLeave, setHashQuery } from "../router.js";
import * as fmt from "../format.js";
import { bounds, rangePicker } from "../timerange.js";
import { timeChart } from "../chart.js";
import { HOUR, DAY, MAX_GROUPS, bucketFor, bucketStarts, rankGroups, seriesModel } from "../usage-series.js";

const REFRESH_MS = 30e3;
const GROUPS = [["", "Nothing (all requests)"], ["provider", "Provider"], ["model", "Model"], ["key", "Key"], ["team", "Team"]];
const RANGES = ["1h", "24h", "7d", "30d"];
const sum = true;
const CHARTS = [
  { id: "requests", title: "Requests", measures: [{ field: "requests", sum }], format: (v, axis) => (axis ? fmt.compact(v) : fmt.int(v)) },
  { id: "errors", title: "Errors", measures: [{ field: "errors", sum }], format: (v, axis) => (axis ? fmt.compact(v) : fmt.int(v)) },
  { id: "tokens", title: "Tokens (input, output dashed)", measures: [{ field: "input_tokens", suffix: "input", sum }, { field: "output_tokens", suffix: "output", dashed: true, sum }],
    format: (v, axis) => (axis ? fmt.compact(v) : fmt.int(v)) },
  { id: "cost", title: "Cost (USD)", measures: [{ field: "cost_usd", sum }], format: (v) => (v === null ? "—" : fmt.usd(v)) },
  { id: "latency", title: "Latency (p50, p95 dashed)", measures: [{ field: "p50_ms", suffix: "p50" }, { field: "p95_ms", suffix: "p95", dashed: true }], format: (v) => fmt.ms(v) },
  { id: "ttft", title: "Time to first token (p50, p95 dashed)", measures: [{ field: "ttft_p50_ms", suffix: "p50" }, { field: "ttft_p95_ms", suffix: "p95", dashed: true }], format: (v) => fmt.ms(v) },
];

function readQuery(query) {
  return { range: query.get("range") || "24h", since: query.get("since") || "", until: query.get("until") || "", group: query.get("group") || "" };
}

function toQuery(v) {
  const q = new URLSearchParams();
  if (v.range !== "24h") q.set("range", v.range);
  if (v.range === "custom") { if (v.since) q.set("since", v.since); if (v.until) q.set("until", v.until); }
  if (v.group) q.set("group", v.group);
  return q;
}

function tile(label, value, note) {
  return h("div", { class: "tile card", "data-tile": label }, h("div", { class: "tile-label" }, label), h("div", { class: "tile-value" }, value),
    note ? h("div", { class: "tile-note muted" }, note) : null);
}

function tiles(t) {
  const rate = t.requests ? ` (${((100 * t.errors) / t.requests).toFixed(1)}%)` : "";
  return [tile("Requests", fmt.int(t.requests)), tile("Errors", fmt.int(t.errors), rate ? `${rate.trim()} of requests` : null),
    tile("Input tokens", fmt.int(t.input_tokens)), tile("Output tokens", fmt.int(t.output_tokens)), tile("Cost", fmt.usd(t.cost_usd ?? 0),
      t.unpriced_requests ? `at least: ${fmt.int(t.unpriced_requests)} requests had no price` : null),
    tile("Latency p50 / p95", `${fmt.ms(t.p50_ms)} / ${fmt.ms(t.p95_ms)}`),
    tile("TTFT p50 / p95", `${fmt.ms(t.ttft_p50_ms)} / ${fmt.ms(t.ttft_p95_ms)}`)];
}

/** What a chart's accessible name says besides its title: the span and each series' total or peak. */
function describer(chart, rangeText) {
  return (model) => {
    if (!model.series.length) return `no requests ${rangeText}`;
    const parts = model.series.map((s) => {
      const vals = s.values.filter((v) => v !== null);
      if (!vals.length) return `${s.label}: no data`;
      return chart.measures[0].sum ? `${s.label}: ${chart.format(vals.reduce((a, b) => a + b, 0))} in total`
        : `${s.label}: up to ${chart.format(Math.max(...vals))}`;
    });
    return `${rangeText}, ${parts.join("; ")}`;
  };
}

async function dashboardPage(_arg, query) {
  const view = readQuery(query);
  const problem = h("div", { class: "form-error", role: "alert", "data-testid": "dashboard-error" });
  const tileBox = h("div", { class: "tiles", "aria-label": "Totals", role: "group" });
  const note = h("p", { class: "muted" });
  const grid = h("div", { class: "charts" });
  const updated = h("span", { class: "muted small", "data-testid": "updated" });
  const csv = h("a", { class: "btn", href: "/api/usage?format=csv", download: "switchyard-usage.csv" }, "Download CSV");
  let charts = [];
  let bucket = null;
  let lastLoad = 0;

  async function load() {
    lastLoad = Date.now();
    const now = Date.now();
    let [since, until] = bounds(view, now);
    until = until || now;
    since = since || until - DAY;
    const b = bucketFor(since, until);
    let answer;
    const params = { group_by: view.group, bucket: b, since: new Date(since).toISOString(), until: new Date(until).toISOString() };
    csv.href = withQuery("/api/usage", { ...params, format: "csv" });
    try {
      answer = await api("GET", withQuery("/api/usage", params));
      problem.textContent = "";
    } catch (err) {
      problem.textContent = `Could not load usage: ${err.message}`;
      return;
    }
    tileBox.replaceChildren(...tiles(answer.totals || {}));
    const step = b === "hour" ? HOUR : DAY;
    const xs = bucketStarts(since, until, step, answer.data.map((r) => r.bucket_start_ms));
    const ranked = rankGroups(answer.data);
    const groups = ranked.length ? ranked.slice(0, MAX_GROUPS) : [null];
    note.textContent = ranked.length > MAX_GROUPS ? `The ${MAX_GROUPS} busiest of ${ranked.length} groups are drawn.` : "";
    // Grouped by key, a row carries the key's name as `label`.
    const labels = new Map(answer.data.filter((r) => r.label).map((r) => [r.group, r.label]));
    const names = (g) => (g === null ? (view.group ? "(none)" : "All requests") : labels.get(g) || String(g));
    const label = (ms) => (b === "hour" ? fmt.time(ms).slice(0, 16) : fmt.time(ms).slice(0, 10));
    const rangeText = `${b === "hour" ? "per hour" : "per day"}, ${label(since)} to ${label(until)}`;
    // Rebuilt when the bucket size changes (the table's labels do); otherwise updated in place.
    if (bucket !== b || !charts.length) {
      for (const c of charts) c.destroy();
      charts = CHARTS.map((c) => timeChart({ id: c.id, title: c.title, format: c.format, bucketLabel: label, describe: describer(c, rangeText) },
        seriesModel(answer, xs, groups, c.measures, names)));
      grid.replaceChildren(...charts.map((c) => c.node));
      bucket = b;
    } else {
      charts.forEach((c, i) => c.update(seriesModel(answer, xs, groups, CHARTS[i].measures, names)));
    }
    updated.textContent = `Updated ${fmt.time(Date.now()).slice(11)}`;
  }

  const reset = () => { for (const c of charts) c.destroy(); charts = []; };
  const range = rangePicker("dash", view, RANGES, (next) => {
    Object.assign(view, { since: "", until: "" }, next);
    setHashQuery(toQuery(view));
    reset();
    load();
  });
  const group = h("select", { id: "dash-group", onchange: () => { view.group = group.value; setHashQuery(toQuery(view)); reset(); load(); } },
    GROUPS.map(([v, l]) => h("option", { value: v }, l)));
  group.value = view.group;

  // Refresh while visible; a tab coming back after a while refreshes at once.
  const timer = setInterval(() => { if (!document.hidden) load(); }, REFRESH_MS);
  const onVisible = () => { if (!document.hidden && Date.now() - lastLoad >= REFRESH_MS) load(); };
  document.addEventListener("visibilitychange", onVisible);
  onLeave(() => { clearInterval(timer); document.removeEventListener("visibilitychange", onVisible); reset(); });

  await load();
  return [
    h("div", { class: "page-header" }, h("h1", {}, "Dashboard"), h("div", { class: "inline" }, updated, csv)),
    h("div", { class: "card filters dash-controls" }, h("div", { class: "filter-grid" }, range.node,
      h("div", { class: "field" }, h("label", { for: "dash-group" }, "Group by"), group))),
    problem, tileBox, note, grid,
  ];
}

page("dashboard", { title: "Dashboard", render: dashboardPage });
