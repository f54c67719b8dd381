// Models → Routes: virtual models. A route is a model name clients send as is;
// each request goes to one target chosen by weight, then to the fallbacks in
// order. The server validates (its diagnostics carry the file's paths,
// routes.<name>.targets[0].model) and the form shows them where they belong.
import { h, toast, errorSlot, setError, openModal } from "../dom.js";
import { api, state } from "../api.js";
import { page, render } from "../router.js";

function percent(route, target) {
  const total = route.targets.reduce((sum, t) => sum + t.weight, 0);
  return total > 0 ? Math.round((100 * target.weight) / total) : 0;
}

function sourceBadge(r) {
  return r.source === "file"
    ? h("span", { class: "badge file", title: "Edit the config file and restart to change it" }, "config file")
    : h("span", { class: "badge" }, "api");
}

function routeRow(r) {
  const actions = r.source === "file"
    ? h("span", { class: "muted" }, "read-only")
    : h("div", { class: "row-actions" },
      h("button", { class: "btn", type: "button", "aria-label": `Edit route ${r.name}`, onclick: () => routeDialog(r) }, "Edit"),
      h("button", { class: "btn danger", type: "button", "aria-label": `Delete route ${r.name}`, onclick: () => deleteDialog(r) }, "Delete"));
  return h("tr", { "data-route": r.name },
    h("td", {}, h("code", {}, r.name)),
    h("td", {}, r.targets.map((t) => h("div", { class: "target" }, h("span", { class: "chip" }, t.model),
      h("span", { class: "muted" }, ` weight ${t.weight} · ${percent(r, t)}%`)))),
    h("td", {}, r.fallbacks.length
      ? h("ol", { class: "fallbacks" }, r.fallbacks.map((f) => h("li", {}, h("code", {}, f))))
      : h("span", { class: "muted" }, "none")),
    h("td", {}, sourceBadge(r)),
    h("td", {}, actions));
}

/** Rows of inputs that grow and shrink: targets (model + weight) or fallbacks (model). */
function modelRows(label, withWeight, initial, listId) {
  const body = h("tbody", {});
  const add = (model = "", weight = 1) => {
    const modelInput = h("input", { type: "text", "aria-label": `${label} model`, value: model, placeholder: "provider/model", list: listId, autocomplete: "off" });
    const weightInput = withWeight ? h("input", { type: "number", "aria-label": `${label} weight`, value: weight, min: 0, step: "any", style: "width:90px" }) : null;
    const tr = h("tr", {}, h("td", {}, modelInput), withWeight ? h("td", {}, weightInput) : null,
      h("td", {}, h("button", { type: "button", class: "btn danger", "aria-label": `Remove ${label.toLowerCase()}`, onclick: () => tr.remove() }, "Remove")));
    tr.inputs = { model: modelInput, weight: weightInput };
    body.append(tr);
    return modelInput;
  };
  initial.forEach((x) => (withWeight ? add(x.model, x.weight) : add(x)));
  const head = h("tr", {}, h("th", {}, "Model"), withWeight ? h("th", {}, "Weight") : null, h("th", {}, ""));
  const table = h("table", { class: "rows", "aria-label": `${label}s` }, h("thead", {}, head), body);
  /** The filled rows, in order: what is sent, and the row each sent index came from. */
  const read = () => [...body.children].filter((tr) => tr.inputs.model.value.trim());
  const clear = () => { for (const tr of body.children) { setError(tr.inputs.model, null); if (tr.inputs.weight) setError(tr.inputs.weight, null); } };
  return { table, add, read, clear };
}

