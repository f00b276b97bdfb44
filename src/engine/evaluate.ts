/**
 * evaluate: one rule, one event, one object → a Plan. Pure: reads only the object, its previous
 * state, the clock and the read-only lister of the context. Deterministic for a given input.
 */
import { realClock, stampOwnership, type Clock, type KubeObject } from '../core/index.js';
import { RuleEvaluationError } from './errors.js';
import { bindingsFor, Expression, truthy, type EvaluationScope } from './expression.js';
import type { RequiredEquality } from './fast-path.js';
import { planGenerated } from './generate.js';
import type { CompiledAction, CompiledRule, CompiledWatch } from './rule.js';
import { plainOf, renderTemplate, run, type TemplateNode } from './template.js';
import { actionFields, checkRendered } from './rendered-check.js';
import { confinedLister } from './tenant.js';
import { emptyLister, type Evaluation, type KindScope, type ObjectLister, type Plan, type PlannedAction, type PlannedRef, type RuleEvent } from './types.js';

/** What an evaluation reads besides the object. */
export interface EvaluationContext {
  /** Source of `$now()` and `$millis()`. Default the real clock. */
  clock?: Clock;
  /** Cached objects for `$get`, `$list`, namespaceSelector and update's `$target`. Default: none. */
  lister?: ObjectLister;
  /**
   * Scope of a kind, to place a target given without namespace in the trigger's namespace. May answer
   * asynchronously (the daemon asks discovery). Default: unknown (no namespace).
   */
  scopeOf?: (apiVersion: string, kind: string) => KindScope | undefined | Promise<KindScope | undefined>;
  /** Told why an evaluation planned nothing before `when` decided (for traces: `changes unchanged`). */
  onFiltered?: (reason: FilterReason) => void;
}

/** Why a rule planned nothing for an object without its `when` being false. */
export type FilterReason = 'suspended' | 'event not listened to' | 'not selected' | 'changes unchanged';

/** What the engine remembers about a planned update, to render it again against a fresher `$target`. */
interface UpdateOrigin {
  rule: CompiledRule;
  action: CompiledAction;
  scope: EvaluationScope;
  object: KubeObject;
}
const updates = new WeakMap<PlannedAction, UpdateOrigin>();

/**
 * Whether `rule` is sure to plan nothing for `obj`, whatever the event: its `when` is decided
 * false on `obj` alone by the fast path (no JSONata, no bindings, no I/O). False when unsure.
 * The daemon uses it to avoid queueing work whose outcome is already known.
 */
export function rejects(rule: CompiledRule, obj: KubeObject): boolean {
  if (rule.when === undefined) return false;
  if (typeof rule.when === 'boolean') return !rule.when;
  return rule.when.decide(obj) === false;
}

/**
 * A `path = literal` that the rule's `when` needs true, or undefined. An object whose value at
 * `path` is plain and differs is rejected (see `rejects`) without evaluating anything: the
 * daemon indexes rules by it, so an event reaches only the rules it can match.
 */
export function prefilterOf(rule: CompiledRule): RequiredEquality | undefined {
  return rule.when instanceof Expression ? rule.when.requiredEquality : undefined;
}

/** The reference of an object as the planned-action JSON writes it. */
export function refOf(obj: KubeObject): PlannedRef {
  const ref: PlannedRef = { apiVersion: String(obj.apiVersion ?? ''), kind: String(obj.kind ?? ''), name: String(obj.metadata?.name ?? '') };
  const ns = obj.metadata?.namespace;
  return ns ? { apiVersion: ref.apiVersion, kind: ref.kind, namespace: ns, name: ref.name } : ref;
}

/** The rule's watches of the object's kind (none: the rule does not watch it). */
export function watchesOf(rule: CompiledRule, obj: { apiVersion?: unknown; kind?: unknown }): CompiledWatch[] {
  return rule.watches.filter((w) => w.apiVersion === obj.apiVersion && w.kind === obj.kind);
}

/**
 * Whether one of the rule's watches selects the object: kind, namespaces, label, field and
 * namespace selectors. Resolves to that watch (the first that does), or undefined.
 */
export async function selectingWatch(rule: CompiledRule, obj: KubeObject, context: EvaluationContext = {}): Promise<CompiledWatch | undefined> {
  for (const w of watchesOf(rule, obj)) {
    const local = selectsLocally(w, obj);
    if (local === true || (local === 'namespace' && (await namespaceSelected(w, obj, context)))) return w;
  }
  return undefined;
}

