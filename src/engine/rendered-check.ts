/**
 * rendered-check: what an action's fields must be once their templates are rendered, checked
 * before anything is sent. The form of each field is the action's own schema (schema.ts) with its
 * `{{ expression }}` alternatives taken out: a `gracePeriodSeconds` that renders to "soon", a
 * `force` that renders to "yes" or a patch that renders to 42 is a failure of the action, never
 * sent and never replaced by a default. The same check runs at load time on what is already known
 * then (constant expressions, text templates), so `reflex validate` places those at line:column.
 */
import type { ErrorObject } from 'ajv';
import { RuleEvaluationError } from './errors.js';
import type { Expression } from './expression.js';
import { ACTION_SCHEMAS, generatedValidators, TEMPLATE_SCHEMA } from './schema.js';
import type { TemplateNode } from './template.js';
import type { ActionKind } from './types.js';

type Node = Record<string, unknown>;

const EXPRESSION_TAIL = / or one \{\{ expression \}\}$/;

/** What a field expects once rendered: its schema's `x-expected` without the template alternative. */
function renderedExpected(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^(.*), (.*) or one \{\{ expression \}\}$/.exec(text);
  return m ? `${m[1]} or ${m[2]}` : text.replace(EXPRESSION_TAIL, '');
}

/**
 * The schema a rendered value must match: template alternatives dropped (a rendered value is never
 * a template), and the empty `delete:` alternative too (its fields always render to a mapping).
 */
function renderedForm(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(renderedForm);
  if (node === null || typeof node !== 'object') return node;
  const n = node as Node;
  const out: Node = {};
  for (const [k, v] of Object.entries(n)) out[k] = renderedForm(v);
  if (!Array.isArray(n.anyOf)) return out;
  const kept = (n.anyOf as Node[]).filter((b) => b !== TEMPLATE_SCHEMA && b.type !== 'null').map(renderedForm) as Node[];
  if (kept.length === n.anyOf.length) return out;
  const expected = renderedExpected(n['x-expected']);
  if (kept.length === 1) return { ...kept[0], ...(expected && !kept[0].properties ? { 'x-expected': expected } : {}) };
  return { ...out, anyOf: kept, 'x-expected': expected };
}

/** The rendered form of each action's fields. */
export const RENDERED_ACTION_SCHEMAS: Record<string, Node> = Object.fromEntries(Object.entries(ACTION_SCHEMAS).map(([k, s]) => [k, renderedForm(s) as Node]));

/** The validator of each action's rendered form (compiled ahead of time: `npm run gen`). */
const validators = Object.fromEntries(Object.keys(RENDERED_ACTION_SCHEMAS).map((k) => [k, generatedValidators[`rendered_${k}`]]));

/** The fields an action has (its schema's properties), in schema order. */
export function actionFields(kind: ActionKind): string[] {
  return Object.keys((RENDERED_ACTION_SCHEMAS[kind].properties as Node | undefined) ?? {});
}

/** One thing wrong with a rendered action: the field (path from the action's fields) and what it expected. */
export interface RenderedProblem {
  path: string[];
  /** What the field expects, e.g. `an integer >= 0`. */
  expected: string;
  /** The value it got; undefined when it rendered to nothing. */
  got: unknown;
}

const typeWords: Record<string, string> = { string: 'text', boolean: 'a boolean', integer: 'an integer', number: 'a number', object: 'a mapping', array: 'a list' };

