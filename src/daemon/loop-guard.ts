/**
 * LoopGuard: the action budget (`actionsPerObjectPerMinute`, docs/rules.md), counted per
 * (rule, target): the writes of one rule to one object that changed something, within a sliding
 * minute. It is checked before each write, so one change fanned out to many targets (one write
 * each) never trips it, while two writers flipping one object do. Memory is bounded by the
 * (rule, target) pairs written within the window: empty windows are dropped.
 */
import type { ActionResult } from '../actions/index.js';
import type { PlannedRef } from '../engine/index.js';

/** The window of the budget (per minute). */
export const LOOP_WINDOW_MS = 60_000;

const WRITES = new Set(['apply', 'create', 'update', 'patch', 'delete']);

/** Whether an action kind writes to the cluster (what the budget is about). */
export function isWrite(action: string): boolean {
  return WRITES.has(action);
}

/** Whether an executed action changed the cluster: a write, done, not audited, not a dry run, not a no-op. */
export function changedSomething(r: ActionResult): boolean {
  return WRITES.has(r.action) && r.status === 'done' && !r.audit && !r.dryRun && r.changed !== false;
}

/** The budget's key of one rule writing one object. */
export function guardKey(rule: string, t: PlannedRef): string {
  return `${rule}|${t.apiVersion}|${t.kind}|${t.namespace ?? ''}/${t.name}`;
}

export class LoopGuard {
  private readonly writes = new Map<string, number[]>();
  private readonly reported = new Map<string, number>();
  private lastPrune = 0;

  /** Whether one more write by `rule` to `target` at `now` would go over `budget` changing writes within the window. */
  trips(rule: string, target: PlannedRef, budget: number, now: number): boolean {
    if (!target.name) return false; // a create with generateName: a new object each time, never one object written back and forth
    return this.recent(guardKey(rule, target), now) + 1 > budget;
  }

  /** True the first time per window that a tripped (rule, target) should be reported. */
  shouldReport(rule: string, target: PlannedRef, now: number): boolean {
    const key = guardKey(rule, target);
    const last = this.reported.get(key);
    if (last !== undefined && now - last < LOOP_WINDOW_MS) return false;
    this.reported.set(key, now);
    return true;
  }

  /** Records `result` of `rule` when it is a write that changed something. */
  record(rule: string, result: ActionResult, now: number): void {
    if (changedSomething(result) && result.target.name) {
      const key = guardKey(rule, result.target);
      const list = this.writes.get(key) ?? [];
      list.push(now);
      this.writes.set(key, list);
    }
    this.prune(now);
  }

  /** (rule, target) pairs with writes inside the window (for tests and metrics). */
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
