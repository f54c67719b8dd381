// The management API client, and what every page reads from it.

/** Filled at start (/api/meta) and at every render (/api/providers). */
export const state = { meta: { request_types: [], base_formats: ["openai", "anthropic"] }, providers: [] };

export async function api(method, path, body) {
  const opts = { method, headers: { "X-Requested-With": "switchyard" } };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  if (res.status === 401) { location.href = "/login"; throw new Error("not signed in"); }
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const err = new Error((data && data.error && data.error.message) || res.statusText);
    err.details = (data && data.error && data.error.details) || [];
    err.status = res.status;
    throw err;
  }
  return data;
}
