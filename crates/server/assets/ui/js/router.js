// The hash router: #/<page>/<arg>. Pages register themselves with page();
// render() rebuilds the current one (after saving, or on navigation).
import { toast } from "./dom.js";
import { api, state } from "./api.js";

const pages = new Map();
const HOME = "providers";

/** Registers a page: `{ title, render(arg) → nodes or a promise of them }`. */
export function page(name, def) {
  pages.set(name, def);
}

/** Renders the page the hash names; `reload` fetches the providers again first. */
export async function render(reload = true) {
  if (reload) {
    try { state.providers = await api("GET", "/api/providers"); } catch (err) { toast(err.message, true); }
  }
  const [, wanted, arg] = (location.hash || `#/${HOME}`).split("/");
  const name = pages.has(wanted) ? wanted : HOME;
  const current = pages.get(name);
  const nodes = await current.render(arg ? decodeURIComponent(arg) : null);
  const main = document.getElementById("main");
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === name);
  main.innerHTML = "";
  main.append(...nodes);
  document.title = `${current.title} · Switchyard`;
}