/** Whether the rule's watch (one of them) selects the object. */
export async function selects(rule: CompiledRule, obj: KubeObject, context: EvaluationContext = {}): Promise<boolean> {
  return (await selectingWatch(rule, obj, context)) !== undefined;
}

/** The checks of one watch (of the object's kind) that need no lister; `namespace` when the namespaceSelector still has to be checked. */
function selectsLocally(w: CompiledWatch, obj: KubeObject): boolean | 'namespace' {
  const isNamespace = obj.apiVersion === 'v1' && obj.kind === 'Namespace';
  const ns = obj.metadata?.namespace ?? (isNamespace ? obj.metadata?.name : undefined);
  if (w.namespaces && (ns === undefined || !w.namespaces.includes(ns))) return false;
  if (w.labelSelector && !w.labelSelector.matches(obj.metadata?.labels)) return false;
  if (w.fieldSelector && !w.fieldSelector.matches(obj)) return false;
  if (!w.namespaceSelector) return true;
  if (isNamespace) return w.namespaceSelector.matches(obj.metadata?.labels);
  return ns === undefined ? true : 'namespace';
}

async function namespaceSelected(w: CompiledWatch, obj: KubeObject, context: EvaluationContext): Promise<boolean> {
  const nsObj = await (context.lister ?? emptyLister).get('v1', 'Namespace', undefined, String(obj.metadata?.namespace));
  return nsObj !== undefined && w.namespaceSelector!.matches(nsObj.metadata?.labels);
}

/** `$rule` of each rule, built once. */
const ruleMeta = new WeakMap<CompiledRule, Record<string, unknown>>();

function scopeFor(rule: CompiledRule, event: RuleEvent, old: KubeObject | undefined, context: EvaluationContext): EvaluationScope {
  let meta = ruleMeta.get(rule);
  if (!meta) {
    meta = { ...rule.document.metadata, ...(rule.description !== undefined ? { description: rule.description } : {}), mode: rule.mode };
    ruleMeta.set(rule, meta);
  }
  const lister = context.lister ?? emptyLister;
  return { clock: context.clock ?? realClock, lister: rule.tenant === undefined ? lister : confinedLister(lister, rule.tenant, rule.name), event, old, rule: meta };
}

/**
 * Evaluates `rule` for `event` on `object` (for `delete`, its last state) with previous state `old`.
 * Resolves to the planned actions in action order (forEach items in their order) — for a generate
 * rule, the declared set D as planned applies (see generate.ts; empty on `delete`) — ; an empty plan when
 * the rule is suspended, does not listen to the event, does not select the object, `changes` saw no
 * change, or `when` is falsy. Rejects with RuleEvaluationError when an expression fails.
 * The same as `evaluateRule(…).plan`.
 */
export async function evaluate(
  rule: CompiledRule,
  event: RuleEvent,
  object: KubeObject,
  old: KubeObject | undefined,
  context: EvaluationContext = {},
): Promise<Plan> {
  return (await evaluateRule(rule, event, object, old, context)).plan;
}

/**
 * Evaluates like `evaluate`, and also says when to evaluate again: `recheckAt` is evaluated on
 * every evaluation that selects the object (whatever `changes` and `when` decide), and its time is
 * returned when it lies after the clock's now. A suspended rule, an event the rule does not listen
 * to, and an object it does not select give no re-check. Rejects with RuleEvaluationError when an
 * expression fails or `recheckAt` yields something that is not a time.
 */
