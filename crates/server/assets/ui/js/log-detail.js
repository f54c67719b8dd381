// One logged request in a side panel (a modal dialog: Escape closes it, focus
// stays inside and returns where it was): timings, tokens, cost, attempts,
// tags, payloads when stored, and Copy as curl.
import { h, openModal, toast } from "./dom.js";
import { api } from "./api.js";
import * as fmt from "./format.js";
import { curlCommand } from "./curl.js";

function kv(pairs) {
  return h("dl", { class: "kv compact" }, pairs.filter(Boolean).flatMap(([k, v]) =>
    [h("dt", {}, k), h("dd", {}, v === null || v === undefined || v === "" ? h("span", { class: "muted" }, "—") : v)]));
}

function section(title, ...content) {
  return h("section", { class: "detail-section" }, h("h3", { class: "section-title" }, title), ...content);
}

/** Stored JSON, pretty; a string (not JSON, or cut at the size limit) as it is. */
function payloadBlock(label, value, truncated) {
  if (value === null || value === undefined) return h("p", { class: "muted" }, `No ${label.toLowerCase()} stored.`);
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return h("div", {},
    h("h4", { class: "payload-title" }, label, truncated ? h("span", { class: "badge" }, "truncated") : null),
    h("pre", { class: "snippet payload", tabindex: "0", "aria-label": `${label} body` }, text));
}

function attemptList(row) {
  const details = row.attempt_details || [];
  const summary = `${row.attempts} attempt${row.attempts === 1 ? "" : "s"}` +
    (row.fallback_index ? `; answered by fallback candidate ${row.fallback_index + 1}` : "") + ".";
  if (!details.length) return h("p", {}, summary);
  return h("div", {}, h("p", {}, summary), h("ol", { class: "attempts" }, details.map((a, i) =>
    h("li", { "data-attempt": String(i) }, h("code", {}, a.candidate), " ",
      a.error ? h("span", { class: "badge status danger" }, a.error) : h("span", { class: "badge status ok" }, "answered")))));
}

function detailBody(row) {
  const est = row.usage_estimated;
  const tags = Object.entries(row.tags || {});
  const payload = row.payload || null;
  const curl = curlCommand(row, payload);
  const copy = h("button", { class: "btn primary", type: "button", id: "copy-curl", onclick: async () => {
    try { await navigator.clipboard.writeText(curl); toast("curl command copied"); }
    catch { toast("Select the command below to copy it", true); }
  } }, "Copy as curl");
  return h("div", { class: "log-detail", "data-request-id": row.request_id },
    h("div", { class: "chips" },
      h("span", { class: `badge status ${row.status < 400 && row.end === "completed" ? "ok" : "danger"}` }, `${row.status} · ${row.end}`),
      h("span", { class: "badge" }, row.inbound), row.stream ? h("span", { class: "badge" }, "stream") : null,
      row.error_code ? h("span", { class: "badge status danger" }, row.error_code) : null),
    kv([["Request id", h("code", {}, row.request_id)], ["Started", fmt.time(row.started_at_ms)],
      ["Route", row.route], ["Provider", row.provider], ["Model asked", row.model], ["Model served", row.served_model],
      ["Key", row.key_name ? `${row.key_name} (${row.key_id})` : row.key_id], ["Team", row.team], ["User", row.user],
      ["User agent", row.user_agent]]),
    section("Timings", kv([["Duration", fmt.ms(row.duration_ms)], ["Time to first token", fmt.ms(row.ttft_ms)]])),
    section("Tokens", h("p", { class: "muted", "data-testid": "token-source" }, est ? "Estimated: the upstream reported no usage." : "As the upstream reported them."),
      kv([["Input", fmt.int(row.input_tokens)], ["Output", fmt.int(row.output_tokens)], ["Cache read", fmt.int(row.cache_read_tokens)],
        ["Cache write", fmt.int(row.cache_write_tokens)], ["Reasoning", fmt.int(row.reasoning_tokens)]])),
    section("Cost", h("p", { "data-testid": "cost" }, row.cost_usd === null ? "No price covers this model." : fmt.usd(row.cost_usd))),
    section("Attempts", attemptList(row)),
    section("Tags", tags.length ? h("div", { class: "chips" }, tags.map(([k, v]) => h("span", { class: "chip" }, `${k}: ${v}`))) : h("p", { class: "muted" }, "No tags.")),
    section("Payloads", payload ? [payloadBlock("Request", payload.request, payload.request_truncated), payloadBlock("Response", payload.response, payload.response_truncated)]
      : h("p", { class: "muted" }, "Bodies are not stored for this request.")),
    section("Replay", h("div", { class: "inline" }, copy, h("span", { class: "muted" }, "Set SWITCHYARD_KEY to a virtual key first.")),
      h("pre", { class: "snippet", id: "curl-command", tabindex: "0", "aria-label": "curl command" }, curl)));
}

/** Opens the panel for a request id; an unknown id or an API error says so in the panel. */
export async function openLogDetail(requestId) {
  let body;
  try {
    body = detailBody(await api("GET", `/api/logs/${encodeURIComponent(requestId)}`));
  } catch (err) {
    body = h("p", { class: "form-error", role: "alert" }, `Could not load request ${requestId}: ${err.message}`);
  }
  const close = openModal(`Request ${requestId}`, body,
    [h("button", { class: "btn", type: "button", onclick: () => close() }, "Close")], "drawer");
  return close;
}
