/**
 * read-paths: what a rule reads of the objects it is given, found from its JSONata (`changes`,
 * `when`, `recheckAt`, `forEach`, every template of its actions and generated objects) without evaluating anything, so that caches can keep only
 * that. The analysis is conservative: a value is followed while it is only navigated by plain
 * field names (`status.phase`, `spec.containers[name = 'app'].image`); wherever a value is used
 * in any other way (compared, passed to a function, rendered, tested for truth) the whole
 * subtree at its path counts as read; and whatever it does not understand (`*`, `**`, `%`, a
 * sort or a focus step, a `$get`/`$list` of a kind that is not a literal) makes it give up:
 * the whole object, or for a dynamic kind every kind, is then read.
 *
 * A path never includes `metadata`, `apiVersion` or `kind`: caches keep them whole anyway
 * (keys, owners, labels, resourceVersion).
 */
import jsonata from 'jsonata';
import type { CompiledRule } from './rule.js';
import type { TemplateNode } from './template.js';

/** What is read of one kind's objects: everything, or the subtrees at these paths. */
export type KindReads = { whole: true } | { whole: false; paths: string[][] };

/** What a rule (or a rule set) reads, per kind (`apiVersion kind`). */
export interface RuleReads {
  /** Reads of the objects the rule is triggered by (`$`, `$$`, `$old`, `$item` of them), and the paths its patches write. */
  kinds: Map<string, KindReads>;
  /** Kinds read through the lister (`$get`, `$list`, update's `$target`): their caches are not the rule's own. */
  looked: Set<string>;
  /** A `$get`/`$list` or a write whose kind is not a literal: any kind may be read. */
  dynamic: boolean;
}

/** The key of a kind in RuleReads. */
export const kindKey = (apiVersion: string, kind: string): string => `${apiVersion} ${kind}`;

/** Fields every cache keeps whole, so no path needs to name them. */
const ALWAYS_KEPT = new Set(['apiVersion', 'kind', 'metadata']);

/** A place in an object of a kind: the subtree at `path` (arrays on the way are mapped over). */
interface Ref {
  kind: string;
  path: string[];
}

type Node = {
  type: string;
  value?: unknown;
  steps?: Node[];
  stages?: { type: string; expr?: Node }[];
  expressions?: Node[];
  arguments?: Node[];
  procedure?: Node;
  lhs?: unknown;
  rhs?: Node;
  expression?: Node;
  condition?: Node;
  then?: Node;
  else?: Node;
  body?: Node;
  terms?: { expression: Node }[];
  group?: { lhs: [Node, Node][] };
  focus?: unknown;
  index?: unknown;
  tuple?: unknown;
  ancestor?: unknown;
  pattern?: Node;
  update?: Node;
  delete?: Node;
};

/**
 * JSONata's functions that take the context in place of a missing first argument, with how many
 * arguments they take; a call with fewer may read the context.
 */
const CONTEXT_ARITY: Record<string, number> = {
  string: 2, length: 1, substring: 3, substringBefore: 2, substringAfter: 2, uppercase: 1, lowercase: 1, trim: 1, pad: 3,
  contains: 2, split: 3, match: 3, replace: 4, number: 1, abs: 1, floor: 1, ceil: 1, round: 2, sqrt: 1, power: 2,
  formatNumber: 3, formatBase: 2, formatInteger: 2, parseInteger: 2, toMillis: 2, fromMillis: 3, boolean: 1, not: 1,
  keys: 1, lookup: 2, spread: 1, base64encode: 1, base64decode: 1, encodeUrlComponent: 1, encodeUrl: 1,
  decodeUrlComponent: 1, decodeUrl: 1, sift: 2, each: 2,
};

/** Functions that never read the context: they read only their arguments (or nothing). */
const NO_CONTEXT = new Set([
  'now', 'millis', 'random', 'exists', 'count', 'sum', 'max', 'min', 'average', 'join', 'reverse', 'shuffle', 'sort', 'zip',
  'append', 'map', 'filter', 'single', 'reduce', 'distinct', 'type', 'merge', 'error', 'assert', 'duration', 'parseTime', 'hash', 'regex',
]);