function expectedOf(schema: Node | undefined): string {
  if (!schema) return 'a different value';
  if (typeof schema['x-expected'] === 'string') return schema['x-expected'];
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map(String).join(', ')}`;
  const t = schema.type;
  const base = typeof t === 'string' ? (typeWords[t] ?? t) : 'a different value';
  if (t === 'string' && schema.minLength === 1) return 'non-empty text';
  return base;
}

const segments = (pointer: string) => (pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')));

function fromAjv(errors: ErrorObject[], partial: boolean): RenderedProblem[] {
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  const out: RenderedProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (anyOfPaths.some((p) => e.schemaPath.startsWith(p))) continue;
    let path = segments(e.instancePath);
    let schema = e.parentSchema as Node | undefined;
    let got: unknown = e.data;
    if (e.keyword === 'required') {
      if (partial) continue;
      const missing = String((e.params as { missingProperty?: unknown }).missingProperty);
      path = [...path, missing];
      schema = (schema?.properties as Record<string, Node> | undefined)?.[missing];
      got = undefined;
    } else if (e.keyword === 'additionalProperties') {
      continue; // keys are never rendered: the rule's schema has checked them
    }
    const key = path.join('/');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ path, expected: expectedOf(schema), got });
  }
  return out;
}

const isMap = (v: unknown): v is Node => v !== null && typeof v === 'object' && !Array.isArray(v);

/** What ajv cannot say: a patch body of the patch type's form, and an object that says what it is. */
function semanticProblems(kind: ActionKind, fields: Node, partial: boolean): RenderedProblem[] {
  const out: RenderedProblem[] = [];
  if (kind === 'patch' && 'patch' in fields && (fields.type !== undefined || !partial)) {
    const json = fields.type === 'json';
    const body = fields.patch;
    if (json && isMap(body)) out.push({ path: ['patch'], expected: 'a list of JSON patch operations (type: json)', got: body });
    if (!json && Array.isArray(body)) out.push({ path: ['patch'], expected: `a mapping (type: ${String(fields.type ?? 'merge')}; a list needs type: json)`, got: body });
  }
  if ((kind === 'apply' || kind === 'create') && isMap(fields.object)) {
    const o = fields.object as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; generateName?: unknown } };
    for (const f of ['apiVersion', 'kind'] as const) {
      const v = o[f];
      if ((!partial || f in o) && (typeof v !== 'string' || v === '')) out.push({ path: ['object', f], expected: 'non-empty text', got: v });
    }
    const meta = isMap(o.metadata) ? o.metadata : undefined;
    const named = (v: unknown) => typeof v === 'string' && v !== '';
    const identified = named(meta?.name) || (kind === 'create' && named(meta?.generateName));
    if (!partial && !identified) out.push({ path: ['object', 'metadata', 'name'], expected: kind === 'create' ? 'non-empty text (or metadata.generateName)' : 'non-empty text', got: meta?.name });
  }
  return out;
}

/**
 * What is wrong with an action's rendered fields (undefined fields left out). `partial`: only
 * some values are known (load time): a field that is absent is not missing.
 */
export function renderedProblems(kind: ActionKind, fields: Node, partial = false): RenderedProblem[] {
  const validate = validators[kind];
  const out = validate(fields) ? [] : fromAjv(validate.errors ?? [], partial);
  const flagged = new Set(out.map((p) => p.path.join('/')));
  return [...out, ...semanticProblems(kind, fields, partial).filter((p) => !flagged.has(p.path.join('/')))];
}

/** Code of RenderedValueError. */
export const RENDERED_VALUE_ERROR = 'ERR_RULE_RENDERED_VALUE';

/**
 * A rendered field of an action is not what the action takes: a terminal failure of the action,
 * with nothing sent. `where` names the field (`actions[0].delete.gracePeriodSeconds`).
 */
export class RenderedValueError extends RuleEvaluationError {
  constructor(
    rule: string,
    /** The action's kind (`delete`). */
    readonly action: ActionKind,
    /** Where the action is (`actions[0].delete`). */
    readonly actionWhere: string,
    /** The field inside the action (`gracePeriodSeconds`, `target.name`). */
    readonly field: string,
    expression: string,
    reason: string,
  ) {
    super(rule, `${actionWhere}.${field}`, expression, reason, { code: RENDERED_VALUE_ERROR });
    this.message = `rule "${rule}": ${actionWhere}.${field}: ${reason}; nothing was sent`;
  }
}

/** The value a problem got, as shown: `"soon"`, `nothing`; its kind only for a rule that reads Secrets. */
export function describeGot(p: RenderedProblem, hide: boolean): string {
  if (p.got === undefined) return 'nothing';
  const kind = typeof p.got === 'string' ? 'text' : Array.isArray(p.got) ? 'a list' : p.got === null ? 'null' : typeof p.got === 'object' ? 'a mapping' : `a ${typeof p.got}`;
  if (hide) return `${kind} (value hidden: the rule reads Secrets)`;
  const shown = JSON.stringify(p.got);
  return shown.length > 80 ? `${shown.slice(0, 77)}...` : shown;
}

/** The template node at `path` inside an action's fields, for naming its expression. */
function nodeAt(node: TemplateNode, path: string[]): TemplateNode | undefined {
  let n: TemplateNode | undefined = node;
  for (const key of path) n = n?.t === 'obj' ? n.entries.find(([k]) => k === key)?.[1] : undefined;
  return n;
}

const sourceOf = (n: TemplateNode | undefined): string => (n?.t === 'expr' ? `{{${n.e.source}}}` : n?.t === 'text' ? n.parts.map((p) => (typeof p === 'string' ? p : `{{${p.source}}}`)).join('') : '');

/**
 * Throws RenderedValueError for the first problem of an action's rendered fields. `absent`: fields
 * not rendered on purpose (an update's object when its target is not there).
 */
export function checkRendered(
  rule: { name: string; sensitive?: boolean },
  action: { kind: ActionKind; where: string; fields: TemplateNode },
  fields: Node,
  absent: string[] = [],
): void {
  const problems = renderedProblems(action.kind, fields).filter((p) => !(p.path.length === 1 && absent.includes(p.path[0]) && p.got === undefined));
  if (problems.length === 0) return;
  const p = problems[0];
  const source = sourceOf(nodeAt(action.fields, p.path));
  const got = describeGot(p, rule.sensitive === true);
  const what = source ? `${source.length > 80 ? `${source.slice(0, 77)}...` : source} rendered ${got}` : `got ${got}`;
  throw new RenderedValueError(rule.name, action.kind, action.where, p.path.join('.'), source, `expected ${p.expected}; ${what}`);
}

/** The value of an expression made only of literals (`'soon'`, `42`, `[1, 2]`, `{"a": 1}`); undefined when it reads anything. */
export function constantOf(e: Expression): { value: unknown } | undefined {
  const fold = (ast: unknown): { value: unknown } | undefined => {
    const n = ast as { type?: string; value?: unknown; expressions?: unknown[]; lhs?: unknown; expression?: unknown };
    if (n.type === 'string' || n.type === 'number' || n.type === 'value') return { value: n.value };
    if (n.type !== 'unary') return undefined;
    if (n.value === '[') {
      const items = (n.expressions ?? []).map(fold);
      return items.every((i) => i !== undefined) ? { value: items.map((i) => i!.value) } : undefined;
    }
    if (n.value === '{' && Array.isArray(n.lhs)) {
      const out: Node = {};
      for (const [k, v] of n.lhs as [unknown, unknown][]) {
        const key = fold(k);
        const value = fold(v);
        if (!key || typeof key.value !== 'string' || !value) return undefined;
        out[key.value] = value.value;
      }
      return { value: out };
    }
    if (n.value === '-') {
      const inner = fold(n.expression);
      return inner && typeof inner.value === 'number' ? { value: -inner.value } : undefined;
    }
    return undefined;
  };
  return fold(e.ast());
}

/** A problem found at load time, with the path of the field from the action's fields. */
export interface StaticProblem {
  path: string[];
  message: string;
}

/**
 * What is already wrong with an action's fields at load time: a constant expression or a text
 * template (which always renders text) where the field takes another type.
 */
export function staticProblems(kind: ActionKind, fields: TemplateNode): StaticProblem[] {
  if (fields.t !== 'obj') return [];
  const texts = new Set<string>();
  let templated = false;
  const known = (node: TemplateNode, path: string[]): { value: unknown } | undefined => {
    switch (node.t) {
      case 'lit':
        return { value: node.v };
      case 'expr': {
        templated = true;
        return constantOf(node.e);
      }
      case 'text':
        templated = true;
        texts.add(path.join('/'));
        return { value: '' };
      case 'obj': {
        const out: Node = {};
        for (const [k, n] of node.entries) {
          const v = known(n, [...path, k]);
          if (v !== undefined && (v.value !== undefined || n.t === 'lit')) out[k] = v.value;
        }
        return { value: out };
      }
      case 'arr':
        return undefined;
    }
  };
  const partial = known(fields, [])!.value as Node;
  if (!templated) return [];
  return renderedProblems(kind, partial, true)
    // A text template's content is unknown: only "it is text" can be wrong.
    .filter((p) => !texts.has(p.path.join('/')) || !accepts(kind, p.path, 'string'))
    .map((p) => {
      const text = texts.has(p.path.join('/'));
      const got = text ? 'the template always renders text (it has text around or between its expressions)' : `the template always renders ${describeGot(p, false)}`;
      return { path: p.path, message: `expected ${p.expected}; ${got}` };
    });
}

/** Whether the rendered field at `path` may be of JSON type `type`. */
function accepts(kind: ActionKind, path: string[], type: string): boolean {
  let node: Node | undefined = RENDERED_ACTION_SCHEMAS[kind];
  for (const key of path) node = (node?.properties as Record<string, Node> | undefined)?.[key];
  if (!node) return true;
  const branches = Array.isArray(node.anyOf) ? (node.anyOf as Node[]) : [node];
  return branches.some((b) => b.type === undefined || b.type === type || (Array.isArray(b.type) && b.type.includes(type)));
}
