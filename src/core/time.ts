/** time: durations as rules and configuration write them, and the API server's MicroTime. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration: one or more `<number><unit>` with units ms, s, m, h (`1h30m`, `10m`, `45s`,
 * `250ms`, `0.5s`) into milliseconds; undefined when malformed (`5x10s`, `10`, ``).
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]];
  return total;
}

/** A metav1.MicroTime: RFC 3339 with microseconds, as Leases and events.k8s.io Events carry. */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
