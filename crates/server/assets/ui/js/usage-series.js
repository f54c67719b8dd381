// GET /api/usage answers turned into what the charts draw: one x value per
// bucket of the range (a bucket with no rollup row had no traffic: 0, or no
// percentile), one series per group and measure.

export const HOUR = 3600e3;
export const DAY = 24 * HOUR;
/** The most groups drawn in one chart; the others are named in a note. */
export const MAX_GROUPS = 8;

/** Hour buckets up to two days, day buckets beyond. */
export function bucketFor(since, until) {
  return until - since <= 2 * DAY ? "hour" : "day";
}

/** Every bucket start in [since, until], and any the server answered with. */
export function bucketStarts(since, until, step, answered) {
  const xs = new Set(answered);
  for (let t = Math.floor(since / step) * step; t <= until; t += step) xs.add(t);
  return [...xs].sort((a, b) => a - b);
}

/** The groups by requests, most first; `null` (no grouping) is "All requests". */
export function rankGroups(data) {
  const total = new Map();
  for (const r of data) total.set(r.group, (total.get(r.group) || 0) + r.requests);
  return [...total.entries()].sort((a, b) => b[1] - a[1]).map(([g]) => g);
}

/**
 * `measures`: [{ field, suffix, dashed, sum }] — `sum` measures are 0 in an
 * empty bucket, percentiles are null. `names(group)` labels a group.
 */
export function seriesModel(answer, xs, groups, measures, names) {
  const index = new Map(xs.map((x, i) => [x, i]));
  const series = [];
  groups.forEach((g, gi) => {
    for (const m of measures) {
      const values = xs.map(() => (m.sum ? 0 : null));
      for (const r of answer.data) {
        if (r.group !== g || !index.has(r.bucket_start_ms)) continue;
        const v = r[m.field];
        const i = index.get(r.bucket_start_ms);
        values[i] = m.sum ? values[i] + (v || 0) : v ?? null;
      }
      const base = names(g);
      const label = m.suffix ? (groups.length === 1 && g === null ? m.suffix : `${base} · ${m.suffix}`) : base;
      series.push({ label, values, dashed: m.dashed, colorIndex: gi });
    }
  });
  return { xs, series };
}