export async function evaluateRule(
  rule: CompiledRule,
  event: RuleEvent,
  object: KubeObject,
  old: KubeObject | undefined,
  context: EvaluationContext = {},
): Promise<Evaluation> {
  const filtered = (reason: FilterReason): Evaluation => {
    context.onFiltered?.(reason);
    return { plan: [] };
  };
  if (rule.suspend) return filtered('suspended');
  if (!rule.on.includes(event)) return filtered('event not listened to');
  // A generate rule declares nothing for a trigger that went: D is empty, its objects are pruned.
  if (rule.generate && event === 'delete') return { plan: [] };
  if ((await selectingWatch(rule, object, context)) === undefined) return filtered('not selected');
  const scope = scopeFor(rule, event, old, context);
  const bindings = bindingsFor(scope);
  const recheckAt = rule.recheckAt ? recheckTime(rule, rule.recheckAt, await run(rule.recheckAt, object, bindings, rule.name, 'recheckAt'), scope.clock.now()) : undefined;
  const result = (plan: Plan): Evaluation => (recheckAt === undefined ? { plan } : { plan, recheckAt });
  if (event === 'update' && rule.changes && old) {
    const now = plainOf(await run(rule.changes, object, bindings, rule.name, 'changes'), rule.changes, rule.name, 'changes');
    const before = plainOf(await run(rule.changes, old, bindingsFor({ ...scope, old: undefined }), rule.name, 'changes'), rule.changes, rule.name, 'changes');
    if (JSON.stringify(now) === JSON.stringify(before)) {
      context.onFiltered?.('changes unchanged');
      return result([]);
    }
  }
  if (rule.when !== undefined) {
    const ok = typeof rule.when === 'boolean' ? rule.when : truthy(await run(rule.when, object, bindings, rule.name, 'when'));
    if (!ok) return result([]);
  }
  const trigger = { ...refOf(object), event };
  if (rule.generate) return result(await planGenerated(rule, trigger, object, scope, context.scopeOf ?? (() => undefined)));
  const plan: Plan = [];
  for (const action of rule.actions) {
    const where = `actions[${action.index}].forEach`;
    const items = action.forEach ? toItems(plainOf(await run(action.forEach, object, bindings, rule.name, where), action.forEach, rule.name, where)) : [undefined];
    for (const item of items) {
      const itemScope = action.forEach ? { ...scope, item } : scope;
      plan.push(await planAction(rule, action, trigger, object, itemScope, context));
    }
  }
  return result(plan);
}

function recheckTime(rule: CompiledRule, e: Expression, value: unknown, now: number): number | undefined {
  try {
    return futureTime(value, now);
  } catch (err) {
    throw new RuleEvaluationError(rule.name, 'recheckAt', e.source, (err as Error).message);
  }
}

/**
 * The value of `recheckAt` as a time after `now`, or undefined. It may be epoch milliseconds,
 * RFC 3339 text, undefined or null (no re-check), or a list of those (the earliest after now).
 * Throws a TypeError for anything else: a re-check silently lost would be worse than a rule error.
 */
