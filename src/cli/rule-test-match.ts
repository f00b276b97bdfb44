/** rule-test-match: planned actions against expectations (subset match), and how a plan reads in a report. */
import type { Plan, PlannedAction } from '../engine/index.js';
import type { Expectation } from './rule-test-format.js';

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

/**
 * The first difference between `expected` and `actual` at `path`, or undefined when `actual`
 * contains `expected`: maps key by key (extra keys in `actual` are fine), arrays item by item
 * with the same length, scalars by value.
 */
export function subsetDifference(expected: unknown, actual: unknown, path: string): string | undefined {
  if (isMap(expected)) {
    if (!isMap(actual)) return `${path}: expected a mapping, got ${show(actual)}`;
    for (const [k, v] of Object.entries(expected)) {
      const d = subsetDifference(v, actual[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected a list, got ${show(actual)}`;
    if (actual.length !== expected.length) return `${path}: expected ${expected.length} items, got ${actual.length}: ${show(actual)}`;
    for (let i = 0; i < expected.length; i++) {
      const d = subsetDifference(expected[i], actual[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  return expected === actual ? undefined : `${path}: expected ${show(expected)}, got ${show(actual)}`;
}

const ref = (r: { kind: string; namespace?: string; name: string }) => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;

/** One planned action on one line: `delete Job ci/build-7 (rule delete-finished-jobs, on resync of Job ci/build-7)`. */
export function describeAction(p: PlannedAction): string {
  return `${p.action} ${ref(p.target)} (rule ${p.rule}, on ${p.trigger.event} of ${ref(p.trigger)})`;
}

/** The first way `plan` differs from `expected`, or undefined when it matches. */
export function planDifference(expected: Expectation, plan: Plan): string | undefined {
  const listed = () => plan.map((p, i) => `\n      [${i}] ${describeAction(p)}`).join('');
  if (expected.length === 0 && plan.length > 0) return `expected no actions, but ${plan.length} were planned:${listed()}`;
  if (plan.length !== expected.length) {
    return `expected ${expected.length} planned action${expected.length === 1 ? '' : 's'}, got ${plan.length}${plan.length ? ':' : ''}${listed()}`;
  }
  for (let i = 0; i < expected.length; i++) {
    const d = subsetDifference(expected[i], plan[i], `actions[${i}]`);
    if (d) return `${d}\n      in [${i}] ${describeAction(plan[i])}`;
  }
  return undefined;
}
