// DOM helpers shared by every page: element building, messages, modals,
// and server diagnostics placed next to the fields they name.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "html") el.innerHTML = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function toast(message, error = false) {
  const msg = h("div", { class: "msg" + (error ? " error" : "") }, message);
  document.getElementById("toast").append(msg);
  setTimeout(() => msg.remove(), 4000);
}

/** A reserved line for a field's message, so that showing or clearing it never
 * moves what is below (a layout shift between press and release loses the click). */
export function errorSlot() {
  return h("div", { class: "field-error", role: "alert" });
}

export function setError(input, message) {
  const field = input.closest(".field") || input.parentElement;
  let err = field.querySelector(":scope > .field-error");
  if (!message) { input.classList.remove("invalid"); input.removeAttribute("aria-invalid"); if (err) err.textContent = ""; return; }
  input.classList.add("invalid");
  input.setAttribute("aria-invalid", "true");
  if (!err) { err = h("div", { class: "field-error", role: "alert" }); field.append(err); }
  err.textContent = message;
}

export function switchEl(id, label, checked, onchange) {
  const input = h("input", { type: "checkbox", id, role: "switch", onchange });
  input.checked = checked;
  return h("label", { class: "switch", for: id }, input, h("span", { class: "track", "aria-hidden": "true" }), label);
}

// ------------------------------------------------------------------ modals

/** A dialog; `variant` is true or "wide" (a wider one) or "drawer" (a side panel at the right). */
export function openModal(title, body, footer, variant = false) {
  const kind = variant === true ? "wide" : variant || "";
  const root = document.getElementById("modal-root");
  const previous = document.activeElement;
  const close = () => { root.innerHTML = ""; document.removeEventListener("keydown", onKey); if (previous) previous.focus(); };
  const onKey = (e) => {
    if (e.key === "Escape") close();
    // Tab and Shift+Tab cycle inside the dialog (aria-modal): focus never reaches the page behind it.
    if (e.key === "Tab") {
      const items = [...dialog.querySelectorAll("button, input, select, textarea, a[href], summary, [tabindex]:not([tabindex='-1'])")].filter((el) => !el.disabled && el.offsetParent !== null);
      if (!items.length) return;
      const [first, last] = [items[0], items[items.length - 1]];
      const inside = dialog.contains(document.activeElement);
      if (e.shiftKey && (!inside || document.activeElement === first)) { e.preventDefault(); last.focus(); }
      else if (!e.shiftKey && (!inside || document.activeElement === last)) { e.preventDefault(); first.focus(); }
    }
  };
  const dialog = h("div", { class: `dialog ${kind}`.trim(), role: "dialog", "aria-modal": "true", "aria-labelledby": "dialog-title" },
    h("header", {}, h("h2", { id: "dialog-title" }, title), h("button", { class: "btn icon", "aria-label": "Close", onclick: close }, "✕")),
    h("div", { class: "body" }, body),
    footer ? h("footer", {}, footer) : null);
  root.innerHTML = "";
  root.append(h("div", { class: `backdrop ${kind}`.trim(), onclick: (e) => { if (e.target.classList.contains("backdrop")) close(); } }, dialog));
  document.addEventListener("keydown", onKey);
  // A side panel is read from the top: focus its close button, not a control further down.
  const first = kind === "drawer" ? dialog.querySelector("header button") : dialog.querySelector(".body input, .body select, .body textarea, .body button");
  if (first) first.focus();
  return close;
}

/** Shows server validation details next to the fields they name. */
export function showServerErrors(err, fieldsByPath, formError) {
  let placed = false;
  for (const d of err.details || []) {
    if (d.severity !== "error") continue;
    const key = Object.keys(fieldsByPath).find((p) => d.path === p || d.path.endsWith("." + p) || d.path.startsWith(p + "."));
    if (key) { setError(fieldsByPath[key], d.message + (d.hint ? ` (${d.hint})` : "")); placed = true; }
  }
  formError.textContent = placed ? "Fix the highlighted fields." : err.message;
}