/** Collects reads while walking one rule's expressions. */
class Collector {
  readonly reads: RuleReads = { kinds: new Map(), looked: new Set(), dynamic: false };

  /** The subtrees at `refs` are read (used as values). */
  use(refs: Ref[]): void {
    for (const r of refs) this.usePath(r.kind, r.path);
  }

  usePath(kind: string, path: string[]): void {
    if (path.length > 0 && ALWAYS_KEPT.has(path[0])) return;
    const cur = this.reads.kinds.get(kind);
    if (cur?.whole) return;
    if (path.length === 0) this.reads.kinds.set(kind, { whole: true });
    else if (cur) cur.paths.push(path);
    else this.reads.kinds.set(kind, { whole: false, paths: [path] });
  }

  /** Gives up on `kind`: all of it is read. */
  whole(kind: string): void {
    this.reads.kinds.set(kind, { whole: true });
  }

  /** The value of `n` evaluated with context `ctx`: the places it may be (empty when it is not part of an object). */
  value(n: Node | undefined, ctx: Ref[], env: Map<string, Ref[]>): Ref[] {
    if (!n || typeof n !== 'object') return [];
    switch (n.type) {
      case 'string':
      case 'number':
      case 'value':
      case 'regex':
        return [];
      case 'path':
        return this.path(n, ctx, env);
      case 'name':
        return this.path({ type: 'path', steps: [n] }, ctx, env);
      case 'variable':
        return this.variable(n, ctx, env);
      case 'binary':
        this.use(this.value(n.lhs as Node, ctx, env));
        this.use(this.value(n.rhs, ctx, env));
        return [];
      case 'unary':
        if (n.value === '{') {
          for (const [k, v] of (n.lhs as [Node, Node][] | undefined) ?? []) {
            this.use(this.value(k, ctx, env));
            this.use(this.value(v, ctx, env));
          }
        } else if (n.value === '[') {
          for (const e of n.expressions ?? []) this.use(this.value(e, ctx, env));
        } else this.use(this.value(n.expression, ctx, env));
        return [];
      case 'condition':
        this.use(this.value(n.condition, ctx, env));
        return [...this.value(n.then, ctx, env), ...this.value(n.else, ctx, env)];
      case 'block': {
        const inner = new Map(env);
        let last: Ref[] = [];
        for (const e of n.expressions ?? []) last = this.value(e, ctx, inner);
        return last;
      }
      case 'bind': {
        const refs = this.value(n.rhs, ctx, env);
        env.set(String((n.lhs as Node).value), refs);
        return refs;
      }
      case 'function':
      case 'partial':
        return this.call(n, ctx, env);
      case 'apply':
        this.use(this.value(n.lhs as Node, ctx, env));
        this.use(this.value(n.rhs, ctx, env));
        return [];
      case 'lambda': {
        const inner = new Map(env);
        for (const a of n.arguments ?? []) inner.set(String(a.value), []);
        this.use(this.value(n.body, ctx, inner));
        return [];
      }
      case 'operator': // `?` placeholder of a partial application
        return [];
      case 'unreadable':
        this.reads.dynamic = true;
        return [];
      default:
        // transform, wildcard or descendant outside a path, anything new: everything it could see is read.
        this.use(ctx);
        for (const refs of env.values()) this.use(refs);
        this.walkUnknown(n, env);
        return [];
    }
  }

  /** Finds `$get`/`$list` calls (and their kinds) inside a node the analysis does not follow. */
  private walkUnknown(n: unknown, env: Map<string, Ref[]>): void {
    if (Array.isArray(n)) return n.forEach((c) => this.walkUnknown(c, env));
    if (n === null || typeof n !== 'object') return;
    const node = n as Node;
    if (node.type === 'function' && node.procedure?.type === 'variable' && (node.procedure.value === 'get' || node.procedure.value === 'list')) {
      this.use(this.call(node, [], env));
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'procedure') this.walkUnknown(v, env);
  }

