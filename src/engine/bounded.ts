/**
 * bounded: replacements for the JSONata built-ins whose work or result grows with an argument
 * rather than with the steps that call them — `$pad` to a width, `$join`, `$string` (and the
 * `&` operator, which uses it), `$append`, `$replace`, `$sort` without a comparator and
 * `$distinct` — so one call can neither allocate past the limits of limits.ts nor run for longer
 * than a step (the evaluation budget is checked between steps: budget.ts). Each keeps the
 * built-in's signature and result.
 */
import jsonata from 'jsonata';
import { canonicalJson, EvaluationLimitError, MAX_ARRAY, MAX_STRING, tooLong } from './limits.js';

type Fn = (...args: never[]) => unknown;

const builtin = (call: string) => jsonata(call);
const builtinPad = builtin('$pad($s, $w, $c)');
const builtinAppend = builtin('$append($a, $b)');
const builtinReplace = builtin('$replace($s, $p, $r, $n)');
const builtinSort = builtin('$sort($a, $f)');

const tooMany = (what: string) =>
  new EvaluationLimitError(`${what} would have more than the evaluation limit of ${MAX_ARRAY.toLocaleString('en-US')} items`);

/** JSONata's `$string(arg, prettify)`, stopping with EvaluationLimitError past MAX_STRING characters. */
export function boundedString(arg: unknown, prettify = false): string | undefined {
  if (arg === undefined) return undefined;
  if (typeof arg === 'string') return arg;
  if (typeof arg === 'function' || isJsonataFunction(arg)) return '';
  if (typeof arg === 'number' && !Number.isFinite(arg)) throw { code: 'D3001', value: arg, stack: new Error().stack };
  const value = Array.isArray(arg) && (arg as { outerWrapper?: boolean }).outerWrapper ? arg[0] : arg;
  let size = 0;
  const text = JSON.stringify(
    value,
    (key, val: unknown) => {
      size += key.length + (typeof val === 'string' ? val.length : 4);
      if (size > MAX_STRING) throw tooLong('the JSON text of the value');
      if (typeof val === 'number' && Number.isFinite(val)) return Number(val.toPrecision(15));
      return typeof val === 'function' || isJsonataFunction(val) ? '' : val;
    },
    prettify ? 2 : 0,
  );
  return text;
}

function isJsonataFunction(v: unknown): boolean {
  const f = v as { _jsonata_function?: boolean; _jsonata_lambda?: boolean } | null;
  return typeof f === 'object' && f !== null && (f._jsonata_function === true || f._jsonata_lambda === true);
}

/** The `&` operator: both sides as `$string` (undefined as ''), within MAX_STRING. */
export function concat(lhs: unknown, rhs: unknown): string {
  const l = lhs === undefined ? '' : (boundedString(lhs) ?? '');
  const r = rhs === undefined ? '' : (boundedString(rhs) ?? '');
  if (l.length + r.length > MAX_STRING) throw tooLong('the string built with &');
  return l + r;
}

/** The replacements, with JSONata's signatures, registered on every compiled expression. */
export const BOUNDED: Record<string, [Fn, string]> = {
  string: [(arg: unknown, prettify?: boolean) => boundedString(arg, prettify === true), '<x-b?:s>'],
  pad: [
    (str: string | undefined, width: number, char?: string) => {
      if (str === undefined) return undefined;
      if (Math.abs(Math.trunc(width)) > MAX_STRING) throw tooLong(`$pad to width ${width}`);
      return builtinPad.evaluate({}, { s: str, w: width, c: char });
    },
    '<s-ns?:s>',
  ],
  join: [
    (strs: string[] | undefined, separator?: string) => {
      if (strs === undefined) return undefined;
      const sep = separator ?? '';
      let size = sep.length * Math.max(0, strs.length - 1);
      for (const s of strs) size += s.length;
      if (size > MAX_STRING) throw tooLong('the joined string');
      return strs.join(sep);
    },
    '<a<s>s?:s>',
  ],
  append: [
    (a: unknown, b: unknown) => {
      const n = (x: unknown) => (Array.isArray(x) ? x.length : x === undefined ? 0 : 1);
      if (n(a) + n(b) > MAX_ARRAY) throw tooMany('the array built with $append');
      return builtinAppend.evaluate({}, { a, b });
    },
    '<xx:a>',
  ],
  replace: [
    async (str: string | undefined, pattern: unknown, replacement: unknown, limit?: number) => {
      const out = await builtinReplace.evaluate({}, { s: str, p: pattern, r: replacement, n: limit });
      if (typeof out === 'string' && out.length > MAX_STRING) throw tooLong('the result of $replace');
      return out;
    },
    '<s-(sf)(sf)n?:s>',
  ],
  sort: [
    (arr: unknown[] | undefined, comparator?: unknown) => {
      if (arr === undefined || arr.length <= 1) return arr;
      if (arr.length > MAX_ARRAY) throw tooMany('the array to sort');
      if (comparator !== undefined) return builtinSort.evaluate({}, { a: arr, f: comparator });
      const numbers = arr.every((x) => typeof x === 'number');
      if (!numbers && !arr.every((x) => typeof x === 'string')) throw { code: 'D3070', index: 1, stack: new Error().stack };
      return [...(arr as (number | string)[])].sort((a, b) => (a > b ? 1 : a < b ? -1 : 0));
    },
    '<af?:a>',
  ],
  distinct: [
    (arr: unknown) => {
      if (!Array.isArray(arr) || arr.length <= 1) return arr;
      const seen = new Set<string>();
      const out: unknown[] = [];
      for (const x of arr) {
        const key = x !== null && typeof x === 'object' ? `o${canonicalJson(x)}` : `${typeof x}:${String(x)}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(x);
      }
      if ((arr as { sequence?: boolean }).sequence) (out as { sequence?: boolean }).sequence = true;
      return out;
    },
    '<x:x>',
  ],
  eval: [
    () => {
      throw new EvaluationLimitError('$eval is not available in rules: the expression it builds would run outside the checks a rule is loaded with');
    },
    '<sx?:x>',
  ],
};

/** Name under which `concat` is registered. */
export const CONCAT = '__reflexConcat';

type Node = { type?: string; value?: unknown; position?: number; lhs?: Node; rhs?: Node; procedure?: Node; arguments?: Node[] };

/** Rewrites every `a & b` of a compiled expression's syntax tree into a call of the bounded `concat`. */
export function boundConcatenation(ast: unknown, seen = new Set<unknown>()): void {
  if (ast === null || typeof ast !== 'object' || seen.has(ast)) return;
  seen.add(ast);
  for (const v of Object.values(ast)) {
    if (Array.isArray(v)) for (const x of v) boundConcatenation(x, seen);
    else if (v !== null && typeof v === 'object' && !(v instanceof RegExp)) boundConcatenation(v, seen);
  }
  const n = ast as Node;
  if (n.type === 'binary' && n.value === '&') {
    n.type = 'function';
    n.value = '(';
    n.procedure = { type: 'variable', value: CONCAT, position: n.position };
    n.arguments = [n.lhs!, n.rhs!];
    delete n.lhs;
    delete n.rhs;
  }
}
