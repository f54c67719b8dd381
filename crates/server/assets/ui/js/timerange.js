// A time range picker shared by the Logs and Dashboard pages: presets
// relative to now, or a custom since/until. Its state is `range` (a preset
// id or "custom") plus `since`/`until` for custom, as kept in the URL.
import { h } from "./dom.js";

const HOUR = 3600e3;
export const PRESETS = { "15m": ["Last 15 minutes", HOUR / 4], "1h": ["Last hour", HOUR], "24h": ["Last 24 hours", 24 * HOUR],
  "7d": ["Last 7 days", 7 * 24 * HOUR], "30d": ["Last 30 days", 30 * 24 * HOUR] };

/** `<input type=datetime-local>` value ↔ ms since the epoch (local time, as the browser shows it). */
function toLocalInput(ms) {
  if (!ms) return "";
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60e3);
  return d.toISOString().slice(0, 16);
}

/** [since, until] in ms for a range state; null ends are open. */
export function bounds({ range, since, until }, now = Date.now()) {
  if (range === "custom") {
    const s = since ? Date.parse(since) : NaN;
    const u = until ? Date.parse(until) : NaN;
    return [Number.isNaN(s) ? null : s, Number.isNaN(u) ? null : u];
  }
  return PRESETS[range] ? [now - PRESETS[range][1], null] : [null, null];
}

/**
 * The picker. `choices` are preset ids (plus "all" for no bound); `onchange`
 * runs when a preset is picked or both custom ends are valid. `read()` gives
 * the state, `error` the reason a custom range is not applied.
 */
export function rangePicker(prefix, value, choices, onchange) {
  const select = h("select", { id: `${prefix}-range` },
    choices.map((c) => h("option", { value: c }, c === "all" ? "Any time" : PRESETS[c][0])),
    h("option", { value: "custom" }, "Custom…"));
  select.value = value.range || choices[0];
  const since = h("input", { type: "datetime-local", id: `${prefix}-since`, value: toLocalInput(value.since && Date.parse(value.since)) });
  const until = h("input", { type: "datetime-local", id: `${prefix}-until`, value: toLocalInput(value.until && Date.parse(value.until)) });
  const error = h("div", { class: "field-error", role: "alert" });
  const custom = h("div", { class: "inline custom-range", hidden: select.value !== "custom" },
    h("label", { for: `${prefix}-since`, class: "inline-label" }, "From"), since,
    h("label", { for: `${prefix}-until`, class: "inline-label" }, "to"), until);
  const read = () => {
    if (select.value !== "custom") return { range: select.value };
    const iso = (input) => (input.value ? new Date(input.value).toISOString() : "");
    return { range: "custom", since: iso(since), until: iso(until) };
  };
  const changed = () => {
    custom.hidden = select.value !== "custom";
    error.textContent = "";
    if (select.value === "custom") {
      if (!since.value) { error.textContent = "Pick when the range starts."; return; }
      if (until.value && new Date(until.value) <= new Date(since.value)) { error.textContent = "The end must be after the start."; return; }
    }
    onchange(read());
  };
  select.addEventListener("change", changed);
  since.addEventListener("change", changed);
  until.addEventListener("change", changed);
  const node = h("div", { class: "field range-field" }, h("label", { for: `${prefix}-range` }, "Time range"),
    h("div", { class: "inline" }, select, custom), error);
  return { node, read };
}
