// "Copy as curl" for a logged request: a command that sends it again to this
// gateway. The key is a shell variable, never a secret from the page.

/** The inbound path of each dialect the log names. */
export const INBOUND_PATHS = {
  "openai.chat": "/v1/chat/completions",
  "openai.responses": "/v1/responses",
  "openai.completions": "/v1/completions",
  "openai.embeddings": "/v1/embeddings",
  "anthropic.messages": "/anthropic/v1/messages",
  "anthropic.count_tokens": "/anthropic/v1/messages/count_tokens",
};

/** A body of the dialect's shape with the logged model, when the request body was not stored. */
function skeleton(row) {
  const model = row.model;
  const stream = row.stream ? { stream: true } : {};
  const messages = [{ role: "user", content: "…" }];
  switch (row.inbound) {
    case "openai.responses": return { model, input: "…", ...stream };
    case "openai.completions": return { model, prompt: "…", ...stream };
    case "openai.embeddings": return { model, input: "…" };
    case "anthropic.messages": return { model, max_tokens: 1024, messages, ...stream };
    case "anthropic.count_tokens": return { model, messages };
    default: return { model, messages, ...stream };
  }
}

/** Single-quoted for a POSIX shell: a ' inside becomes '\''. */
export function shellQuote(s) {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command. `payload` is the detail's payload (or null): its request body
 * is replayed as stored when it is whole JSON; a truncated or missing one
 * gives the skeleton, marked as such.
 */
export function curlCommand(row, payload, origin = location.origin) {
  const path = INBOUND_PATHS[row.inbound] || INBOUND_PATHS["openai.chat"];
  const stored = payload && payload.request !== null && payload.request !== undefined && !payload.request_truncated;
  let body;
  if (stored) body = typeof payload.request === "string" ? payload.request : JSON.stringify(payload.request);
  else body = JSON.stringify(skeleton(row));
  const lines = [
    `curl ${row.stream ? "-N " : ""}${shellQuote(origin + path)}`,
    // Double quotes: the shell fills in the variable.
    `-H "Authorization: Bearer $SWITCHYARD_KEY"`,
    `-H 'Content-Type: application/json'`,
  ];
  if (row.inbound && row.inbound.startsWith("anthropic.")) lines.push(`-H 'anthropic-version: 2023-06-01'`);
  lines.push(`-d ${shellQuote(body)}`);
  const cmd = lines.join(" \\\n  ");
  return stored ? cmd : `# The request body was not stored: a skeleton with the logged model.\n${cmd}`;
}
