// Governance → Prices: USD per million tokens by model glob. A model with no
// price is never counted as free: under a USD budget it is refused.
import { h, toast, errorSlot, setError, openModal, showServerErrors } from "../dom.js";
import { api } from "../api.js";
import { page, render } from "../router.js";

const usd = (v) => (v === undefined || v === null ? h("span", { class: "muted" }, "= input") : `$${v}`);

function priceRow(p) {
  return h("tr", { "data-price": p.model },
    h("td", {}, h("code", {}, p.model)),
    h("td", {}, `$${p.input}`), h("td", {}, `$${p.output}`), h("td", {}, usd(p.cache_read)), h("td", {}, usd(p.cache_write)),
    h("td", {}, p.source === "file" ? h("span", { class: "badge file", title: "Edit the config file and restart to change it" }, "config file")
      : h("div", { class: "row-actions" },
        h("button", { class: "btn", type: "button", "aria-label": `Edit price ${p.model}`, onclick: () => priceDialog(p) }, "Edit"),
        h("button", { class: "btn danger", type: "button", "aria-label": `Delete price ${p.model}`, onclick: () => remove(p) }, "Delete"))));
}

function priceDialog(existing) {
  const p = existing || { model: "", input: "", output: "" };
  const field = (id, label, value, placeholder) => {
    const input = h("input", { type: id === "model" ? "text" : "number", id: `price-${id}`, value: value ?? "", placeholder, min: 0, step: "any", autocomplete: "off", disabled: id === "model" && !!existing });
    return { input, node: h("div", { class: "field" }, h("label", { for: `price-${id}` }, label), input, errorSlot()) };
  };
  const model = field("model", "Model (glob)", p.model, "databricks-anthropic/*claude-sonnet*");
  const input = field("input", "Input, USD per 1M tokens", p.input, "3");
  const output = field("output", "Output, USD per 1M tokens", p.output, "15");
  const read = field("cache_read", "Cache read (empty: the input rate)", p.cache_read, "0.3");
  const write = field("cache_write", "Cache write (empty: the input rate)", p.cache_write, "3.75");
  const formError = h("div", { class: "form-error", role: "alert" });
  const saveBtn = h("button", { class: "btn primary", type: "button", id: "price-save", onclick: save }, "Save Price");
  const close = openModal(existing ? `Edit Price · ${p.model}` : "Add Price",
    h("form", { onsubmit: (e) => { e.preventDefault(); save(); } }, model.node, h("div", { class: "grid2" }, input.node, output.node, read.node, write.node), formError),
    [h("button", { class: "btn", type: "button", onclick: () => close() }, "Cancel"), saveBtn]);
  async function save() {
    for (const f of [model, input, output, read, write]) setError(f.input, null);
    const num = (f) => (f.input.value.trim() === "" ? undefined : Number(f.input.value));
    const body = { model: model.input.value.trim(), input: num(input), output: num(output), cache_read: num(read), cache_write: num(write) };
    saveBtn.disabled = true;
    try { await api("POST", "/api/prices", body); close(); toast(`Price of ${body.model} saved`); await render(); }
    catch (err) { showServerErrors(err, { model: model.input, input: input.input, output: output.input, cache_read: read.input, cache_write: write.input }, formError); }
    finally { saveBtn.disabled = false; }
  }
}

async function remove(p) {
  try { await api("DELETE", `/api/prices?model=${encodeURIComponent(p.model)}`); toast(`Price of ${p.model} deleted`); await render(); }
  catch (err) { toast(err.message, true); }
}

async function pricesPage() {
  let prices = [];
  try { prices = (await api("GET", "/api/prices")).data; } catch (err) { toast(err.message, true); }
  const add = h("button", { class: "btn primary", type: "button", id: "add-price", onclick: () => priceDialog(null) }, "Add Price");
  const table = h("table", { class: "rows prices", "aria-label": "Prices" },
    h("thead", {}, h("tr", {}, ["Model", "Input", "Output", "Cache read", "Cache write", ""].map((c) => h("th", {}, c)))),
    h("tbody", {}, prices.map(priceRow)));
  return [
    h("div", { class: "page-header" }, h("h1", {}, "Prices"), add),
    h("div", { class: "card detail" },
      h("p", { class: "muted" }, "USD per million tokens. An exact model name beats a glob, a longer glob beats a shorter one. A model no price matches is refused under a USD budget — never counted as $0."),
      prices.length ? table : h("p", { class: "empty" }, "No prices yet.")),
  ];
}

page("prices", { title: "Prices", render: pricesPage });
