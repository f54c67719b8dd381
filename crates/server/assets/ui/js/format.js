// How numbers, durations, costs and times read on the observability pages.

export function int(n) {
  return n === null || n === undefined ? "—" : Math.round(n).toLocaleString("en-US");
}

/** 1234 → "1.2k", for tiles and axes where the digits do not matter. */
export function compact(n) {
  if (n === null || n === undefined) return "—";
  return Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 }).format(n);
}

/** A cost; `null` means no price covered the model, which is not $0. */
export function usd(v) {
  if (v === null || v === undefined) return "no price";
  if (v === 0) return "$0";
  return `$${v.toFixed(v < 0.01 ? 6 : v < 1 ? 4 : 2)}`;
}

export function ms(v) {
  if (v === null || v === undefined) return "—";
  return v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(v < 10000 ? 2 : 1)} s`;
}

/** Local date and time to the second, e.g. "2026-12-02 10:04:05". */
export function time(msSinceEpoch) {
  const d = new Date(msSinceEpoch);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The status class a status belongs to: "2xx", "4xx", "5xx". */
export function statusClass(status) {
  return `${String(status)[0]}xx`;
}
