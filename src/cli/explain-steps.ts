/**
 * explain-steps: one rule against one object, step by step, as data: why the watch selects the
 * object or not, whether the rule listens to the event, the value of `when` and of its top-level
 * `and`/`or` operands, and the rendered actions. Pure: everything comes through the engine.
 */
import { realClock, type Clock, type KubeObject } from '../core/index.js';
import {
  bindingsFor,
  emptyLister,
  evaluateRule,
  Expression,
  futureTime,
  RuleEvaluationError,
  selects,
  truthy,
  watchesOf,
  type CompiledRule,
  type CompiledWatch,
  type KindScope,
  type ObjectLister,
  type Plan,
  type RuleEvent,
} from '../engine/index.js';

/** One check of the selection: what was checked, whether it passed, and why. */
export interface SelectionCheck {
  what: string;
  ok: boolean;
  why: string;
}

/** A `when` expression (or one of its operands) and its value. */
export interface WhenPart {
  source: string;
  value?: unknown;
  truthy?: boolean;
  error?: string;
  /** Operands of a top-level `and` / `or`. */
  op?: 'and' | 'or';
  parts?: WhenPart[];
}

/** Everything `reflex explain` shows. */
export interface Explanation {
  rule: CompiledRule;
  object: KubeObject;
  event: RuleEvent;
  selection: SelectionCheck[];
  selected: boolean;
  listens: boolean;
  /** Undefined when the rule has no `when` (always true). */
  when?: WhenPart;
  /** Undefined when the rule has no `recheckAt`. */
  recheck?: RecheckPart;
  /** The planned actions; when `when` is false, the actions the rule would plan if it were true. */
  actions: Plan;
  /** Whether the rule would act: selected, listening, and `when` true. */
  acts: boolean;
  /** An evaluation error of the actions, if any. */
  error?: string;
}

/** `recheckAt` and what it asks for: `at` is set when its time lies after now (the daemon then evaluates again). */
export interface RecheckPart {
  source: string;
  value?: unknown;
  at?: number;
  error?: string;
}

export interface ExplainContext {
  clock?: Clock;
  lister?: ObjectLister;
  scopeOf?: (apiVersion: string, kind: string) => KindScope | undefined;
}

const labelsText = (l: Record<string, string> | undefined) =>
  l && Object.keys(l).length ? Object.entries(l).map(([k, v]) => `${k}=${v}`).join(',') : '(none)';
const selectorText = (s: unknown) => (typeof s === 'string' ? s : JSON.stringify(s));

const watchText = (w: CompiledWatch) => `${w.apiVersion} ${w.kind}`;

/**
 * The selection checks on the object, each with its reason: of the watch (of the object's kind)
 * that selects it, else of the first watch of its kind, else the kind check alone.
 */
async function selection(rule: CompiledRule, obj: KubeObject, lister: ObjectLister): Promise<SelectionCheck[]> {
  const candidates = watchesOf(rule, obj);
  const watched = rule.watches.map(watchText).join(', ');
  if (candidates.length === 0) return [{ what: 'kind', ok: false, why: `the rule watches ${watched}; the object is ${obj.apiVersion} ${obj.kind}` }];
  let first: SelectionCheck[] | undefined;
  for (const w of candidates) {
    const checks = await watchChecks(rule, w, obj, lister);
    if (rule.watches.length > 1) checks[0].why += ` (spec.watch[${w.index}])`;
    if (checks.every((c) => c.ok)) return checks;
    first ??= checks;
  }
  return first!;
}

async function watchChecks(rule: CompiledRule, w: CompiledWatch, obj: KubeObject, lister: ObjectLister): Promise<SelectionCheck[]> {
  const written = rule.document.spec.watch;
  const doc = Array.isArray(written) ? written[w.index] : written;
  const out: SelectionCheck[] = [];
  out.push({ what: 'kind', ok: true, why: `the rule watches ${rule.watches.map(watchText).join(', ')}; the object is ${obj.apiVersion} ${obj.kind}` });
  const isNamespace = obj.apiVersion === 'v1' && obj.kind === 'Namespace';
  const ns = obj.metadata?.namespace ?? (isNamespace ? obj.metadata?.name : undefined);
  if (w.namespaces) {
    const ok = ns !== undefined && w.namespaces.includes(ns);
    out.push({ what: 'namespaces', ok, why: `[${w.namespaces.join(', ')}] ${ok ? 'includes' : 'does not include'} ${ns === undefined ? 'a cluster-scoped object' : `"${ns}"`}` });
  }
  const labels = obj.metadata?.labels;
  if (w.labelSelector) {
    const ok = w.labelSelector.matches(labels);
    out.push({ what: 'labelSelector', ok, why: `"${selectorText(doc.labelSelector)}" ${ok ? 'matches' : 'does not match'} labels ${labelsText(labels)}` });
  }
  if (w.fieldSelector) {
    const ok = w.fieldSelector.matches(obj);
    const values = w.fieldSelector.requirements.map((r) => {
      let v: unknown = obj;
      for (const p of r.path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
      return `${r.field}=${v === undefined ? '(unset)' : JSON.stringify(v)}`;
    });
    out.push({ what: 'fieldSelector', ok, why: `"${w.fieldSelector.toString()}" ${ok ? 'matches' : 'does not match'} ${values.join(', ')}` });
  }
  if (w.namespaceSelector) {
    const text = `"${selectorText(doc.namespaceSelector)}"`;
    if (isNamespace) {
      const ok = w.namespaceSelector.matches(labels);
      out.push({ what: 'namespaceSelector', ok, why: `${text} ${ok ? 'matches' : 'does not match'} the Namespace's own labels ${labelsText(labels)}` });
    } else if (ns === undefined) {
      out.push({ what: 'namespaceSelector', ok: true, why: `${text} does not apply to a cluster-scoped object` });
    } else {
      const nsObj = await lister.get('v1', 'Namespace', undefined, ns);
      const ok = !!nsObj && w.namespaceSelector.matches(nsObj.metadata?.labels);
      const why = nsObj ? `${text} ${ok ? 'matches' : 'does not match'} Namespace ${ns}'s labels ${labelsText(nsObj.metadata?.labels)}` : `${text}: Namespace ${ns} is not known, so it cannot match`;
      out.push({ what: 'namespaceSelector', ok, why });
    }
  }
  return out;
}

/** Splits `source` at top-level occurrences of the word `op` (outside brackets, strings and comments). */
export function splitTopLevel(source: string, op: 'and' | 'or' | ';'): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 1;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    else if (depth === 0 && source.startsWith(op, i) && !/[\w$.]/.test(source[i - 1] ?? ' ') && !/[\w$]/.test(source[i + op.length] ?? ' ')) {
      parts.push(source.slice(start, i).trim());
      start = i + op.length;
      i += op.length - 1;
    }
  }
  parts.push(source.slice(start).trim());
  return parts.filter((p) => p !== '');
}