  private variable(n: Node, ctx: Ref[], env: Map<string, Ref[]>): Ref[] {
    if (n.value === '') return ctx;
    return env.get(String(n.value)) ?? [];
  }

  private path(n: Node, ctx: Ref[], env: Map<string, Ref[]>): Ref[] {
    const steps = n.steps ?? [];
    // Tuple streams (`@$x`, `#$i`, `%`) let later steps see earlier context: give up on the start.
    if (steps.some((s) => s.focus !== undefined || s.index !== undefined || s.tuple !== undefined || s.ancestor !== undefined || s.type === 'parent')) {
      const start = steps[0]?.type === 'variable' ? this.variable(steps[0], ctx, env) : ctx;
      this.use(start);
      this.walkUnknown(steps, env);
      return [];
    }
    let cur = ctx;
    steps.forEach((s, i) => {
      if (s.type === 'name') {
        cur = cur.map((r) => ({ kind: r.kind, path: [...r.path, String(s.value)] }));
      } else if (s.type === 'variable') {
        cur = i === 0 ? this.variable(s, ctx, env) : s.value === '' ? cur : this.variable(s, ctx, env);
      } else if (s.type === 'wildcard' || s.type === 'descendant') {
        this.use(cur);
        cur = [];
      } else if (s.type === 'sort') {
        for (const t of s.terms ?? []) this.use(this.value(t.expression, cur, env));
      } else {
        cur = this.value(s, cur, env); // a block, a function or a literal as a step
      }
      for (const stage of s.stages ?? []) {
        if (stage.type !== 'filter') {
          this.use(cur);
          continue;
        }
        if (stage.expr?.type !== 'number') this.use(this.value(stage.expr, cur, env));
      }
    });
    if (n.group) {
      for (const [k, v] of n.group.lhs) {
        this.use(this.value(k, cur, env));
        this.use(this.value(v, cur, env));
      }
      return [];
    }
    return cur;
  }

  private call(n: Node, ctx: Ref[], env: Map<string, Ref[]>): Ref[] {
    const proc = n.procedure;
    const args = n.arguments ?? [];
    if (proc?.type === 'variable' && (proc.value === 'get' || proc.value === 'list')) {
      for (const a of args) this.use(this.value(a, ctx, env));
      const [av, k] = args;
      if (av?.type === 'string' && k?.type === 'string') {
        const key = kindKey(String(av.value), String(k.value));
        this.reads.looked.add(key);
        return [{ kind: key, path: [] }];
      }
      this.reads.dynamic = true;
      return [];
    }
    if (proc && proc.type !== 'variable') this.use(this.value(proc, ctx, env));
    for (const a of args) this.use(this.value(a, ctx, env));
    // A function given fewer arguments than it takes may be applied to the context (`name.$uppercase()`).
    const name = proc?.type === 'variable' ? String(proc.value) : undefined;
    if (name === 'eval') this.reads.dynamic = true; // an expression made at run time may read anything
    const arity = name === undefined ? undefined : CONTEXT_ARITY[name];
    if (name === undefined || !(NO_CONTEXT.has(name) || (arity !== undefined && args.length >= arity))) this.use(ctx);
    return [];
  }

  /** Every expression of a template; their results are rendered, so read whole. */
  template(node: TemplateNode | undefined, ctx: Ref[], env: Map<string, Ref[]>): void {
    if (!node) return;
    if (node.t === 'expr') {
      this.use(this.value(parse(node.e.source), ctx, new Map(env)));
    } else if (node.t === 'text') {
      for (const p of node.parts) if (typeof p !== 'string') this.use(this.value(parse(p.source), ctx, new Map(env)));
    } else if (node.t === 'obj') {
      for (const [, v] of node.entries) this.template(v, ctx, env);
    } else if (node.t === 'arr') {
      for (const v of node.items) this.template(v, ctx, env);
    }
  }
}

const asts = new Map<string, Node>();

