// Switchyard admin UI: a small single-page app over the management API.
// ES modules, no build step: shared helpers in js/, one module per page in
// js/pages/; every secret shown comes redacted from the API.
import { h, toast } from "./js/dom.js";
import { api, state } from "./js/api.js";
import { render } from "./js/router.js";
import "./js/pages/providers.js";
import "./js/pages/routes.js";
import "./js/pages/keys.js";
import "./js/pages/teams.js";
import "./js/pages/policies.js";
import "./js/pages/prices.js";
import "./js/pages/dashboard.js";
import "./js/pages/logs.js";
import "./js/pages/playground.js";

window.addEventListener("hashchange", () => render(false));
window.addEventListener("DOMContentLoaded", async () => {
  try { state.meta = await api("GET", "/api/meta"); document.getElementById("version").textContent = `v${state.meta.version}`; } catch (err) { toast(err.message, true); }
  if (state.meta.auth_required) {
    const out = h("button", { class: "btn", type: "button", id: "sign-out", onclick: async () => {
      await fetch("/logout", { method: "POST", headers: { "X-Requested-With": "switchyard" } });
      location.href = "/login";
    } }, "Sign out");
    document.querySelector(".sidebar-footer").prepend(out);
  }
  if (!location.hash) location.hash = "#/providers";
  await render();
});
