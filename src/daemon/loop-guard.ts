/**
 * LoopGuard: the per-object action budget of design.md §2 (`actionsPerObjectPerMinute`). It
 * counts, per (rule, object) key, the writes that changed something within a sliding window;
 * a plan that would go over the budget trips it. Memory is bounded by the keys active within
 * the window: empty windows are dropped.
 */
import type { ActionResult } from '../actions/index.js';
import type { Plan } from '../engine/index.js';

/** The window of the budget (design.md: per minute). */
export const LOOP_WINDOW_MS = 60_000;

const WRITES = new Set(['apply', 'create', 'update', 'patch', 'delete']);

/** Whether an executed action changed the cluster: a write, done, not audited, not a dry run, not a no-op. */
export function changedSomething(r: ActionResult): boolean {
  return WRITES.has(r.action) && r.status === 'done' && !r.audit && !r.dryRun && r.changed !== false;
}

export class LoopGuard {
  private readonly writes = new Map<string, number[]>();
  private readonly reported = new Map<string, number>();
  private lastPrune = 0;

  /** Whether running `plan` on `key` at `now` would exceed `budget` writes within the window. */
  trips(key: string, plan: Plan, budget: number, now: number): boolean {
    const recent = this.recent(key, now);
    const planned = plan.filter((p) => WRITES.has(p.action)).length;
    return planned > 0 && recent + planned > budget;
  }

  /** True the first time per window that a tripped key should be reported. */
  shouldReport(key: string, now: number): boolean {
    const last = this.reported.get(key);
    if (last !== undefined && now - last < LOOP_WINDOW_MS) return false;
    this.reported.set(key, now);
    return true;
  }

  /** Records the writes among `results` that changed something. */
  record(key: string, results: ActionResult[], now: number): void {
    const n = results.filter(changedSomething).length;
    if (n > 0) {
      const list = this.writes.get(key) ?? [];
      for (let i = 0; i < n; i++) list.push(now);
      this.writes.set(key, list);
    }
    this.prune(now);
  }

  /** Keys with writes inside the window (for tests and metrics). */
  size(): number {
    return this.writes.size;
  }

  private recent(key: string, now: number): number {
    const list = this.writes.get(key);
    if (!list) return 0;
    const kept = list.filter((t) => now - t < LOOP_WINDOW_MS);
    if (kept.length === 0) this.writes.delete(key);
    else this.writes.set(key, kept);
    return kept.length;
  }

  /** Drops every key whose window is empty, at most once per window. */
  private prune(now: number): void {
    if (now - this.lastPrune < LOOP_WINDOW_MS) return;
    this.lastPrune = now;
    for (const key of [...this.writes.keys()]) this.recent(key, now);
    for (const [key, at] of this.reported) if (now - at >= LOOP_WINDOW_MS) this.reported.delete(key);
  }
}