function routeDialog(existing) {
  const editing = !!existing;
  const r = existing || { name: "", targets: [{ model: "", weight: 1 }], fallbacks: [] };
  const listId = "route-model-options";
  const options = h("datalist", { id: listId }, state.providers.map((p) => h("option", { value: `${p.name}/` })));
  const name = h("input", { type: "text", id: "route-name", value: r.name, placeholder: "claude-sonnet", autocomplete: "off", disabled: editing });
  const targets = modelRows("Target", true, r.targets, listId);
  const fallbacks = modelRows("Fallback", false, r.fallbacks, listId);
  const targetsError = errorSlot();
  const fallbacksError = errorSlot();
  const formError = h("div", { class: "form-error", role: "alert" });
  const saveBtn = h("button", { class: "btn primary", type: "button", id: "route-save", onclick: save }, editing ? "Save Route" : "Add Route");
  const body = h("form", { onsubmit: (e) => { e.preventDefault(); save(); } },
    h("div", { class: "field" }, h("label", { for: "route-name" }, "Name"), name, errorSlot(),
      h("div", { class: "help" }, "Clients send it as the model, e.g. \"model\": \"claude-sonnet\"; it may not be a provider's name.")),
    h("h3", { class: "section-title" }, "Targets"),
    h("p", { class: "help muted" }, "Each request goes to one target, chosen in proportion to its weight."),
    targets.table, targetsError,
    h("button", { type: "button", class: "btn", onclick: () => targets.add().focus() }, "+ Add Target"),
    h("h3", { class: "section-title" }, "Fallbacks"),
    h("p", { class: "help muted" }, "Tried in order when the chosen target fails before answering."),
    fallbacks.table, fallbacksError,
    h("button", { type: "button", class: "btn", onclick: () => fallbacks.add().focus() }, "+ Add Fallback"),
    options, formError);
  const close = openModal(editing ? `Edit Route · ${r.name}` : "Add Route", body,
    [h("button", { class: "btn", type: "button", onclick: () => close() }, "Cancel"), saveBtn], true);

  async function save() {
    setError(name, null);
    targets.clear(); fallbacks.clear();
    targetsError.textContent = ""; fallbacksError.textContent = ""; formError.textContent = "";
    const routeName = name.value.trim();
    if (!routeName) { setError(name, "Enter a name; clients send it as the model."); return; }
    const targetRows = targets.read();
    const fallbackRows = fallbacks.read();
    const payload = {
      targets: targetRows.map((tr) => {
        const w = tr.inputs.weight.value.trim();
        return w === "" ? { model: tr.inputs.model.value.trim() } : { model: tr.inputs.model.value.trim(), weight: Number(w) };
      }),
      fallbacks: fallbackRows.map((tr) => tr.inputs.model.value.trim()),
    };
    saveBtn.disabled = true;
    try {
      if (editing) await api("PUT", `/api/routes/${encodeURIComponent(r.name)}`, payload);
      else await api("POST", "/api/routes", { name: routeName, ...payload });
      close();
      toast(`Route ${routeName} saved`);
      await render();
    } catch (err) {
      showRouteErrors(err, routeName, { name, targetRows, fallbackRows, targetsError, fallbacksError, formError });
    } finally { saveBtn.disabled = false; }
  }
}

/** Places each diagnostic (routes.<name>.targets[i].model, …) next to its input. */
function showRouteErrors(err, routeName, f) {
  const left = [];
  for (const d of err.details || []) {
    if (d.severity !== "error") continue;
    const text = d.message + (d.hint ? ` (${d.hint})` : "");
    const prefix = `routes.${routeName}`;
    const rest = d.path === "name" ? "" : d.path.startsWith(prefix) ? d.path.slice(prefix.length) : null;
    let m;
    if (rest === "") setError(f.name, text);
    else if (rest !== null && (m = /^\.targets\[(\d+)\](?:\.(\w+))?$/.exec(rest)) && f.targetRows[m[1]]) {
      const inputs = f.targetRows[m[1]].inputs;
      setError(m[2] === "weight" ? inputs.weight : inputs.model, text);
    } else if (rest !== null && (m = /^\.fallbacks\[(\d+)\]$/.exec(rest)) && f.fallbackRows[m[1]]) setError(f.fallbackRows[m[1]].inputs.model, text);
    else if (rest === ".targets") f.targetsError.textContent = text;
    else if (rest === ".fallbacks") f.fallbacksError.textContent = text;
    else left.push(`${d.path}: ${text}`);
  }
  const placed = (err.details || []).some((d) => d.severity === "error") && !left.length;
  f.formError.textContent = placed ? "Fix the highlighted fields." : left.length ? left.join("\n") : err.message;
}

function deleteDialog(r) {
  const confirmBtn = h("button", { class: "btn danger", type: "button", id: "route-delete-confirm", onclick: async () => {
    confirmBtn.disabled = true;
    try { await api("DELETE", `/api/routes/${encodeURIComponent(r.name)}`); close(); toast(`Route ${r.name} deleted`); await render(); }
    catch (err) { close(); toast(err.message, true); }
  } }, "Delete");
  const close = openModal(`Delete route ${r.name}?`,
    h("p", {}, "Clients sending ", h("code", {}, `"model": "${r.name}"`), " will get an error from then on."),
    [h("button", { class: "btn", type: "button", onclick: () => close() }, "Cancel"), confirmBtn]);
}

async function routesPage() {
  let routes = [];
  try { routes = await api("GET", "/api/routes"); } catch (err) { toast(err.message, true); }
  const add = h("button", { class: "btn primary", type: "button", id: "add-route", onclick: () => routeDialog(null) }, "Add Route");
  const table = h("table", { class: "rows routes", "aria-label": "Routes" },
    h("thead", {}, h("tr", {}, ["Name", "Targets", "Fallbacks", "Source", ""].map((c) => h("th", {}, c)))),
    h("tbody", {}, routes.map(routeRow)));
  return [
    h("div", { class: "page-header" }, h("h1", {}, "Routes"), add),
    h("div", { class: "card detail" },
      h("p", { class: "muted" }, "A route is a model name clients send as is — Claude Code and Codex included. Each request goes to one target, chosen by weight; if it fails before answering, the fallbacks are tried in order."),
      routes.length ? table : h("p", { class: "empty" }, "No routes yet. Add Route gives clients one model name over one or more providers.")),
  ];
}

page("routes", { title: "Routes", render: routesPage });
