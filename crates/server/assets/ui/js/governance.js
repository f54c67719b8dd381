// Shared by the Governance pages: usage-versus-limit bars, the limit and
// budget fields of a key or team (the API's shorthand), and copy buttons.
import { h, toast, errorSlot } from "./dom.js";

const WORDS = { requests: "requests", total_tokens: "tokens", input_tokens: "input tokens", output_tokens: "output tokens", concurrent: "in flight" };

/** "requests / minute", "tokens / day", "budget". */
export function slotLabel(slot) {
  if (slot === "budget") return "budget";
  const [metric, per] = slot.split(".");
  return per === "now" ? WORDS[metric] || metric : `${WORDS[metric] || metric} / ${per}`;
}

function amount(v, usd) {
  if (usd) return `$${v.toFixed(v < 1 ? 4 : 2)}`;
  return Math.round(v).toLocaleString("en-US");
}

/** One bar per counter of a policy state: used (and in flight) against the limit. */
export function usageBars(state, budget) {
  if (!state || !state.counters.length) return h("span", { class: "muted" }, "no limits");
  return h("div", { class: "usage" }, state.counters.map((c) => {
    const usd = c.slot === "budget" && budget && budget.max_usd !== undefined;
    const taken = c.used + (c.slot === "budget" ? c.in_flight : 0);
    const pct = c.limit > 0 ? Math.min(100, (100 * taken) / c.limit) : 0;
    const label = `${slotLabel(c.slot)}${c.subject ? ` (${c.subject})` : ""}`;
    return h("div", { class: "usage-row", "data-slot": c.slot },
      h("div", { class: "usage-label" }, h("span", {}, label), h("span", { class: "muted usage-figures" }, `${amount(taken, usd)} of ${amount(c.limit, usd)}`)),
      h("div", { class: "bar", role: "meter", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": String(c.limit), "aria-valuenow": String(taken) },
        h("span", { class: "fill" + (pct >= 90 ? " hot" : ""), style: `width:${pct.toFixed(1)}%` })));
  }));
}

/** Inputs for requests/tokens per minute, concurrency and a budget; read() gives the API's shorthand. */
export function limitFields(prefix, rateLimit, budget) {
  const rl = rateLimit || {};
  const b = budget || {};
  const num = (id, label, value, help) => {
    const input = h("input", { type: "number", id: `${prefix}-${id}`, min: 1, step: 1, value: value ?? "" });
    return { input, node: h("div", { class: "field" }, h("label", { for: `${prefix}-${id}` }, label), input, errorSlot(), help ? h("div", { class: "help" }, help) : null) };
  };
  const rpm = num("rpm", "Requests per minute", rl.requests_per_minute);
  const tpm = num("tpm", "Tokens per minute", rl.tokens_per_minute, "Input plus output; each request reserves its estimate up front and is settled with what it used.");
  const rpd = num("rpd", "Requests per day", rl.requests_per_day);
  const conc = num("concurrent", "Requests in flight at once", rl.concurrent_requests);
  const unit = h("select", { id: `${prefix}-budget-unit`, "aria-label": "Budget unit" }, h("option", { value: "usd" }, "USD"), h("option", { value: "tokens" }, "tokens"));
  unit.value = b.max_tokens !== undefined ? "tokens" : "usd";
  const max = h("input", { type: "number", id: `${prefix}-budget-max`, min: 0, step: "any", value: b.max_usd ?? b.max_tokens ?? "" });
  const period = h("select", { id: `${prefix}-budget-period`, "aria-label": "Budget period" }, ["day", "week", "month", "total"].map((p) => h("option", { value: p }, p)));
  period.value = b.period || "month";
  const node = h("div", {},
    h("div", { class: "grid2" }, rpm.node, tpm.node, rpd.node, conc.node),
    h("div", { class: "field" }, h("label", { for: `${prefix}-budget-max` }, "Budget"),
      h("div", { class: "inline" }, max, unit, h("span", { class: "muted" }, "per"), period), errorSlot(),
      h("div", { class: "help" }, "Calendar UTC periods; total never renews. Only a reset zeroes what was spent.")));
  const read = () => {
    const n = (f) => (f.input.value.trim() === "" ? undefined : Number(f.input.value));
    const rate = { requests_per_minute: n(rpm), tokens_per_minute: n(tpm), requests_per_day: n(rpd), concurrent_requests: n(conc) };
    const anyRate = Object.values(rate).some((v) => v !== undefined);
    const m = max.value.trim();
    const spend = m === "" ? null : unit.value === "usd" ? { max_usd: Number(m), period: period.value } : { max_tokens: Number(m), period: period.value };
    return { rate_limit: anyRate ? rate : null, budget: spend };
  };
  const fields = { "rate_limit.requests_per_minute": rpm.input, "rate_limit.tokens_per_minute": tpm.input, "rate_limit.requests_per_day": rpd.input,
    "rate_limit.concurrent_requests": conc.input, rate_limit: rpm.input, budget: max };
  return { node, read, fields };
}

export function copyButton(text, label = "Copy") {
  return h("button", { class: "btn", type: "button", onclick: async () => {
    try { await navigator.clipboard.writeText(typeof text === "function" ? text() : text); toast("Copied"); }
    catch { toast("Select the text to copy it", true); }
  } }, label);
}

/** Tabs of snippets: curl, Python, Claude Code, Codex, with `key` filled in. */
export function usageSnippets(key, model) {
  const origin = location.origin;
  const m = model || "<provider>/<model>";
  const snippets = {
    curl: `curl ${origin}/v1/chat/completions \\\n  -H "Authorization: Bearer ${key}" \\\n  -H "Content-Type: application/json" \\\n  -d '{"model": "${m}", "messages": [{"role": "user", "content": "Hello"}]}'`,
    Python: `from openai import OpenAI\n\nclient = OpenAI(base_url="${origin}/v1", api_key="${key}")\nreply = client.chat.completions.create(\n    model="${m}",\n    messages=[{"role": "user", "content": "Hello"}],\n)\nprint(reply.choices[0].message.content)`,
    "Claude Code": `ANTHROPIC_BASE_URL=${origin}/anthropic \\\nANTHROPIC_AUTH_TOKEN=${key} \\\nANTHROPIC_MODEL=${m} \\\nclaude`,
    Codex: `# ~/.codex/config.toml\nmodel = "${m}"\nmodel_provider = "switchyard"\n\n[model_providers.switchyard]\nname = "Switchyard"\nbase_url = "${origin}/v1"\nenv_key = "SWITCHYARD_API_KEY"\nwire_api = "responses"\n\n# then\nSWITCHYARD_API_KEY=${key} codex`,
  };
  const pre = h("pre", { class: "snippet", id: "key-snippet" });
  const bar = h("div", { class: "tabs", role: "tablist", "aria-label": "Usage snippets" });
  const show = (name) => {
    pre.textContent = snippets[name];
    for (const b of bar.children) b.setAttribute("aria-selected", String(b.textContent === name));
  };
  for (const name of Object.keys(snippets)) bar.append(h("button", { class: "tab", role: "tab", type: "button", onclick: () => show(name) }, name));
  show("curl");
  return h("div", { class: "snippets" }, h("div", { class: "snippet-head" }, bar, copyButton(() => pre.textContent)), pre);
}
