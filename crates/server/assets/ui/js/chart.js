// A time-series chart: a uPlot canvas with an accessible name and the same
// numbers as a table ("Show as table"), for screen readers and for copying.
import uPlot from "../vendor/uplot/uPlot.esm.js";
import { h } from "./dom.js";

// Distinct on white and for the common colour-vision deficiencies (Okabe–Ito, darkened).
const COLORS = ["#0060a8", "#c25400", "#007a5a", "#b0347c", "#5a4fcf", "#8a6d00", "#2f7f9f", "#6b6b6b"];

/**
 * `spec`: { id, title, describe(model) → text, format(v) → text, bucketLabel(ms) → text }.
 * `model`: { xs: [ms…], series: [{ label, values: [number|null…], dashed?, colorIndex? }] }.
 * Returns { node, update(model), destroy() }; the canvas is made once the
 * node is in the page and has a width.
 */
export function timeChart(spec, model) {
  const capId = `chart-${spec.id}-title`;
  const plot = h("div", { class: "plot", role: "img" });
  const details = h("details", { class: "chart-table" }, h("summary", {}, "Show as table"));
  let current = model;
  let u = null;

  const options = (width) => ({
    width, height: 200,
    series: [{ value: (_u, v) => (v === null ? "—" : spec.bucketLabel(v * 1000)) },
      ...current.series.map((s, i) => ({ label: s.label, stroke: COLORS[(s.colorIndex ?? i) % COLORS.length], width: 2,
        dash: s.dashed ? [6, 4] : undefined, points: { size: 5 }, value: (_u, v) => spec.format(v) }))],
    axes: [{}, { size: 64, values: (_u, vals) => vals.map((v) => spec.format(v, true)) }],
    scales: { x: { time: true } },
    cursor: { drag: { x: false, y: false } },
  });
  const data = () => [current.xs.map((x) => x / 1000), ...current.series.map((s) => s.values)];

  function table() {
    const head = h("tr", {}, h("th", { scope: "col" }, "Bucket"), current.series.map((s) => h("th", { scope: "col" }, s.label)));
    const rows = current.xs.map((x, i) => h("tr", {}, h("th", { scope: "row" }, spec.bucketLabel(x)),
      current.series.map((s) => h("td", { class: "num" }, spec.format(s.values[i])))));
    return h("div", { class: "table-scroll", role: "region", "aria-label": `${spec.title} as a table`, tabindex: "0" },
      h("table", { class: "rows data" }, h("caption", {}, spec.title), h("thead", {}, head), h("tbody", {}, rows)));
  }

  function describe() {
    plot.setAttribute("aria-label", `${spec.title}: ${spec.describe(current)}. The numbers are in the table below.`);
    details.replaceChildren(details.firstChild, table());
  }

  const labels = (m) => m.series.map((s) => s.label).join("\n");
  function draw() {
    const width = plot.clientWidth;
    if (!width) return;
    if (u) u.destroy();
    u = new uPlot(options(width), data(), plot);
  }
  const resize = new ResizeObserver(() => {
    if (!plot.isConnected) return;
    if (!u) draw();
    else if (plot.clientWidth && plot.clientWidth !== u.width) u.setSize({ width: plot.clientWidth, height: 200 });
  });
  resize.observe(plot);
  describe();

  return {
    node: h("figure", { class: "chart card", "data-chart": spec.id, "aria-labelledby": capId },
      h("figcaption", { id: capId }, spec.title), plot, details),
    update(next) {
      const same = u && labels(next) === labels(current);
      current = next;
      describe();
      if (same) u.setData(data());
      else draw();
    },
    destroy() { resize.disconnect(); if (u) u.destroy(); u = null; },
  };
}
