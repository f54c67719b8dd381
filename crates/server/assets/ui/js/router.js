// The hash router: #/<page>/<arg>?<query>. Pages register themselves with
// page(); render() rebuilds the current one (after saving, or on navigation).
// The query holds a page's view state (filters, ranges) so a view can be linked.
import { toast } from "./dom.js";
import { api, state } from "./api.js";

const pages = new Map();
const HOME = "providers";
/** What the current page must stop when it is left (streams, timers). */
let leaving = [];

/** Registers a page: `{ title, render(arg, query) → nodes or a promise of them }`. */
export function page(name, def) {
  pages.set(name, def);
}

/** Runs `fn` when the page being rendered is replaced by another render. */
export function onLeave(fn) {
  leaving.push(fn);
}

function parts() {
  const hash = location.hash || `#/${HOME}`;
  const q = hash.indexOf("?");
  const path = q < 0 ? hash : hash.slice(0, q);
  const [, wanted, arg] = path.split("/");
  return { wanted, arg, query: new URLSearchParams(q < 0 ? "" : hash.slice(q + 1)) };
}

/** The current hash's query. */
export function hashQuery() {
  return parts().query;
}

/** Writes a page's view state into the hash without re-rendering (replaceState fires no hashchange). */
export function setHashQuery(params) {
  const path = (location.hash || `#/${HOME}`).split("?")[0];
  const qs = params.toString();
  history.replaceState(null, "", qs ? `${path}?${qs}` : path);
}

/** Renders the page the hash names; `reload` fetches the providers again first. */
export async function render(reload = true) {
  if (reload) {
    try { state.providers = await api("GET", "/api/providers"); } catch (err) { toast(err.message, true); }
  }
  for (const fn of leaving.splice(0)) fn();
  const { wanted, arg, query } = parts();
  const name = pages.has(wanted) ? wanted : HOME;
  const current = pages.get(name);
  const nodes = await current.render(arg ? decodeURIComponent(arg) : null, query);
  const main = document.getElementById("main");
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === name);
  main.innerHTML = "";
  main.append(...nodes);
  document.title = `${current.title} · Switchyard`;
}
