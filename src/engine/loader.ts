/**
 * loader: rule sources (`{ file, text }`) → compiled rules plus every problem found, each naming
 * file, document, line and column. A bad document never spoils the good ones beside it.
 */
import { RuleLoadError } from './errors.js';
import { Expression, type ExpressionLimits } from './expression.js';
import { RULE_DEFAULTS, type CompiledAction, type CompiledGenerate, type CompiledGenerated, type CompiledRule, type CompiledWatch } from './rule.js';
import { validateRuleSchema } from './schema.js';
import { describeSchemaErrors } from './schema-errors.js';
import { parseDuration } from '../core/index.js';
import { CronSchedule } from './schedule.js';
import { parseFieldSelector, SelectorSyntaxError, toLabelSelector, type LabelSelector } from '../core/index.js';
import { staticProblems } from './rendered-check.js';
import { compileTemplate } from './template.js';
import { checkClusterWide, confineToTenant } from './tenant.js';
import { deprecatedKindWarning, ruleScope } from './rule-kind.js';
import { lookupCalls, templateExpressions } from './lookups.js';
import { ACTION_KINDS, type ActionKind, type LabelSelectorSpec, type RuleDocument, type RuleEvent, type WatchDocument } from './types.js';
import { DEFAULT_YAML_LIMITS, parseYamlDocuments, pointerSegment, type LineCol, type PositionMap, type YamlLimits } from './yaml-source.js';

/** A rule source: a file name (for messages) and its text. */
export interface RuleSource {
  file: string;
  text: string;
  /**
   * A tenant source (a ConfigMap outside the daemon's namespace): its rules are confined to this
   * namespace (tenant.ts), and what they say otherwise is a load error. Undefined: cluster-wide.
   */
  tenant?: string;
  /**
   * With `tenant`: the ServiceAccount the source's rules act as (a namespaced Rule object's
   * `spec.serviceAccountName`, `default` when unset). Undefined: the rule's own spec.serviceAccountName, if any.
   */
  serviceAccountName?: string;
  /**
   * The identity of a source that is one rule object of the API (`ClusterRule/NAME`,
   * `Rule/NAMESPACE/NAME`): its rule is named so everywhere (queue keys, metrics, traces, Events,
   * generated objects), so object names may repeat across namespaces and sources.
   */
  identity?: string;
  /** The source could not be read as text (invalid UTF-8): where, and why. Its `text` is ignored. */
  unreadable?: LineCol & { reason: string };
}

export interface LoadOptions {
  /** Guard rails compiled into every expression. Default DEFAULT_LIMITS. */
  limits?: ExpressionLimits;
  /** Bounds of each source and document. Defaults: DEFAULT_SOURCE_LIMITS. */
  sourceLimits?: SourceLimits;
}

/** Bounds of what one source may hold; a source over them is a load error, and never stops the others. */
export interface SourceLimits extends YamlLimits {
  /** Characters of one source. Default 4 MiB (a ConfigMap holds at most 1 MiB). */
  maxSourceBytes?: number;
  /** Rule documents in one source. Default 1 000. Over it, none of the source's rules load. */
  maxRulesPerSource?: number;
}

export const DEFAULT_SOURCE_LIMITS: Required<SourceLimits> = { ...DEFAULT_YAML_LIMITS, maxSourceBytes: 4 << 20, maxRulesPerSource: 1_000 };

/** What a load produced: the good rules, every problem, and what loads but deserves a look. */
export interface LoadResult {
  rules: CompiledRule[];
  errors: RuleLoadError[];
  /** Positioned like errors (code `WARN_RULE`), but the rule loads. */
  warnings: RuleLoadError[];
}

