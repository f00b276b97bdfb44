/**
 * rule-test-format: the RuleTest document (`reflex.dev/v1alpha1`, kind `RuleTest`) that
 * `reflex test` runs, and its validation.
 *
 * ```yaml
 * apiVersion: reflex.dev/v1alpha1
 * kind: RuleTest
 * metadata:
 *   name: deletes a Job an hour after it succeeded
 * spec:
 *   rules: [delete-finished-jobs.yaml]   # rule files, relative to this file; default: x.yaml beside x.test.yaml
 *   rule: delete-finished-jobs           # optional: only this rule of those files
 *   now: "2026-03-10T12:00:00Z"          # the clock at the start; default 2026-01-01T00:00:00Z
 *   objects: [ … ]                       # the cluster at the start, presented with `sync`
 *   expect: none                         # optional: the actions the initial sync plans
 *   steps:
 *     - create: { …object… }             # event create
 *       expect: [ {action: delete, target: {name: x}} ]
 *     - update: { …object… }             # replaces the object of that identity; event update, $old the previous state
 *       expect: none
 *     - delete: {apiVersion: v1, kind: Pod, namespace: a, name: x}   # event delete with its last state
 *       expect: none
 *     - advance: 2h                      # moves the clock; re-checks due on the way fire at their time; resyncs and cron firings sweep once
 *       expect: none
 *     - tick: {}                         # a schedule tick now, for every rule with a schedule (or {rule: name})
 *       expect: none
 * ```
 * `expect` is `none` (or `[]`), or the planned actions in plan order (rule, trigger namespace/name,
 * action index), each matched as a subset: only the fields given are compared, objects key by key,
 * arrays item by item. Planned actions are not executed: the state changes only through steps.
 */
import { loadAll } from 'js-yaml';
import { ReflexError, type KubeObject } from '../core/index.js';
import { parseDuration, type PlannedAction } from '../engine/index.js';

/** A partial planned action to match; `none` and `[]` mean "no actions". */
export type Expectation = Partial<Record<keyof PlannedAction, unknown>>[];

/** One step of a RuleTest. */
export type Step =
  | { op: 'create' | 'update'; object: KubeObject; expect: Expectation; title: string }
  | { op: 'delete'; ref: { apiVersion: string; kind: string; namespace?: string; name: string }; expect: Expectation; title: string }
  | { op: 'advance'; ms: number; expect: Expectation; title: string }
  | { op: 'tick'; rule?: string; expect: Expectation; title: string };

/** A RuleTest, validated. */
export interface RuleTest {
  file: string;
  /** 0-based document index in the file. */
  document: number;
  name: string;
  rules: string[] | undefined;
  rule: string | undefined;
  startMs: number;
  objects: KubeObject[];
  /** Undefined: the initial sync is not checked. */
  expect: Expectation | undefined;
  steps: Step[];
}

/** The default start of the clock: a fixed instant, so tests never depend on when they run. */
export const DEFAULT_START = '2026-01-01T00:00:00Z';

/** A RuleTest document that cannot be run; the message names the file, the document and the field. */
export class RuleTestFormatError extends ReflexError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'ERR_RULE_TEST_FORMAT', cause });
  }
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isObject = (v: unknown): v is KubeObject => isMap(v) && typeof v.apiVersion === 'string' && typeof v.kind === 'string' && isMap(v.metadata) && typeof v.metadata.name === 'string';
const describe = (o: { kind?: unknown; metadata?: { namespace?: unknown; name?: unknown } }) =>
  `${String(o.kind)} ${o.metadata?.namespace ? `${String(o.metadata.namespace)}/` : ''}${String(o.metadata?.name)}`;

/** Parses every RuleTest document of a file; throws RuleTestFormatError on the first problem. */
export function parseRuleTests(file: string, text: string): RuleTest[] {
  let docs: unknown[];
  try {
    docs = loadAll(text, { filename: file });
  } catch (err) {
    throw new RuleTestFormatError(`${file}: invalid YAML: ${(err as Error).message}`, err);
  }
  const out: RuleTest[] = [];
  docs.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    out.push(parseDocument(file, i, doc));
  });
  return out;
}

