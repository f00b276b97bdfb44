/**
 * rule-conditions: the status of a rule object (ClusterRule, Rule) as a function of what the
 * daemon knows of its rule: loaded or invalid, waiting for its kind, syncing, failing, and its
 * counters. Conditions `Ready`, `Stalled` and `Reconciling` are always all three, with one reason
 * and message saying why; a condition's lastTransitionTime changes only when its status flips.
 */
import type { RuleLoadError } from '../engine/index.js';
import type { RuleState } from './rule-registry.js';

export interface RuleCondition {
  type: 'Ready' | 'Stalled' | 'Reconciling';
  status: 'True' | 'False' | 'Unknown';
  observedGeneration: number;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

/** The `status` of a rule object (the CRD's status schema). */
export interface RuleObjectStatus {
  observedGeneration: number;
  conditions: RuleCondition[];
  objectsMatched: number;
  evaluations: number;
  actionsSucceeded: number;
  actionsFailed: number;
  /** Null clears it (the status is written as a merge patch). */
  lastEvaluationTime: string | null;
  lastError: string | null;
}

/** What the daemon counts of a rule since it started (as leader or sharing the work). */
export interface RuleCounters {
  evaluations: number;
  actionsSucceeded: number;
  actionsFailed: number;
  /** Clock ms. */
  lastEvaluationAt?: number;
  lastError?: string;
}

export interface StatusInputs {
  /** The object's metadata.generation the daemon loaded. */
  generation: number;
  /** The loader's problems with that generation, one message. */
  invalid?: string;
  /** The previous good version keeps running (the new one is invalid). */
  kept?: boolean;
  /** The rule in the registry; undefined while it is not (being) loaded. */
  rule?: RuleState;
  /** Objects whose last processing failed for good (or was forbidden): the newest failure and how many. */
  failing?: { reason: string; message: string; objects: number };
  counters: RuleCounters;
}

/** Seconds precision, as metav1.Time. */
export const rfc3339 = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

interface Verdict {
  ready: boolean;
  stalled: boolean;
  reconciling: boolean;
  reason: string;
  message: string;
}

function verdict(i: StatusInputs): Verdict {
  const no = { ready: false, stalled: false, reconciling: false };
  if (i.invalid !== undefined) {
    const kept = i.kept ? ' (the previous version of the rule keeps running)' : '';
    return { ...no, stalled: true, reason: 'InvalidRule', message: `${i.invalid}${kept}` };
  }
  const r = i.rule;
  if (!r || (r.state === 'pending' && r.reason === undefined)) return { ...no, reconciling: true, reason: 'Loading', message: 'the rule is being loaded' };
  if (r.state === 'pending') return { ...no, reconciling: true, reason: 'KindNotServed', message: `waiting: ${r.reason}` };
  if (!r.synced) return { ...no, reconciling: true, reason: 'Syncing', message: 'the first listing of the watched objects is running' };
  if (i.failing) {
    const more = i.failing.objects > 1 ? ` (and ${i.failing.objects - 1} more object${i.failing.objects > 2 ? 's' : ''} failing)` : '';
    const reason = i.failing.reason === 'Forbidden' ? 'Forbidden' : 'ActionsFailing';
    return { ...no, stalled: true, reason, message: `${i.failing.message}${more}` };
  }
  return { ...no, ready: true, reason: 'Loaded', message: `active; ${r.objects} object${r.objects === 1 ? '' : 's'} watched` };
}

/**
 * The status to write: the conditions of `inputs`, each keeping the lastTransitionTime of
 * `previous` (the status on the server, or last written) while its status is unchanged.
 */
export function desiredStatus(inputs: StatusInputs, previous: unknown, now: number): RuleObjectStatus {
  const v = verdict(inputs);
  const before = new Map(conditionsOf(previous).map((c) => [c.type, c]));
  const condition = (type: RuleCondition['type'], on: boolean): RuleCondition => {
    const status = on ? 'True' : 'False';
    const prev = before.get(type);
    const lastTransitionTime = prev?.status === status && typeof prev.lastTransitionTime === 'string' ? prev.lastTransitionTime : rfc3339(now);
    return { type, status, observedGeneration: inputs.generation, reason: v.reason, message: v.message, lastTransitionTime };
  };
  const c = inputs.counters;
  return {
    observedGeneration: inputs.generation,
    conditions: [condition('Ready', v.ready), condition('Stalled', v.stalled), condition('Reconciling', v.reconciling)],
    objectsMatched: inputs.rule?.state === 'active' ? inputs.rule.objects : 0,
    evaluations: c.evaluations,
    actionsSucceeded: c.actionsSucceeded,
    actionsFailed: c.actionsFailed,
    lastEvaluationTime: c.lastEvaluationAt !== undefined ? rfc3339(c.lastEvaluationAt) : null,
    lastError: c.lastError ?? null,
  };
}

/** Whether the status says only that loading or the first sync is under way (usually over in a moment). */
export function isStarting(s: RuleObjectStatus): boolean {
  const reason = s.conditions[0]?.reason;
  return reason === 'Loading' || reason === 'Syncing';
}

/** Whether a waiting state (its kind, its first sync) may end without any event of the rule. */
export function isWaiting(s: RuleObjectStatus): boolean {
  return s.conditions.some((c) => c.type === 'Reconciling' && c.status === 'True');
}

function conditionsOf(status: unknown): Partial<RuleCondition>[] {
  const list = (status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(list) ? (list as Partial<RuleCondition>[]) : [];
}

/** Whether `status` (as on the server: absent fields for nulls) already says all of `want`. */
export function sameStatus(want: RuleObjectStatus, status: unknown): boolean {
  if (!status || typeof status !== 'object') return false;
  const have = status as Record<string, unknown>;
  for (const [k, v] of Object.entries(want)) {
    if (k === 'conditions') continue;
    if ((v ?? undefined) !== (have[k] ?? undefined)) return false;
  }
  const cs = conditionsOf(status);
  if (cs.length !== want.conditions.length) return false;
  return want.conditions.every((w, i) => (Object.keys(w) as (keyof RuleCondition)[]).every((k) => cs[i][k] === w[k]));
}

/**
 * The `InvalidRule` message of a rule object's load problems: each as `FIELD:LINE:COL: WHAT`, the
 * position counted inside the field's text (`spec.when:1:14: …`), or `FIELD: WHAT` when the
 * problem is not inside a text; `text` is the source the loader read (a JSON text).
 */
export function invalidRuleMessage(errors: RuleLoadError[], text: string): string {
  const lines = text.split('\n');
  return errors
    .map((e) => {
      const what = e.reason.replace(/^rule "[^"]*" \(document \d+\): /, '').replace(/^document \d+: /, '');
      const at = positionInString(lines[e.location.line - 1] ?? '', e.location.column);
      const field = /^([A-Za-z][\w.[\]/-]*): /.exec(what);
      if (!at || !field) return what;
      return `${field[1]}:${at.line}:${at.column}: ${what.slice(field[0].length)}`;
    })
    .join('; ');
}

/**
 * Where 1-based `column` of a JSON `line` points inside the decoded string it falls in: the line
 * and column within that string's text. Undefined when it is not inside a string's value.
 */
export function positionInString(line: string, column: number): { line: number; column: number } | undefined {
  const at = column - 1;
  let i = 0;
  while (i < line.length) {
    if (line[i] !== '"') {
      i++;
      continue;
    }
    let end = i + 1;
    while (end < line.length && line[end] !== '"') end += line[end] === '\\' ? 2 : 1;
    if (at > i && at <= end) {
      let before: string;
      try {
        before = JSON.parse(`"${line.slice(i + 1, at)}"`) as string;
      } catch {
        return undefined;
      }
      const nl = before.lastIndexOf('\n');
      return { line: before.split('\n').length, column: before.length - nl };
    }
    i = end + 1;
  }
  return undefined;
}