/** Drops parentheses that wrap the whole expression. */
function unwrap(source: string): string {
  const s = source.trim();
  if (!s.startsWith('(') || !s.endsWith(')')) return s;
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    if (depth === 0 && i < s.length - 1) return s;
  }
  return unwrap(s.slice(1, -1));
}

async function explainWhen(source: string, obj: KubeObject, bindings: Record<string, unknown>, level: number): Promise<WhenPart> {
  const part: WhenPart = { source: source.trim() };
  try {
    part.value = await new Expression(source).evaluate(obj, bindings);
    part.truthy = truthy(part.value);
  } catch (err) {
    part.error = (err as Error).message;
  }
  if (level >= 2) return part;
  const inner = unwrap(source);
  // A block (`$x := …; …`) is one expression: its operands need its variables.
  if (splitTopLevel(inner, ';').length > 1) return part;
  for (const op of ['or', 'and'] as const) {
    const pieces = splitTopLevel(inner, op);
    if (pieces.length < 2) continue;
    part.op = op;
    part.parts = await Promise.all(pieces.map((p) => explainWhen(p, obj, bindings, level + 1)));
    break;
  }
  return part;
}

async function explainRecheck(e: Expression, obj: KubeObject, bindings: Record<string, unknown>, now: number): Promise<RecheckPart> {
  const part: RecheckPart = { source: e.source.trim() };
  try {
    part.value = await e.evaluate(obj, bindings);
    part.at = futureTime(part.value, now);
  } catch (err) {
    part.error = (err as Error).message;
  }
  return part;
}

/** The event to present by default: `sync` when the rule listens to it, else `schedule` for a schedule, else its first event. */
export function defaultEvent(rule: CompiledRule): RuleEvent {
  if (rule.on.includes('sync')) return 'sync';
  if (rule.schedule && rule.on.includes('schedule')) return 'schedule';
  return rule.on[0] ?? 'sync';
}

/** Explains `rule` for `event` on `obj`. Never rejects for an evaluation error: it is part of the explanation. */
export async function explain(rule: CompiledRule, obj: KubeObject, event: RuleEvent, context: ExplainContext = {}): Promise<Explanation> {
  const lister = context.lister ?? emptyLister;
  const clock = context.clock ?? realClock;
  const ctx = { clock, lister, scopeOf: context.scopeOf };
  const checks = await selection(rule, obj, lister);
  const selected = await selects(rule, obj, ctx);
  const listens = !rule.suspend && rule.on.includes(event);
  const meta = rule.document.metadata;
  const bindings = bindingsFor({ clock, lister, event, old: undefined, rule: { ...meta, ...(rule.description !== undefined ? { description: rule.description } : {}), mode: rule.mode } });
  const when = rule.when === undefined ? undefined : typeof rule.when === 'boolean' ? { source: String(rule.when), value: rule.when, truthy: rule.when } : await explainWhen(rule.when.source, obj, bindings, 0);
  const whenTrue = when === undefined || when.truthy === true;
  const out: Explanation = { rule, object: obj, event, selection: checks, selected, listens, when, actions: [], acts: selected && listens && whenTrue };
  if (rule.recheckAt) out.recheck = await explainRecheck(rule.recheckAt, obj, bindings, clock.now());
  if (!selected) return out;
  try {
    // The same rule with `when` always true and listening to the event: the actions as they would render.
    out.actions = (await evaluateRule({ ...rule, suspend: false, when: undefined, recheckAt: undefined, on: [event] }, event, obj, undefined, ctx)).plan;
  } catch (err) {
    if (!(err instanceof RuleEvaluationError)) throw err;
    out.error = err.message;
  }
  return out;
}
