// The management API client, and what every page reads from it.

/** Filled at start (/api/meta) and at every render (/api/providers). */
export const state = { meta: { request_types: [], base_formats: ["openai", "anthropic"] }, providers: [] };

/** `path?query` from an object, leaving out empty values (the API refuses some empty filters). */
export function withQuery(path, params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") qs.set(k, String(v));
  }
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

function apiError(res, data) {
  const err = new Error((data && data.error && data.error.message) || res.statusText || `HTTP ${res.status}`);
  err.details = (data && data.error && data.error.details) || [];
  err.status = res.status;
  return err;
}

export async function api(method, path, body) {
  const opts = { method, headers: { "X-Requested-With": "switchyard" } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  if (res.status === 401) { location.href = "/login"; throw new Error("not signed in"); }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { if (res.ok) throw new Error(`${path}: the answer is not JSON`); }
  if (!res.ok) throw apiError(res, data);
  return data;
}

/**
 * A server-sent event stream (`EventSource`, which sends the session cookie).
 * `on.message(data)` per default event, `on[name](data)` per named event,
 * `on.state("open" | "retrying" | "closed", error?)`. EventSource hides why a
 * stream was refused, so a refused one is asked again with fetch to get the
 * API's message. Returns `close()`.
 */
export function subscribe(path, on) {
  const source = new EventSource(path);
  const parse = (e) => { try { return JSON.parse(e.data); } catch { return e.data; } };
  source.onmessage = (e) => on.message && on.message(parse(e));
  for (const name of Object.keys(on)) {
    if (!["message", "state"].includes(name)) source.addEventListener(name, (e) => on[name](parse(e)));
  }
  source.onopen = () => on.state && on.state("open");
  source.onerror = async () => {
    if (source.readyState !== EventSource.CLOSED) { if (on.state) on.state("retrying"); return; }
    const ctl = new AbortController();
    let err = new Error("the server closed the stream");
    try {
      const res = await fetch(path, { headers: { "X-Requested-With": "switchyard" }, signal: ctl.signal });
      if (!res.ok) err = apiError(res, await res.json().catch(() => null));
      else if (!(res.headers.get("content-type") || "").startsWith("text/event-stream")) err = new Error(`${path.split("?")[0]} is not an event stream`);
    } catch (e) { err = e; }
    ctl.abort();
    if (on.state) on.state("closed", err);
  };
  return () => source.close();
}
