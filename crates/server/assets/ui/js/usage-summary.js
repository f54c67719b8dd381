// Requests, tokens and cost over the last 24 h and 30 d per key or per team,
// for the Virtual Keys and Teams tables: two /api/usage calls grouped by key
// (or team) for the whole table, not two per row.
import { h } from "./dom.js";
import { api, withQuery } from "./api.js";
import * as fmt from "./format.js";

const PERIODS = [["24 h", 24 * 3600e3, "hour"], ["30 d", 30 * 24 * 3600e3, "day"]];

function totalsByGroup(answer) {
  const by = new Map();
  for (const r of answer.data || []) {
    const t = by.get(r.group) || { requests: 0, tokens: 0, cost: 0 };
    t.requests += r.requests;
    t.tokens += (r.input_tokens || 0) + (r.output_tokens || 0);
    t.cost += r.cost_usd || 0;
    by.set(r.group, t);
  }
  return by;
}

/** `{ periods: [[label, Map(group → totals)]…] }`, or `{ error }` when usage cannot be read. */
export async function usageSummary(groupBy) {
  const now = Date.now();
  try {
    const answers = await Promise.all(PERIODS.map(([, span, bucket]) =>
      api("GET", withQuery("/api/usage", { group_by: groupBy, bucket, since: new Date(now - span).toISOString(), until: new Date(now).toISOString() }))));
    return { periods: PERIODS.map(([label], i) => [label, totalsByGroup(answers[i])]) };
  } catch (err) {
    return { error: err.message };
  }
}

/** One row's cell; `group` is the row's value in /api/usage (a key's id, a team's name). */
export function trafficCell(summary, group) {
  if (summary.error) return h("span", { class: "muted small", title: summary.error }, `usage unavailable: ${summary.error}`);
  return h("div", { class: "traffic", "data-testid": "traffic" }, summary.periods.map(([label, by]) => {
    const t = by.get(group) || { requests: 0, tokens: 0, cost: 0 };
    return h("div", { "data-period": label }, h("span", { class: "period" }, label),
      `${fmt.int(t.requests)} req · ${fmt.compact(t.tokens)} tok · ${fmt.usd(t.cost)}`);
  }));
}
