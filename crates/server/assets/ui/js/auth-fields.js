// How a Databricks provider authenticates: a personal access token (an
// Authorization header), or a service principal's OAuth client credentials,
// which Switchyard exchanges for short-lived tokens and refreshes itself.

import { h, errorSlot, setError } from "./dom.js";

/** A radio pair and the service principal's fields; `oauth` is a stored network_config.oauth. */
export function authChoice(prefix, oauth, onchange) {
  const radio = (value, label, checked) => {
    const input = h("input", { type: "radio", name: `${prefix}-auth`, id: `${prefix}-auth-${value}`, value });
    input.checked = checked;
    input.addEventListener("change", () => sync());
    return h("label", { class: "radio", for: input.id }, input, " ", label);
  };
  const pat = radio("pat", "Personal access token", !oauth);
  const sp = radio("oauth", "Service principal (OAuth)", !!oauth);
  const input = (id, type, value, placeholder) => h("input", { type, id: `${prefix}-${id}`, value: value || "", placeholder, autocomplete: "off" });
  const clientId = input("client-id", "text", oauth && oauth.client_id, "application (client) ID, or env.NAME");
  const secret = input("client-secret", "password", oauth && oauth.client_secret, "an OAuth secret of the service principal, or env.NAME");
  const tokenUrl = input("token-url", "url", oauth && oauth.token_url, "https://<workspace-host>/oidc/v1/token");
  const field = (el, label, help) => h("div", { class: "field" }, h("label", { for: el.id }, label), el, errorSlot(),
    help ? h("div", { class: "help" }, help) : null);
  const spFields = h("div", { "data-testid": `${prefix}-sp-fields` },
    field(clientId, "Client ID"),
    field(secret, "Client secret", "Stored, shown redacted; leave the mask as it is to keep the stored secret."),
    field(tokenUrl, "Token URL", "The workspace's OAuth endpoint. Tokens are fetched with the client ID and secret (HTTP Basic), cached and refreshed before they expire."));
  const el = h("fieldset", { class: "auth-choice" }, h("legend", {}, "Authentication"), h("div", { class: "row" }, pat, " ", sp), spFields);
  const isOAuth = () => sp.querySelector("input").checked;
  function sync() {
    spFields.hidden = !isOAuth();
    if (onchange) onchange(isOAuth());
  }
  sync();
  /** The oauth object, or null with the fields' problems shown; `defaultTokenUrl` fills an empty token URL. */
  const value = (defaultTokenUrl) => {
    if (!tokenUrl.value.trim() && defaultTokenUrl) tokenUrl.value = defaultTokenUrl;
    const problems = [[clientId, clientId.value.trim() ? null : "Enter the service principal's client ID."],
      [secret, secret.value.trim() ? null : "Enter the client secret (or env.NAME)."],
      [tokenUrl, /^https?:\/\/[^/]+/.test(tokenUrl.value.trim()) ? null : "Enter the token URL, e.g. https://<workspace-host>/oidc/v1/token"]];
    problems.forEach(([f, p]) => setError(f, p));
    if (problems.some(([, p]) => p)) return null;
    return { ...(oauth || {}), token_url: tokenUrl.value.trim(), client_id: clientId.value.trim(), client_secret: secret.value.trim(),
      scope: (oauth && oauth.scope) || "all-apis" };
  };
  return { el, isOAuth, value };
}
