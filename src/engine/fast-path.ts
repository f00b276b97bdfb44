/**
 * fast-path: a pure-JS evaluator for the simplest JSONata expressions, the ones most rules use:
 * comparisons `path = literal`, `path = path` and their `!=`, `$exists(path)`, `$not(…)`, and
 * `and`/`or` of those, where a path is plain field names; and a lone path (a template's
 * `{{ data.gen }}`); an `and`/`or` whose left side is on the fast path is
 * decided here whenever that side decides it (JSONata short-circuits), else by JSONata. It follows JSONata's semantics on plain objects (a missing
 * field makes `=` and `!=` false; `and`/`or` short-circuit) and bails out to JSONata whenever
 * the data leaves that ground (an array on the way or at the end, an array as input).
 */
import type jsonata from 'jsonata';

/** Returned when the fast path cannot decide: evaluate with JSONata instead. */
export const BAIL: unique symbol = Symbol('bail');

export type FastEvaluator = (input: unknown) => unknown;

type Node = jsonata.ExprNode & { stages?: unknown; predicate?: unknown; group?: unknown; focus?: unknown; tuple?: unknown; keepArray?: unknown; keepSingletonArray?: unknown };

function plainPath(n: Node): string[] | undefined {
  if ((n.type as string) !== 'path' || !n.steps || n.keepSingletonArray || n.group) return undefined;
  const names: string[] = [];
  for (const s of n.steps as Node[]) {
    if (s.type !== 'name' || s.stages || s.predicate || s.group || s.focus || s.tuple || s.keepArray) return undefined;
    names.push(String(s.value));
  }
  return names;
}

/** Walks a path: the value there, undefined when missing, BAIL when an array is met (JSONata would map over it). */
export function walk(input: unknown, names: string[]): unknown {
  let cur = input;
  for (const name of names) {
    if (Array.isArray(cur)) return BAIL;
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[name];
  }
  return Array.isArray(cur) ? BAIL : cur;
}

const isLiteral = (n: Node) => n.type === 'string' || n.type === 'number' || (n.type === 'value' && typeof n.value === 'boolean');

/** The plain path and the literal of a comparison `path op literal` (either way round), or undefined. */
function pathAndLiteral(n: Node): RequiredEquality | undefined {
  const lhs = n.lhs as Node;
  const rhs = n.rhs as Node;
  const [pathNode, lit] = isLiteral(rhs) ? [lhs, rhs] : isLiteral(lhs) ? [rhs, lhs] : [undefined, undefined];
  const path = pathNode && plainPath(pathNode);
  return path && lit ? { path, value: lit.value as string | number | boolean } : undefined;
}

function build(n: Node): FastEvaluator | undefined {
  if (n.type === 'binary' && (n.value === '=' || n.value === '!=')) {
    const lhs = n.lhs as Node;
    const rhs = n.rhs as Node;
    const left = plainPath(lhs);
    const right = plainPath(rhs);
    if (left && right) {
      const equal = n.value === '=';
      return (input) => {
        const a = walk(input, left);
        const b = walk(input, right);
        if (a === BAIL || b === BAIL) return BAIL;
        if (a === undefined || b === undefined) return false;
        // JSONata compares objects deeply; only values compared by === stay here.
        if ((a !== null && typeof a === 'object') || (b !== null && typeof b === 'object')) return BAIL;
        return equal ? a === b : a !== b;
      };
    }
    const compared = pathAndLiteral(n);
    if (!compared) return undefined;
    const { path, value } = compared;
    const equal = n.value === '=';
    return (input) => {
      const v = walk(input, path);
      if (v === BAIL) return BAIL;
      if (v === undefined) return false;
      return equal ? v === value : v !== value;
    };
  }
  if (n.type === 'binary' && (n.value === 'and' || n.value === 'or')) {
    const l = build(n.lhs as Node);
    if (!l) return undefined;
    // JSONata's and/or short-circuit: when the left side decides, the right one is never evaluated,
    // so a right side outside the fast path only matters when the left one does not decide.
    const r = build(n.rhs as Node) ?? (() => BAIL);
    const and = n.value === 'and';
    return (input) => {
      const a = l(input);
      if (a === BAIL) return BAIL;
      if (and ? !a : a) return and ? false : true;
      const b = r(input);
      return b === BAIL ? BAIL : Boolean(b);
    };
  }
  if (n.type === 'function' && (n.procedure as Node | undefined)?.type === 'variable' && (n.procedure as Node).value === 'not' && n.arguments?.length === 1) {
    const inner = build(n.arguments[0] as Node);
    if (!inner) return undefined;
    return (input) => {
      const v = inner(input);
      return v === BAIL ? BAIL : !v; // every fast evaluator yields a boolean
    };
  }
  if (n.type === 'function' && (n.procedure as Node | undefined)?.type === 'variable' && (n.procedure as Node).value === 'exists' && n.arguments?.length === 1) {
    const names = plainPath(n.arguments[0] as Node);
    if (!names) return undefined;
    return (input) => {
      const v = walk(input, names);
      return v === BAIL ? BAIL : v !== undefined;
    };
  }
  return undefined;
}

/** A comparison the whole expression needs true: `path = literal` alone or as a conjunct of `and`s. */
export interface RequiredEquality {
  path: string[];
  value: string | number | boolean;
}

/**
 * The first `path = literal` that `ast` cannot be true without (a conjunct of its top-level
 * `and` chain), or undefined. An object whose value at `path` is another plain value makes the
 * expression false; an array there leaves it undecided (JSONata would map over it).
 */
export function requiredEquality(ast: jsonata.ExprNode): RequiredEquality | undefined {
  const n = ast as Node;
  if (n.type === 'binary' && n.value === 'and') return requiredEquality(n.lhs as Node) ?? requiredEquality(n.rhs as Node);
  return n.type === 'binary' && n.value === '=' ? pathAndLiteral(n) : undefined;
}

/** A fast evaluator for `ast`, or undefined when the expression is outside the fast path. */
export function compileFast(ast: jsonata.ExprNode): FastEvaluator | undefined {
  // A lone path yields its value (only at the top: inside and/or/$not, JSONata casts to boolean).
  const names = plainPath(ast as Node);
  const f = names ? (input: unknown) => walk(input, names) : build(ast as Node);
  if (!f) return undefined;
  return (input) => (Array.isArray(input) ? BAIL : f(input));
}