/** An expression that cannot be read here (it compiled with the engine's own options): it may read anything. */
const UNREADABLE: Node = { type: 'unreadable' };

function parse(source: string): Node {
  let ast = asts.get(source);
  if (!ast) {
    try {
      ast = jsonata(source).ast() as unknown as Node;
    } catch {
      ast = UNREADABLE;
    }
    if (asts.size > 1000) asts.clear();
    asts.set(source, ast);
  }
  return ast;
}

/** The sub-template of field `key`, or undefined. */
function field(node: TemplateNode, key: string): TemplateNode | undefined {
  if (node.t === 'obj') return node.entries.find(([k]) => k === key)?.[1];
  if (node.t === 'lit' && node.v !== null && typeof node.v === 'object' && !Array.isArray(node.v)) {
    const v = (node.v as Record<string, unknown>)[key];
    return v === undefined ? undefined : { t: 'lit', v };
  }
  return undefined;
}

/** A literal string field of a template, or undefined (absent or templated). */
function literalString(node: TemplateNode | undefined): string | undefined {
  return node?.t === 'lit' && typeof node.v === 'string' ? node.v : undefined;
}

/** The kinds an action may write to (the trigger's defaults to each watched kind); undefined when templated. */
function writtenKinds(rule: CompiledRule, fields: TemplateNode): string[] | undefined {
  const target = field(fields, 'target');
  const out: string[] = [];
  for (const w of rule.watches) {
    const av = target && field(target, 'apiVersion');
    const k = target && field(target, 'kind');
    const apiVersion = av ? literalString(av) : w.apiVersion;
    const kind = k ? literalString(k) : w.kind;
    if (apiVersion === undefined || kind === undefined) return undefined;
    out.push(kindKey(apiVersion, kind));
  }
  return [...new Set(out)];
}

/**
 * The paths a merge or strategic-merge patch writes: every leaf of its template (a value that
 * is not an object of literal keys). A patch that is computed as a whole writes anywhere.
 */
function mergePatchPaths(node: TemplateNode, path: string[], out: string[][]): boolean {
  if (node.t === 'obj') {
    for (const [k, v] of node.entries) if (!mergePatchPaths(v, [...path, k], out)) return false;
    return true;
  }
  if (node.t === 'lit' && node.v !== null && typeof node.v === 'object' && !Array.isArray(node.v)) {
    for (const [k, v] of Object.entries(node.v)) if (!mergePatchPaths({ t: 'lit', v }, [...path, k], out)) return false;
    return true;
  }
  if (path.length === 0) return false;
  out.push(path);
  return true;
}

/** The parents of the paths a JSON patch names (`path` and `from` of each operation), when all are literal. */
function jsonPatchPaths(node: TemplateNode, out: string[][]): boolean {
  const ops = node.t === 'arr' ? node.items : node.t === 'lit' && Array.isArray(node.v) ? node.v.map((v): TemplateNode => ({ t: 'lit', v })) : undefined;
  if (!ops) return false;
  for (const op of ops) {
    for (const key of ['path', 'from']) {
      const f = field(op, key);
      if (!f) continue;
      const pointer = literalString(f);
      if (pointer === undefined || !pointer.startsWith('/')) return false;
      const segments = pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
      segments.pop();
      if (segments.length === 0) return false;
      out.push(segments);
    }
  }
  return true;
}

