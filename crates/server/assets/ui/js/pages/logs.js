// Observe → Logs: the request log, newest first, filtered through the URL
// query (a filtered view is a link), paged with "Load more", a live tail of
// new requests over server-sent events, and one request's detail panel.
import { h, switchEl } from "../dom.js";
import { api, subscribe, withQuery } from "../api.js";
import { page, onLeave, setHashQuery } from "../router.js";
import * as fmt from "../format.js";
import { readQuery, toQuery, apiParams, filterForm, activeCount } from "../log-filters.js";
import { openLogDetail } from "../log-detail.js";

/** Rows kept in the table while tailing: the oldest go past this. */
export const TAIL_CAP = 500;
const COLUMNS = ["Time", "Status", "Inbound", "Provider / model", "Route", "Key", "Team", "User", "Tokens in / out", "Cost", "Duration", "TTFT"];

function statusBadge(row) {
  const cls = row.status >= 500 || row.end === "broke" ? "danger" : row.status >= 400 ? "warn" : row.end === "completed" ? "ok" : "off";
  return h("span", { class: `badge status ${cls}` }, row.end === "completed" ? String(row.status) : `${row.status} · ${row.end}`);
}

function logRow(row, live) {
  const dash = (v) => v || h("span", { class: "muted" }, "—");
  const tokens = `${row.usage_estimated ? "~" : ""}${fmt.int(row.input_tokens)} / ${fmt.int(row.output_tokens)}`;
  const open = h("button", { class: "link", type: "button", "aria-haspopup": "dialog", title: "Show this request's details",
    "aria-label": `${fmt.time(row.started_at_ms)}, details of request ${row.request_id}`, onclick: () => openLogDetail(row.request_id) },
  fmt.time(row.started_at_ms));
  return h("tr", { "data-request-id": row.request_id, "data-status": fmt.statusClass(row.status), class: live ? "live-new" : null },
    h("td", { class: "nowrap" }, open, live ? h("span", { class: "badge live" }, "new") : null),
    h("td", {}, statusBadge(row), row.error_code ? h("div", { class: "muted small" }, row.error_code) : null),
    h("td", {}, h("code", { class: "small" }, row.inbound), row.stream ? h("div", { class: "muted small" }, "stream") : null),
    h("td", {}, row.provider ? h("div", { class: "strong" }, row.provider) : null, h("div", { class: "small" }, row.served_model || row.model)),
    h("td", {}, dash(row.route)),
    h("td", {}, row.key_name || row.key_id ? h("span", { title: row.key_id || "" }, row.key_name || row.key_id) : dash(null)),
    h("td", {}, dash(row.team)),
    h("td", {}, dash(row.user)),
    h("td", { class: "num", title: row.usage_estimated ? "estimated" : "reported" }, tokens),
    h("td", { class: "num" }, row.cost_usd === null ? h("span", { class: "muted" }, "no price") : fmt.usd(row.cost_usd)),
    h("td", { class: "num" }, fmt.ms(row.duration_ms)),
    h("td", { class: "num" }, fmt.ms(row.ttft_ms)));
}

async function logsPage(_arg, query) {
  const filters = readQuery(query);
  const tbody = h("tbody", {});
  const seen = new Set();
  const problem = h("div", { class: "form-error", role: "alert", "data-testid": "logs-error" });
  const summary = h("p", { class: "muted", "data-testid": "logs-summary", "aria-live": "polite" });
  const liveStatus = h("span", { class: "muted live-status", role: "status", "data-testid": "live-status" });
  const empty = h("p", { class: "empty", hidden: true }, activeCount(filters) ? "No request matches these filters." : "No requests logged yet.");
  let cursor = null;
  let trimmed = false;
  const more = h("button", { class: "btn", type: "button", id: "logs-more", hidden: true, onclick: () => load(true) }, "Load more");

  const count = () => tbody.children.length;
  const refreshSummary = () => {
    empty.hidden = count() > 0;
    more.hidden = !cursor || trimmed;
    summary.textContent = `${fmt.int(count())} request${count() === 1 ? "" : "s"} shown` +
      (trimmed ? ` (the newest ${TAIL_CAP} while tailing; reload to page through older ones)` : "");
  };

  async function load(next) {
    more.disabled = true;
    problem.textContent = "";
    try {
      const res = await api("GET", withQuery("/api/logs", { ...apiParams(filters), cursor: next ? cursor : undefined }));
      if (!next) { tbody.innerHTML = ""; seen.clear(); }
      for (const row of res.data) if (!seen.has(row.request_id)) { seen.add(row.request_id); tbody.append(logRow(row, false)); }
      cursor = res.next_cursor;
    } catch (err) {
      problem.textContent = `Could not load the request log: ${err.message}`;
    } finally { more.disabled = false; refreshSummary(); }
  }

  // ------------------------------------------------------------- live tail
  let stop = null;
  let fresh = 0;
  function prepend(row) {
    if (seen.has(row.request_id)) return;
    seen.add(row.request_id);
    tbody.prepend(logRow(row, true));
    fresh += 1;
    while (count() > TAIL_CAP) { seen.delete(tbody.lastElementChild.dataset.requestId); tbody.lastElementChild.remove(); trimmed = true; }
    liveStatus.textContent = `Live: ${fresh} new`;
    refreshSummary();
  }
  function setLive(on) {
    if (stop) { stop(); stop = null; }
    liveStatus.textContent = "";
    if (!on) return;
    fresh = 0;
    liveStatus.textContent = "Connecting…";
    stop = subscribe(withQuery("/api/logs/tail", apiParams(filters, { tail: true })), {
      message: (row) => row && row.request_id && prepend(row),
      lagged: (d) => { problem.textContent = `The live tail fell behind and skipped ${d && d.missed} request(s): reload to see them.`; },
      state: (s, err) => {
        if (s === "open") liveStatus.textContent = `Live: ${fresh} new`;
        else if (s === "retrying") liveStatus.textContent = "Live tail reconnecting…";
        else {
          liveStatus.textContent = "";
          problem.textContent = `Live tail stopped: ${err ? err.message : "the stream closed"}`;
          toggle.querySelector("input").checked = false;
          stop = null;
        }
      },
    });
  }
  const toggle = switchEl("log-live", "Live tail", false, (e) => setLive(e.target.checked));
  onLeave(() => setLive(false));

  const apply = (next) => {
    setHashQuery(toQuery(next));
    Object.assign(filters, next);
    const live = !!stop;
    cursor = null; trimmed = false;
    load(false).then(() => { if (live) setLive(true); });
    empty.textContent = activeCount(filters) ? "No request matches these filters." : "No requests logged yet.";
  };

  await load(false);
  const table = h("table", { class: "rows logs" },
    h("caption", { class: "visually-hidden" }, "Logged requests, newest first"),
    h("thead", {}, h("tr", {}, COLUMNS.map((c) => h("th", { scope: "col" }, c)))), tbody);
  return [
    h("div", { class: "page-header" }, h("h1", {}, "Logs"), h("div", { class: "inline" }, liveStatus, toggle)),
    filterForm(filters, apply),
    h("div", { class: "card detail" }, summary, problem,
      h("div", { class: "table-scroll", role: "region", "aria-label": "Request log", tabindex: "0" }, table),
      empty, h("div", { class: "load-more" }, more)),
  ];
}

page("logs", { title: "Logs", render: logsPage });