export function futureTime(value: unknown, now: number): number | undefined {
  const times = Array.isArray(value) ? value : [value];
  let best: number | undefined;
  for (const v of times) {
    const t = timeOf(v);
    if (t === 'invalid') throw new TypeError(`expected a time (RFC 3339 text or epoch milliseconds), a list of times, or undefined; got ${JSON.stringify(v) ?? 'undefined'}`);
    if (t !== undefined && t > now && (best === undefined || t < best)) best = t;
  }
  return best;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function timeOf(v: unknown): number | undefined | 'invalid' {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? v : 'invalid';
  if (typeof v === 'string' && RFC3339.test(v)) {
    const t = Date.parse(v);
    return Number.isNaN(t) ? 'invalid' : t;
  }
  return 'invalid';
}

function toItems(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? (v as unknown[]) : [v];
}

/** The sub-template of field `key` of an action's fields. */
function field(node: TemplateNode, key: string): TemplateNode | undefined {
  if (node.t === 'lit') {
    const v = (node.v as Record<string, unknown> | null)?.[key];
    return v === undefined ? undefined : { t: 'lit', v };
  }
  if (node.t === 'obj') return node.entries.find(([k]) => k === key)?.[1];
  return undefined;
}

async function renderField(rule: CompiledRule, action: CompiledAction, key: string, object: KubeObject, scope: EvaluationScope): Promise<unknown> {
  const node = field(action.fields, key);
  return node ? renderTemplate(node, object, bindingsFor(scope), rule.name) : undefined;
}

async function resolveTarget(raw: unknown, trigger: PlannedRef, context: EvaluationContext): Promise<PlannedRef> {
  if (raw === undefined) return { ...trigger };
  const t = raw as Partial<PlannedRef>;
  const apiVersion = String(t.apiVersion ?? trigger.apiVersion);
  const kind = String(t.kind ?? trigger.kind);
  let namespace = t.namespace === undefined || t.namespace === null ? undefined : String(t.namespace);
  if (t.namespace === undefined) {
    const same = apiVersion === trigger.apiVersion && kind === trigger.kind;
    const scope = same ? undefined : await context.scopeOf?.(apiVersion, kind);
    if (same || scope === 'Namespaced') namespace = trigger.namespace;
  }
  return namespace ? { apiVersion, kind, namespace, name: String(t.name ?? '') } : { apiVersion, kind, name: String(t.name ?? '') };
}

/** The fields of each action that go into the planned action's `options` (the others make its target and body). */
const OPTION_FIELDS: Record<string, string[]> = {
  apply: ['force'],
  create: ['ifExists'],
  update: [],
  patch: ['type', 'subresource', 'ignoreMissing'],
  delete: ['propagationPolicy', 'gracePeriodSeconds', 'ignoreMissing'],
  event: [],
  log: ['level'],
  webhook: ['timeout'],
};

/**
 * Renders an action's fields, checks them against the action's rendered form (rendered-check.ts:
 * a value of the wrong type is a RenderedValueError, nothing is planned, nothing defaulted) and
 * builds the planned action from them.
 */
async function planAction(
  rule: CompiledRule,
  action: CompiledAction,
  trigger: PlannedAction['trigger'],
  object: KubeObject,
  scope: EvaluationScope,
  context: EvaluationContext,
): Promise<PlannedAction> {
  const triggerRef: PlannedRef = { ...trigger };
  delete (triggerRef as { event?: unknown }).event;
  const fields: Record<string, unknown> = {};
  for (const key of actionFields(action.kind)) {
    if (action.kind === 'update' && key === 'object') continue; // rendered against $target below
    const v = await renderField(rule, action, key, object, scope);
    if (v !== undefined) fields[key] = v;
  }
  const target = action.kind === 'apply' || action.kind === 'create' || action.kind === 'log' || action.kind === 'webhook' ? triggerRef : await resolveTarget(fields.target, triggerRef, context);
  let current: KubeObject | undefined;
  if (action.kind === 'update') {
    // Without a target there is nothing to render against: planned with a null body, skipped when run.
    current = await scope.lister.get(target.apiVersion, target.kind, target.namespace, target.name);
    const v = current ? await renderField(rule, action, 'object', object, { ...scope, target: current }) : undefined;
    if (v !== undefined) fields.object = v;
  }
  checkRendered(rule, action, fields, action.kind === 'update' && !current ? ['object'] : []);
  const options: Record<string, unknown> = {};
  for (const key of OPTION_FIELDS[action.kind]) if (fields[key] !== undefined) options[key] = fields[key];
  const out = (to: PlannedRef, body: unknown): PlannedAction => ({
    rule: rule.name,
    trigger: { ...trigger },
    action: action.kind,
    target: to,
    body,
    options,
    ...(rule.tenant !== undefined ? { tenant: rule.tenant } : {}),
    ...(rule.sensitive ? { sensitive: true } : {}),
  });
  switch (action.kind) {
    case 'apply':
    case 'create': {
      const stamped = stampOwnership(fields.object as KubeObject, rule.name);
      return out(refOf(stamped), stamped);
    }
    case 'update': {
      const planned = out(target, current ? fields.object : null);
      updates.set(planned, { rule, action, scope, object });
      return planned;
    }
    case 'patch':
      return out(target, fields.patch);
    case 'delete':
      return out(target, null);
    case 'event':
      return out(target, { type: fields.type ?? 'Normal', reason: fields.reason, message: fields.message });
    case 'log':
      return out(triggerRef, fields.message);
    case 'webhook': {
      const request: Record<string, unknown> = { method: fields.method ?? 'POST', url: fields.url };
      if (fields.headers !== undefined) request.headers = fields.headers;
      if (fields.body !== undefined) request.body = fields.body;
      return out(triggerRef, request);
    }
  }
}

/**
 * Renders a planned `update`'s object again with `$target` = `current` (the object as fetched just
 * before the write). For plans not made by `evaluate` (e.g. read back from JSON) returns the planned
 * body with current's resourceVersion.
 */
export async function renderUpdate(planned: PlannedAction, current: KubeObject): Promise<KubeObject> {
  const origin = updates.get(planned);
  if (!origin) {
    const body = (planned.body ?? {}) as KubeObject;
    return { ...body, metadata: { ...(body.metadata ?? {}), resourceVersion: current.metadata?.resourceVersion } };
  }
  const { rule, action, scope, object } = origin;
  const rendered = await renderField(rule, action, 'object', object, { ...scope, target: current });
  checkRendered(rule, action, rendered === undefined ? {} : { object: rendered });
  return rendered as KubeObject;
}

/** Sorts planned actions by rule name, then trigger namespace and name; stable, so action order is kept. */
export function sortPlan(plan: Plan): Plan {
  const key = (p: PlannedAction) => [p.rule, p.trigger.namespace ?? '', p.trigger.name];
  return [...plan].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i] < kb[i] ? -1 : 1;
    return 0;
  });
}
