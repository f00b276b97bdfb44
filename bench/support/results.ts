/** Formatting of the suite's figures, and its section of bench/RESULTS.md (other sections are kept). */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../test/support/control-plane.js';

export const secs = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
export const mib = (m: number): string => `${Math.round(m)} MiB`;
export const ms1 = (ms: number): string => `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
export const int = (n: number): string => Math.round(n).toLocaleString('en-US');
/** `(0.62×)`: Reflex's figure over the peer's. */
export const ratio = (reflex: number, peer: number): string => `(${(reflex / peer).toFixed(2)}×)`;
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export const SECTION = '## Suite: Reflex next to client-node and client-go';

/** Replaces (or appends) the suite's section (or the one under `heading`) of bench/RESULTS.md. */
export function writeSection(body: string, heading = SECTION): string {
  const file = join(repoRoot, 'bench', 'RESULTS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const section = `${heading}\n\n${body.trim()}\n`;
  const start = current.indexOf(heading);
  let next: string;
  if (start < 0) next = `${current.trimEnd()}\n\n${section}`;
  else {
    const end = current.indexOf('\n## ', start + 1);
    next = current.slice(0, start) + section + (end < 0 ? '' : `\n${current.slice(end + 1)}`);
  }
  writeFileSync(file, `${next.trimEnd()}\n`);
  return file;
}