/** What one rule reads: see the module comment. */
export function readsOf(rule: CompiledRule): RuleReads {
  const c = new Collector();
  // The trigger may be an object of any watched kind.
  const self: Ref[] = [...new Set(rule.watches.map((w) => kindKey(w.apiVersion, w.kind)))].map((kind) => ({ kind, path: [] }));
  const env = new Map<string, Ref[]>([['$', self], ['old', self]]);
  for (const w of rule.watches) {
    if (w.fieldSelector) for (const f of fieldSelectorFields(w.fieldSelector.toString())) c.usePath(kindKey(w.apiVersion, w.kind), f);
  }
  if (rule.changes) c.use(c.value(parse(rule.changes.source), self, new Map(env)));
  if (rule.when !== undefined && typeof rule.when !== 'boolean') c.use(c.value(parse(rule.when.source), self, new Map(env)));
  if (rule.recheckAt) c.use(c.value(parse(rule.recheckAt.source), self, new Map(env)));
  for (const g of rule.generate?.objects ?? []) {
    const genEnv = new Map(env);
    if (g.forEach) {
      const items = c.value(parse(g.forEach.source), self, new Map(env));
      c.use(items);
      genEnv.set('item', items);
    }
    c.template(g.object, self, genEnv);
  }
  for (const action of rule.actions) {
    const actionEnv = new Map(env);
    if (action.forEach) {
      const items = c.value(parse(action.forEach.source), self, new Map(env));
      c.use(items); // how many items there are depends on all of them
      actionEnv.set('item', items);
    }
    if (action.kind === 'update') {
      const kinds = writtenKinds(rule, action.fields);
      if (kinds === undefined) c.reads.dynamic = true;
      else for (const k of kinds) c.reads.looked.add(k); // `$target` comes from the lister
      actionEnv.set('target', (kinds ?? []).map((kind) => ({ kind, path: [] })));
    }
    c.template(action.fields, self, actionEnv);
    if (action.kind === 'patch' || action.kind === 'apply') {
      // The written object's cached state decides whether a patch changes anything: keep what it writes.
      const kinds = writtenKinds(rule, action.fields);
      if (kinds === undefined) {
        c.reads.dynamic = true;
        continue;
      }
      if (action.kind === 'apply') continue; // only its resourceVersion is read
      const type = field(action.fields, 'type');
      const body = field(action.fields, 'patch');
      const paths: string[][] = [];
      const typeName = type ? literalString(type) : 'merge';
      const known = body !== undefined && (typeName === 'json' ? jsonPatchPaths(body, paths) : (typeName === 'merge' || typeName === 'strategic') && mergePatchPaths(body, [], paths));
      for (const kind of kinds) {
        if (!known) c.whole(kind);
        else for (const p of paths) c.usePath(kind, p);
      }
    }
  }
  return c.reads;
}

/** The fields a field selector compares, as paths (`status.phase=Running,spec.nodeName!=x`). */
function fieldSelectorFields(text: string): string[][] {
  return text
    .split(',')
    .map((t) => t.trim().split(/!=|==|=/)[0]?.trim())
    .filter((f): f is string => !!f)
    .map((f) => f.split('.'));
}

/** The reads of a rule set, merged: a kind is read whole when any rule reads it whole. */
export function mergeReads(all: Iterable<RuleReads>): RuleReads {
  const c = new Collector();
  for (const r of all) {
    if (r.dynamic) c.reads.dynamic = true;
    for (const k of r.looked) c.reads.looked.add(k);
    for (const [kind, reads] of r.kinds) {
      if (reads.whole) c.whole(kind);
      else for (const p of reads.paths) c.usePath(kind, p);
    }
  }
  return c.reads;
}

/**
 * The paths the caches of `kind` must keep for `reads`, or undefined when they must keep whole
 * objects: the kind is read whole, any kind may be read (dynamic), or it is looked up through the
 * lister (whose caches are whole, and shared with the rules' own where they watch the same).
 * The paths are the fewest that cover every read, in a stable order.
 */
export function keptPaths(reads: RuleReads, kind: string): string[][] | undefined {
  if (reads.dynamic || reads.looked.has(kind)) return undefined;
  const r = reads.kinds.get(kind);
  if (r === undefined) return [];
  if (r.whole) return undefined;
  // The fewest paths, sorted: one that another lies under is left out.
  const byText = new Map(r.paths.map((p) => [p.join('\u0000'), p]));
  const texts = [...byText.keys()].sort();
  return texts.filter((t) => !texts.some((u) => u !== t && t.startsWith(`${u}\u0000`))).map((t) => byText.get(t)!);
}
