// Try it → Playground: a streamed chat to any provider/model or route.

import { h, setError } from "../dom.js";
import { page } from "../router.js";

function playgroundPage() {
  const model = h("input", { type: "text", id: "pg-model", list: "pg-models", placeholder: "provider/model" });
  const datalist = h("datalist", { id: "pg-models" });
  const system = h("textarea", { id: "pg-system", placeholder: "Optional system prompt", style: "min-height:60px" });
  const prompt = h("textarea", { id: "pg-prompt", placeholder: "Say hello…" });
  const answer = h("div", { class: "answer", "data-testid": "answer", "aria-live": "polite" });
  const stats = h("div", { class: "stats" });
  let controller = null;
  const send = h("button", { class: "btn primary", type: "button", onclick: run }, "Send");
  const stop = h("button", { class: "btn", type: "button", disabled: true, onclick: () => controller && controller.abort() }, "Stop");
  fetch("/v1/models").then((r) => r.json()).then((l) => { for (const m of l.data || []) datalist.append(h("option", { value: m.id })); }).catch(() => {});
  prompt.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) run(); });
  async function run() {
    const m = model.value.trim();
    if (!m.includes("/")) { setError(model, "Write provider/model, e.g. databricks-mlflow/llama-3"); return; }
    setError(model, null);
    const messages = [];
    if (system.value.trim()) messages.push({ role: "system", content: system.value.trim() });
    messages.push({ role: "user", content: prompt.value.trim() || "Hello!" });
    answer.textContent = ""; answer.classList.remove("error"); stats.textContent = "";
    controller = new AbortController(); send.disabled = true; stop.disabled = false;
    const started = performance.now(); let first = null;
    try {
      const res = await fetch("/v1/chat/completions", { method: "POST", signal: controller.signal, headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ model: m, messages, stream: true, stream_options: { include_usage: true } }) });
      if (!res.ok) { const e = await res.json().catch(() => ({})); throw new Error((e.error && e.error.message) || res.statusText); }
      const reader = res.body.getReader(); const dec = new TextDecoder(); let buf = ""; let usage = null;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const event = buf.slice(0, i); buf = buf.slice(i + 2);
          for (const line of event.split("\n")) {
            if (!line.startsWith("data: ")) continue;
            const data = line.slice(6);
            if (data === "[DONE]") continue;
            const chunk = JSON.parse(data);
            if (chunk.error) throw new Error(chunk.error.message);
            if (chunk.usage) usage = chunk.usage;
            const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
            if (delta && delta.content) { if (first === null) first = performance.now(); answer.textContent += delta.content; }
          }
        }
      }
      const total = Math.round(performance.now() - started);
      stats.textContent = `first token ${first ? Math.round(first - started) : "–"} ms · total ${total} ms` + (usage ? ` · ${usage.prompt_tokens} in / ${usage.completion_tokens} out tokens` : "");
    } catch (err) {
      if (err.name !== "AbortError") { answer.classList.add("error"); answer.textContent = err.message; }
    } finally { send.disabled = false; stop.disabled = true; }
  }
  return [
    h("div", { class: "page-header" }, h("h1", {}, "Playground")),
    h("div", { class: "playground" },
      h("div", { class: "card" },
        h("div", { class: "field" }, h("label", { for: "pg-model" }, "Model"), model, datalist, h("div", { class: "help" }, "provider/model — models listed by providers are suggested.")),
        h("div", { class: "field" }, h("label", { for: "pg-system" }, "System"), system),
        h("div", { class: "field" }, h("label", { for: "pg-prompt" }, "Message"), prompt, h("div", { class: "help" }, "Ctrl+Enter sends.")),
        h("div", { style: "display:flex;gap:8px" }, send, stop)),
      h("div", { class: "card" }, h("h2", { class: "section-title", style: "margin-top:0" }, "Answer"), answer, stats)),
  ];
}

page("playground", { title: "Playground", render: () => playgroundPage() });