function parseDocument(file: string, index: number, doc: unknown): RuleTest {
  const where = (path: string) => `${file}: document ${index + 1}${path ? `: ${path}` : ''}`;
  const fail = (path: string, msg: string): never => {
    throw new RuleTestFormatError(`${where(path)}: ${msg}`);
  };
  if (!isMap(doc) || doc.apiVersion !== 'reflex.dev/v1alpha1' || doc.kind !== 'RuleTest') fail('', 'expected apiVersion: reflex.dev/v1alpha1 and kind: RuleTest');
  const d = doc as Record<string, unknown>;
  const meta = isMap(d.metadata) ? d.metadata : {};
  if (typeof meta.name !== 'string' || meta.name === '') fail('metadata.name', 'a RuleTest needs a name');
  const spec = isMap(d.spec) ? d.spec : fail('spec', 'expected a mapping');
  const known = ['rules', 'rule', 'now', 'objects', 'expect', 'steps'];
  for (const k of Object.keys(spec)) if (!known.includes(k)) fail(`spec.${k}`, `unknown field; expected one of ${known.join(', ')}`);
  const rules = spec.rules === undefined ? undefined : Array.isArray(spec.rules) && spec.rules.every((r) => typeof r === 'string') ? (spec.rules as string[]) : fail('spec.rules', 'expected a list of rule file paths');
  const rule = spec.rule === undefined ? undefined : typeof spec.rule === 'string' ? spec.rule : fail('spec.rule', 'expected a rule name');
  const now = spec.now instanceof Date ? spec.now.toISOString() : String(spec.now ?? DEFAULT_START);
  const startMs = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(now) ? Date.parse(now) : NaN;
  if (Number.isNaN(startMs)) fail('spec.now', `expected an RFC 3339 time such as ${DEFAULT_START}; got ${JSON.stringify(spec.now)}`);
  const objects = spec.objects === undefined ? [] : Array.isArray(spec.objects) ? spec.objects : fail('spec.objects', 'expected a list of objects');
  objects.forEach((o, i) => isObject(o) || fail(`spec.objects[${i}]`, 'expected a Kubernetes object with apiVersion, kind and metadata.name'));
  const expect = spec.expect === undefined ? undefined : expectation(spec.expect, 'spec.expect', fail);
  const steps = spec.steps === undefined ? [] : Array.isArray(spec.steps) ? spec.steps : fail('spec.steps', 'expected a list of steps');
  return {
    file,
    document: index,
    name: meta.name as string,
    rules,
    rule,
    startMs,
    objects: objects as KubeObject[],
    expect,
    steps: steps.map((s, i) => parseStep(s, `spec.steps[${i}]`, fail)),
  };
}

const STEP_OPS = ['create', 'update', 'delete', 'advance', 'tick'] as const;

function parseStep(s: unknown, path: string, fail: (path: string, msg: string) => never): Step {
  if (!isMap(s)) return fail(path, 'expected a mapping');
  const ops = STEP_OPS.filter((op) => op in s);
  if (ops.length !== 1) return fail(path, `expected exactly one of ${STEP_OPS.join(', ')}; got ${ops.length ? ops.join(', ') : 'none'}`);
  for (const k of Object.keys(s)) if (![...STEP_OPS, 'expect', 'name'].includes(k)) fail(`${path}.${k}`, 'unknown field; a step has one operation, expect and an optional name');
  if (!('expect' in s)) fail(`${path}.expect`, 'every step says what it expects: a list of planned actions, or none');
  const expect = expectation(s.expect, `${path}.expect`, fail);
  const op = ops[0];
  const v = s[op];
  const named = (title: string) => (typeof s.name === 'string' ? s.name : title);
  switch (op) {
    case 'create':
    case 'update':
      if (!isObject(v)) return fail(`${path}.${op}`, 'expected a Kubernetes object with apiVersion, kind and metadata.name');
      return { op, object: v, expect, title: named(`${op} ${describe(v)}`) };
    case 'delete': {
      const ref = isMap(v) && isMap(v.metadata) ? { ...v, namespace: v.metadata.namespace, name: v.metadata.name } : v;
      if (!isMap(ref) || typeof ref.apiVersion !== 'string' || typeof ref.kind !== 'string' || typeof ref.name !== 'string') {
        return fail(`${path}.delete`, 'expected {apiVersion, kind, namespace?, name} (or the object)');
      }
      const r = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, ...(typeof ref.namespace === 'string' ? { namespace: ref.namespace } : {}) };
      return { op, ref: r, expect, title: named(`delete ${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`) };
    }
    case 'advance': {
      const ms = typeof v === 'string' ? parseDuration(v) : undefined;
      if (ms === undefined || ms <= 0) return fail(`${path}.advance`, `expected a positive duration such as 90s, 10m or 2h; got ${JSON.stringify(v)}`);
      return { op, ms, expect, title: named(`advance ${String(v)}`) };
    }
    case 'tick': {
      const rule = isMap(v) && typeof v.rule === 'string' ? v.rule : undefined;
      if (!(v === null || (isMap(v) && Object.keys(v).every((k) => k === 'rule')))) return fail(`${path}.tick`, 'expected {} or {rule: NAME}');
      return { op, rule, expect, title: named(`schedule tick${rule ? ` of ${rule}` : ''}`) };
    }
  }
}

function expectation(v: unknown, path: string, fail: (path: string, msg: string) => never): Expectation {
  if (v === 'none' || v === null) return [];
  if (!Array.isArray(v)) return fail(path, 'expected none, or a list of planned actions (rule, trigger, action, target, body, options)');
  const keys = ['rule', 'trigger', 'action', 'target', 'body', 'options'];
  v.forEach((e, i) => {
    if (!isMap(e)) fail(`${path}[${i}]`, 'expected a mapping');
    for (const k of Object.keys(e as object)) if (!keys.includes(k)) fail(`${path}[${i}].${k}`, `unknown field; expected some of ${keys.join(', ')}`);
  });
  return v as Expectation;
}