/** Loads every document of every source. Duplicate rule names (across all sources) are errors on the later ones. */
export function loadRules(sources: RuleSource[], options: LoadOptions = {}): LoadResult {
  const steps = loadRulesStepwise(sources, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * `loadRules` in steps: the generator yields after each source is parsed and after each document
 * is compiled, so a caller with an event loop to keep answering can pause between steps.
 */
export function* loadRulesStepwise(sources: RuleSource[], options: LoadOptions = {}): Generator<void, LoadResult, void> {
  const rules: CompiledRule[] = [];
  const errors: RuleLoadError[] = [];
  const warnings: RuleLoadError[] = [];
  const seen = new Map<string, string>();
  const bounds = { ...DEFAULT_SOURCE_LIMITS, ...options.sourceLimits };
  for (const src of sources) {
    const sourceProblem = (at: LineCol, message: string) => errors.push(new RuleLoadError({ file: src.file, document: 0, line: at.line, column: at.column }, message, { code: 'ERR_RULE_SOURCE_LIMIT' }));
    if (src.unreadable) {
      sourceProblem(src.unreadable, src.unreadable.reason);
      continue;
    }
    if (src.text.length > bounds.maxSourceBytes) {
      sourceProblem({ line: 1, column: 1 }, `the source holds ${src.text.length.toLocaleString('en-US')} characters, more than the limit of ${bounds.maxSourceBytes.toLocaleString('en-US')}; none of its rules are loaded (split it)`);
      continue;
    }
    const docs = parseYamlDocuments(src.text, src.file, bounds);
    yield;
    const ruleDocs = docs.filter((d) => d.error || (d.value !== null && d.value !== undefined));
    if (ruleDocs.length > bounds.maxRulesPerSource) {
      const extra = ruleDocs[bounds.maxRulesPerSource];
      sourceProblem(extra.error?.at ?? extra.positions.at(''), `the source holds ${ruleDocs.length.toLocaleString('en-US')} rule documents, more than the limit of ${bounds.maxRulesPerSource.toLocaleString('en-US')} per source (rules.maxRulesPerSource); none of its rules are loaded (split it)`);
      continue;
    }
    const deprecated: LineCol[] = [];
    for (const doc of docs) {
      const problem = (at: LineCol, message: string, rule?: string, cause?: unknown) =>
        errors.push(new RuleLoadError({ file: src.file, document: doc.index, line: at.line, column: at.column }, message, { rule, cause }));
      if (doc.error) {
        problem(doc.error.at, `document ${doc.index + 1}: ${doc.error.kind === 'limit' ? 'too large' : 'invalid YAML'}: ${doc.error.message}`);
        continue;
      }
      if (doc.value === null || doc.value === undefined) continue;
      const rule = compileDocument(doc.value, doc.positions, src.file, doc.index, options, (at, msg, cause) => {
        const name = ruleName(doc.value);
        problem(at, `${name ? `rule "${name}" (document ${doc.index + 1})` : `document ${doc.index + 1}`}: ${msg}`, name, cause);
      });
      yield;
      if (!rule) continue;
      if (src.identity !== undefined) rule.name = src.identity;
      let scoped = true;
      const scope = ruleScope(doc.value, doc.positions, src, (at, msg) => {
        scoped = false;
        problem(at, `rule "${rule.name}" (document ${doc.index + 1}): ${msg}`, rule.name);
      });
      if (!scoped) continue;
      if (scope.deprecated) deprecated.push(scope.deprecated);
      if (scope.tenant !== undefined) {
        let confined = true;
        confineToTenant(rule, scope.tenant, doc.positions, (at, msg) => {
          confined = false;
          problem(at, `rule "${rule.name}" (document ${doc.index + 1}): ${msg}`, rule.name);
        }, scope.serviceAccountName);
        if (!confined) continue;
      } else if (!checkClusterWide(rule, doc.positions, (at, msg) => problem(at, `rule "${rule.name}" (document ${doc.index + 1}): ${msg}`, rule.name))) {
        continue;
      }
      const first = seen.get(rule.name);
      if (first !== undefined) {
        problem(doc.positions.at('/metadata/name'), `rule "${rule.name}" (document ${doc.index + 1}): duplicate rule name; first defined at ${first}`, rule.name);
        continue;
      }
      const at = doc.positions.at('/metadata/name');
      seen.set(rule.name, `${src.file}:${at.line}:${at.column}`);
      rule.sensitive = readsSecrets(rule) && rule.document.spec.revealSecretValues !== true;
      rules.push(rule);
      for (const w of ruleWarnings(rule, doc.positions)) {
        warnings.push(new RuleLoadError({ file: src.file, document: doc.index, line: w.at.line, column: w.at.column }, `rule "${rule.name}" (document ${doc.index + 1}): ${w.message}`, { rule: rule.name, code: 'WARN_RULE' }));
      }
    }
    if (deprecated.length > 0) {
      warnings.push(new RuleLoadError({ file: src.file, document: 0, line: deprecated[0].line, column: deprecated[0].column }, deprecatedKindWarning(deprecated.length), { code: 'WARN_DEPRECATED' }));
    }
  }
  const order = new Map(sources.map((s, i) => [s.file, i]));
  errors.sort(
    (a, b) =>
      (order.get(a.location.file) ?? 0) - (order.get(b.location.file) ?? 0) ||
      a.location.line - b.location.line ||
      a.location.column - b.location.column,
  );
  return { rules, errors, warnings };
}

/** Whether a rule watches Secrets or may look them up (a lookup whose kind is Secret or computed). */
function readsSecrets(rule: CompiledRule): boolean {
  if (rule.watches.some((w) => w.kind === 'Secret')) return true;
  const spec = rule.document.spec as { when?: unknown; changes?: unknown };
  const sources = [
    ...(typeof spec.when === 'string' ? [spec.when] : []),
    ...(typeof spec.changes === 'string' ? [spec.changes] : []),
    ...rule.actions.flatMap((a) => [...(a.forEach ? [a.forEach] : []), ...templateExpressions(a.fields)].map((e) => e.source)),
  ];
  return sources.some((s) => lookupCalls(s).some((c) => c.kind === 'dynamic' || (typeof c.kind === 'object' && c.kind.literal === 'Secret')));
}

/**
 * What loads but deserves a look: a webhook whose whole URL is computed (its host is known only
 * when it runs), and a rule that shows the values it reads from Secrets.
 */
function ruleWarnings(rule: CompiledRule, pos: PositionMap): { at: LineCol; message: string }[] {
  const out: { at: LineCol; message: string }[] = [];
  if (rule.document.spec.revealSecretValues === true) {
    out.push({
      at: pos.at('/spec/revealSecretValues'),
      message: 'spec.revealSecretValues: rendered values of this rule, Secret data included, appear in logs, traces, dry-run output and Event notes',
    });
  }
  for (const a of rule.actions) {
    if (a.kind !== 'webhook' || a.fields.t !== 'obj') continue;
    const url = a.fields.entries.find(([k]) => k === 'url')?.[1];
    if (url?.t === 'expr') {
      out.push({
        at: pos.at(`/spec/actions/${a.index}/webhook/url`),
        message: `spec.actions[${a.index}].webhook.url: the whole URL is the expression {{ ${url.e.source.trim()} }}, so the host it calls is known only when it runs (reflex dry-run shows the rendered URL; the daemon's webhooks.allowedHosts decides)`,
      });
    }
  }
  return out;
}

function ruleName(v: unknown): string | undefined {
  const name = (v as { metadata?: { name?: unknown } })?.metadata?.name;
  return typeof name === 'string' ? name : undefined;
}

type Report = (at: LineCol, message: string, cause?: unknown) => void;

/** Validates and compiles one document; undefined when it had any problem (all of them reported). */
function compileDocument(
  value: unknown,
  pos: PositionMap,
  file: string,
  document: number,
  options: LoadOptions,
  report: Report,
): CompiledRule | undefined {
  let failed = false;
  const fail: Report = (at, message, cause) => {
    failed = true;
    report(at, message, cause);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(pos.at(''), `expected a mapping with apiVersion: reflex.dev/v1alpha1 and kind: ClusterRule (or Rule); got ${Array.isArray(value) ? 'a list' : JSON.stringify(value)}`);
    return undefined;
  }
  checkActionKeys(value, pos, fail);
  if (!validateRuleSchema(value)) {
    for (const p of describeSchemaErrors(validateRuleSchema.errors ?? [], pos)) fail(p.at, p.message);
  }
  // Past this point the document may still be invalid: every check below guards its own types, so
  // one pass reports schema problems and expression, selector and schedule problems together.
  const doc = value as unknown as RuleDocument;
  const spec = (isMap(doc.spec) ? doc.spec : {}) as RuleDocument['spec'];
  const limits = options.limits ?? {};
  const expr = (source: string, pointer: string, what: string): Expression | undefined => {
    try {
      return new Expression(source, limits);
    } catch (err) {
      const index = (err as { index?: number }).index ?? 0;
      fail(pos.inScalar(pointer, index), `${what}: ${(err as Error).message}`, err);
      return undefined;
    }
  };
  const sel = (s: string | LabelSelectorSpec | undefined, pointer: string, what: string): LabelSelector | undefined => {
    if (typeof s !== 'string' && !isMap(s)) return undefined;
    try {
      return toLabelSelector(s);
    } catch (err) {
      const at = typeof s === 'string' && err instanceof SelectorSyntaxError ? pos.inScalar(pointer, err.position) : pos.at(pointer);
      fail(at, `${what}: invalid label selector: ${(err as Error).message}`, err);
      return undefined;
    }
  };
  const watchList = Array.isArray(spec.watch);
  const watchDocs = (watchList ? (spec.watch as unknown[]) : [spec.watch]).map((w) => (isMap(w) ? w : {}) as unknown as WatchDocument);
  const watches = watchDocs.map((w, index) => {
    const base = watchList ? `/spec/watch/${index}` : '/spec/watch';
    const name = watchList ? `spec.watch[${index}]` : 'spec.watch';
    return compileWatch(w, index, base, name, pos, fail, sel);
  });
  const generate = isMap(spec.generate) ? compileGenerate(spec.generate, pos, limits, fail) : undefined;
  checkRuleShape(spec, pos, fail);
  const written: RuleEvent[] = generate
    ? RULE_DEFAULTS.onGenerate
    : Array.isArray(spec.on)
      ? spec.on
      : spec.schedule !== undefined
        ? RULE_DEFAULTS.onWithSchedule
        : RULE_DEFAULTS.on;
  const recheckAt = typeof spec.recheckAt === 'string' ? expr(spec.recheckAt, '/spec/recheckAt', 'spec.recheckAt') : undefined;
  if (written.includes('recheck') && spec.recheckAt === undefined) fail(pos.at('/spec/on'), 'spec.on: includes "recheck" but spec.recheckAt is not set');
  // `recheck` is implied by recheckAt: the time it asks for is the only way the event comes.
  const on: RuleEvent[] = spec.recheckAt !== undefined && !written.includes('recheck') ? [...written, 'recheck'] : written;
  const timezone = typeof spec.timezone === 'string' ? spec.timezone : RULE_DEFAULTS.timezone;
  let schedule: CronSchedule | undefined;
  if (typeof spec.schedule === 'string') {
    try {
      schedule = CronSchedule.parse(spec.schedule, timezone);
    } catch (err) {
      const tzProblem = /time zone/.test((err as Error).message);
      fail(pos.at(tzProblem && spec.timezone !== undefined ? '/spec/timezone' : '/spec/schedule'), `${tzProblem ? 'spec.timezone' : 'spec.schedule'}: ${(err as Error).message}`, err);
    }
  } else if (spec.timezone !== undefined) {
    fail(pos.keyAt('/spec/timezone'), 'spec.timezone: set without spec.schedule; a time zone only applies to a cron schedule');
  }
  if (on.includes('schedule') && spec.schedule === undefined) fail(pos.at('/spec/on'), 'spec.on: includes "schedule" but spec.schedule is not set');
  if (spec.schedule !== undefined && !on.includes('schedule')) fail(pos.at('/spec/on'), 'spec.on: spec.schedule is set but on does not include "schedule"; add it or drop the schedule');
  if (!generate && on.includes('resync') && spec.on !== undefined && spec.resync === undefined) {
    fail(pos.at('/spec/on'), 'spec.on: includes "resync" but spec.resync (a period such as 10m) is not set');
  }
  const resyncMs = typeof spec.resync === 'string' ? parseDuration(spec.resync) : undefined;
  if (resyncMs === 0) fail(pos.at('/spec/resync'), 'spec.resync: expected a period greater than zero');
  const when = typeof spec.when === 'string' ? expr(spec.when, '/spec/when', 'spec.when') : spec.when;
  const changes = typeof spec.changes === 'string' ? expr(spec.changes, '/spec/changes', 'spec.changes') : undefined;
  const actions = (Array.isArray(spec.actions) ? spec.actions : []).map((item, index) => compileAction(item, index, pos, limits, fail));
  if (failed) return undefined;
  return {
    name: doc.metadata.name,
    source: { file, document },
    document: doc,
    description: spec.description,
    suspend: spec.suspend ?? false,
    mode: spec.mode ?? RULE_DEFAULTS.mode,
    watches,
    watch: watches[0],
    on,
    changes,
    resyncMs,
    schedule,
    timezone,
    when,
    recheckAt,
    limits: {
      actionsPerObjectPerMinute: spec.limits?.actionsPerObjectPerMinute ?? RULE_DEFAULTS.actionsPerObjectPerMinute,
      maxActionsPerRun: spec.limits?.maxActionsPerRun ?? RULE_DEFAULTS.maxActionsPerRun,
    },
    actions: actions as CompiledAction[],
    ...(generate ? { generate } : {}),
  };
}

/**
 * A rule says what to do (`actions`) or what must exist (`generate`), not both; a generate rule
 * reconciles every change of its triggers and dependencies, so `on`, `changes` and `schedule`
 * have no meaning there.
 */
function checkRuleShape(spec: RuleDocument['spec'], pos: PositionMap, fail: Report): void {
  const hasActions = spec.actions !== undefined;
  const hasGenerate = spec.generate !== undefined;
  if (!hasActions && !hasGenerate) {
    fail(pos.at('/spec'), 'spec: missing "actions" (what to do) or "generate" (objects that must exist); a rule needs one of them');
    return;
  }
  if (hasActions && hasGenerate) {
    fail(pos.keyAt('/spec/generate'), 'spec.generate: set together with spec.actions; a rule either runs actions or generates objects (split it into two rules)');
    return;
  }
  if (!hasGenerate) return;
  for (const key of ['on', 'changes', 'schedule'] as const) {
    if (spec[key] !== undefined) {
      fail(pos.keyAt(`/spec/${key}`), `spec.${key}: not allowed with spec.generate; a generate rule reconciles every change of its triggers and of the objects it reads`);
    }
  }
}

/** Compiles `spec.generate`: each item an object template, or `{forEach, object}`. */
function compileGenerate(gen: Record<string, unknown>, pos: PositionMap, limits: ExpressionLimits, fail: Report): CompiledGenerate | undefined {
  const items = Array.isArray(gen.objects) ? gen.objects : [];
  const objects: CompiledGenerated[] = [];
  items.forEach((item: unknown, index: number) => {
    if (!isMap(item)) return; // the schema reports it
    const base = `/spec/generate/objects/${index}`;
    const where = `generate.objects[${index}]`;
    const onError = (pointer: string, at: number, message: string, cause: unknown) => fail(pos.inScalar(pointer, at), `spec.${where}: ${message}`, cause);
    let forEach: Expression | undefined;
    let template: unknown = item;
    let objectPointer = base;
    if ('forEach' in item) {
      for (const key of Object.keys(item)) {
        if (key !== 'forEach' && key !== 'object') {
          fail(pos.keyAt(`${base}/${key}`), `spec.${where}: unknown field "${key}"; an item with forEach has exactly forEach and object`);
        }
      }
      if (item.object === undefined) fail(pos.at(base), `spec.${where}: missing required field "object" (the object to generate for each $item)`);
      const node = typeof item.forEach === 'string' ? compileTemplate(item.forEach, `${base}/forEach`, `${where}.forEach`, limits, onError) : undefined;
      if (node?.t === 'expr') forEach = node.e;
      else fail(pos.at(`${base}/forEach`), `spec.${where}.forEach: expected exactly one {{ expression }} yielding an array`);
      template = item.object;
      objectPointer = `${base}/object`;
      if (!isMap(template) && !(typeof template === 'string' && /^\s*\{\{[\s\S]*\}\}\s*$/.test(template))) {
        if (template !== undefined) fail(pos.at(objectPointer), `spec.${where}.object: expected a mapping or one {{ expression }}; got ${JSON.stringify(template)}`);
        return;
      }
    }
    if (isMap(template)) checkLiteralObject(template, objectPointer, `spec.${where}${forEach ? '.object' : ''}`, pos, fail);
    const object = compileTemplate(template, objectPointer, where, limits, onError);
    objects.push({ index, forEach, object, where });
  });
  return { synchronize: gen.synchronize !== false, orphan: gen.orphan === true, objects };
}

/** A literal object template must say what it is: apiVersion, kind and metadata.name (generateName cannot be kept true). */
function checkLiteralObject(o: Record<string, unknown>, pointer: string, what: string, pos: PositionMap, fail: Report): void {
  const missing = ['apiVersion', 'kind'].filter((f) => o[f] === undefined);
  const meta = o.metadata as { name?: unknown; generateName?: unknown } | undefined;
  if (meta?.name === undefined) missing.push('metadata.name');
  if (missing.length > 0) fail(pos.at(pointer), `${what}: missing ${missing.join(', ')}; a generated object needs apiVersion, kind and metadata.name`);
  if (meta?.generateName !== undefined) fail(pos.keyAt(`${pointer}/metadata/generateName`), `${what}.metadata.generateName: not allowed; a generated object is kept true by its name`);
}

type SelectorParser = (s: string | LabelSelectorSpec | undefined, pointer: string, what: string) => LabelSelector | undefined;

/** One watch: its selectors parsed, problems reported at `base` (a JSON pointer) and named after `name`. */
function compileWatch(w: WatchDocument, index: number, base: string, name: string, pos: PositionMap, fail: Report, sel: SelectorParser): CompiledWatch {
  const namespaceSelector = sel(w.namespaceSelector, `${base}/namespaceSelector`, `${name}.namespaceSelector`);
  const labelSelector = sel(w.labelSelector, `${base}/labelSelector`, `${name}.labelSelector`);
  let fieldSelector;
  if (typeof w.fieldSelector === 'string') {
    try {
      fieldSelector = parseFieldSelector(w.fieldSelector);
    } catch (err) {
      const at = err instanceof SelectorSyntaxError ? pos.inScalar(`${base}/fieldSelector`, err.position) : pos.at(`${base}/fieldSelector`);
      fail(at, `${name}.fieldSelector: ${(err as Error).message}`, err);
    }
  }
  return { apiVersion: w.apiVersion, kind: w.kind, namespaces: w.namespaces, namespaceSelector, labelSelector, fieldSelector, index };
}

/** Each action item has exactly one action key (plus forEach); unknown keys are left to the schema. */
function checkActionKeys(value: object, pos: PositionMap, fail: Report): void {
  const actions = (value as { spec?: { actions?: unknown } }).spec?.actions;
  if (!Array.isArray(actions)) return;
  actions.forEach((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return;
    const keys = Object.keys(item).filter((k) => (ACTION_KINDS as string[]).includes(k));
    const path = `/spec/actions/${i}`;
    if (keys.length > 1) {
      fail(pos.keyAt(`${path}/${keys[1]}`), `spec.actions[${i}]: two action keys (${keys.join(', ')}); each item has exactly one action key (split it into ${keys.length} items)`);
    } else if (keys.length === 0 && Object.keys(item).every((k) => k === 'forEach')) {
      fail(pos.at(path), `spec.actions[${i}]: no action key; expected exactly one of ${ACTION_KINDS.join(', ')}`);
    }
  });
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function compileAction(item: Record<string, unknown>, index: number, pos: PositionMap, limits: ExpressionLimits, fail: Report): CompiledAction | undefined {
  if (!isMap(item)) return undefined;
  const kinds = Object.keys(item).filter((k) => (ACTION_KINDS as string[]).includes(k));
  if (kinds.length !== 1) return undefined;
  const kind = kinds[0] as ActionKind;
  const base = `/spec/actions/${index}`;
  const where = `actions[${index}].${kind}`;
  const onError = (pointer: string, at: number, message: string, cause: unknown) =>
    fail(pos.inScalar(pointer, at), `spec.${where}: ${message}`, cause);
  let forEach: Expression | undefined;
  if (typeof item.forEach === 'string') {
    const node = compileTemplate(item.forEach, `${base}/forEach`, `actions[${index}].forEach`, limits, onError);
    if (node.t === 'expr') forEach = node.e;
    else if (node.t === 'lit') fail(pos.at(`${base}/forEach`), `spec.actions[${index}].forEach: expected exactly one {{ expression }} yielding an array`);
  }
  const fields = compileTemplate(item[kind] ?? {}, `${base}/${kind}`, where, limits, onError);
  if (kind === 'apply' || kind === 'create') checkStaticObject(item[kind], `${base}/${kind}/object`, `spec.${where}.object`, pos, fail);
  // What a template is sure to render (a constant, or text) must already be what the field takes.
  for (const p of staticProblems(kind, fields)) fail(pos.at(`${base}/${kind}/${p.path.map(pointerSegment).join('/')}`), `spec.${where}.${p.path.join('.')}: ${p.message}`);
  return { index, kind, forEach, fields, where };
}

/** A static object to create or apply must say what it is. */
function checkStaticObject(fields: unknown, pointer: string, what: string, pos: PositionMap, fail: Report): void {
  const obj = (fields as { object?: unknown })?.object;
  if (obj === null || typeof obj !== 'object') return;
  const o = obj as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; generateName?: unknown } };
  for (const f of ['apiVersion', 'kind'] as const) {
    if (o[f] === undefined) fail(pos.at(pointer), `${what}: missing ${f}; the object to write needs apiVersion, kind and metadata.name`);
  }
  if (o.metadata?.name === undefined && o.metadata?.generateName === undefined) {
    fail(pos.at(pointer), `${what}: missing metadata.name; the object to write needs apiVersion, kind and metadata.name`);
  }
}
