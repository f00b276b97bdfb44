/**
 * template: `{{ expr }}` inside action values. A string that is exactly one `{{ expr }}` takes the
 * expression's type; otherwise the results are interpolated as text. A field (or array item)
 * whose expression yields undefined is omitted.
 */
import { ExpressionRuntimeError, Expression, type ExpressionLimits } from './expression.js';
import { EvalErrorCode, RuleEvaluationError } from './errors.js';
import { pointerSegment } from './yaml-source.js';
import { EvaluationLimitError, MAX_ARRAY, MAX_STRING, tooLong } from './limits.js';

/** A compiled template value. */
export type TemplateNode =
  | { t: 'lit'; v: unknown }
  | { t: 'expr'; e: Expression; where: string }
  | { t: 'text'; parts: (string | Expression)[]; where: string }
  | { t: 'obj'; entries: [string, TemplateNode][] }
  | { t: 'arr'; items: TemplateNode[] };

/** Reports a compile error of the expression starting at `index` of the string at `pointer`. */
export type TemplateErrorSink = (pointer: string, index: number, message: string, cause: unknown) => void;

/** Splits a string into text and `{{ … }}` parts; `}}` inside strings or nested braces does not end a part. */
export function splitTemplate(s: string): ({ text: string } | { expr: string; start: number })[] {
  const out: ({ text: string } | { expr: string; start: number })[] = [];
  let i = 0;
  let last = 0;
  while ((i = s.indexOf('{{', i)) >= 0) {
    const start = i + 2;
    let j = start;
    let depth = 0;
    let quote: string | null = null;
    for (; j < s.length; j++) {
      const c = s[j];
      if (quote) {
        if (c === '\\') j++;
        else if (c === quote) quote = null;
      } else if (c === '"' || c === "'" || c === '`') quote = c;
      else if (c === '{') depth++;
      else if (c === '}') {
        if (depth === 0 && s[j + 1] === '}') break;
        depth--;
      }
    }
    if (j >= s.length) break;
    if (i > last) out.push({ text: s.slice(last, i) });
    out.push({ expr: s.slice(start, j), start });
    i = last = j + 2;
  }
  if (last < s.length) out.push({ text: s.slice(last) });
  return out;
}

/** Compiles a value (from YAML) into a template; `pointer` locates it in its document. */
export function compileTemplate(
  value: unknown,
  pointer: string,
  where: string,
  limits: ExpressionLimits,
  onError: TemplateErrorSink,
): TemplateNode {
  if (typeof value === 'string') {
    const parts = splitTemplate(value);
    if (!parts.some((p) => 'expr' in p)) return { t: 'lit', v: value };
    const compiled: (string | Expression)[] = [];
    for (const p of parts) {
      if ('text' in p) {
        compiled.push(p.text);
        continue;
      }
      try {
        compiled.push(new Expression(p.expr, limits));
      } catch (err) {
        const e = err as { index?: number; message?: string };
        onError(pointer, p.start + (e.index ?? 0), e.message ?? String(err), err);
        compiled.push(p.expr);
      }
    }
    if (compiled.length === 1 && compiled[0] instanceof Expression) return { t: 'expr', e: compiled[0], where };
    const trimmed = compiled.filter((c) => !(typeof c === 'string' && c.trim() === ''));
    if (trimmed.length === 1 && trimmed[0] instanceof Expression) return { t: 'expr', e: trimmed[0], where };
    return { t: 'text', parts: compiled, where };
  }
  if (Array.isArray(value)) {
    const items = value.map((v, i) => compileTemplate(v, `${pointer}/${i}`, `${where}[${i}]`, limits, onError));
    return items.every((n) => n.t === 'lit') ? { t: 'lit', v: value } : { t: 'arr', items };
  }
  if (value !== null && typeof value === 'object') {
    const entries: [string, TemplateNode][] = Object.entries(value).map(([k, v]) => [
      k,
      compileTemplate(v, `${pointer}/${pointerSegment(k)}`, `${where}.${k}`, limits, onError),
    ]);
    return entries.every(([, n]) => n.t === 'lit') ? { t: 'lit', v: value } : { t: 'obj', entries };
  }
  return { t: 'lit', v: value };
}


/**
 * Turns a JSONata result into plain JSON (drops sequence flags and functions). A result whose
 * parts are shared (`[$a, $a]` nested thirty times) is not expanded past the limits: past
 * MAX_ARRAY values or MAX_STRING characters in all it throws EvaluationLimitError.
 */
export function plain(v: unknown): unknown {
  if (v === undefined || v === null || typeof v !== 'object') return typeof v === 'function' ? undefined : v;
  const budget = { values: 0, chars: 0 };
  return copy(v, budget);
}

/** `plain` of the result of `e`, a limit error reported as the RuleEvaluationError of `rule` and `where`. */
export function plainOf(v: unknown, e: Expression, rule: string, where: string): unknown {
  try {
    return plain(v);
  } catch (err) {
    if (err instanceof EvaluationLimitError) {
      throw new RuleEvaluationError(rule, where, e.source, `exceeded an evaluation limit: ${err.message}`, { code: EvalErrorCode.limit, cause: err });
    }
    throw err;
  }
}

function copy(v: unknown, budget: { values: number; chars: number }): unknown {
  if (++budget.values > MAX_ARRAY) throw new EvaluationLimitError(`the result has more than ${MAX_ARRAY.toLocaleString('en-US')} values`);
  if (typeof v === 'string' && (budget.chars += v.length) > MAX_STRING) throw tooLong('the result');
  if (v === undefined || v === null || typeof v !== 'object') return typeof v === 'function' ? undefined : v;
  if (Array.isArray(v)) {
    const out: unknown[] = [];
    for (const x of v) {
      const p = copy(x, budget);
      if (p !== undefined) out.push(p);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const p = copy(x, budget);
    if (p !== undefined) out[k] = p;
  }
  return out;
}

function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Renders a template; a rendering error is a RuleEvaluationError naming `rule`, the field and the expression. */
export async function renderTemplate(node: TemplateNode, input: unknown, bindings: Record<string, unknown>, rule: string): Promise<unknown> {
  switch (node.t) {
    case 'lit':
      return node.v === null || typeof node.v !== 'object' ? node.v : structuredClone(node.v);
    case 'expr':
      return plainOf(await run(node.e, input, bindings, rule, node.where), node.e, rule, node.where);
    case 'text': {
      let s = '';
      for (const p of node.parts) {
        s += typeof p === 'string' ? p : text(plainOf(await run(p, input, bindings, rule, node.where), p, rule, node.where));
        if (s.length > MAX_STRING) throw new RuleEvaluationError(rule, node.where, '', `exceeded an evaluation limit: ${tooLong('the text').message}`, { code: EvalErrorCode.limit });
      }
      return s;
    }
    case 'arr': {
      const out: unknown[] = [];
      for (const item of node.items) {
        const v = await renderTemplate(item, input, bindings, rule);
        if (v !== undefined) out.push(v);
      }
      return out;
    }
    case 'obj': {
      const out: Record<string, unknown> = {};
      for (const [k, n] of node.entries) {
        const v = await renderTemplate(n, input, bindings, rule);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
  }
}

/** Evaluates one expression, turning its failure into a RuleEvaluationError. */
export async function run(e: Expression, input: unknown, bindings: Record<string, unknown>, rule: string, where: string): Promise<unknown> {
  try {
    return await e.evaluate(input, bindings);
  } catch (err) {
    if (err instanceof ExpressionRuntimeError) throw new RuleEvaluationError(rule, where, e.source, err.message, { code: err.code, cause: err });
    throw err;
  }
}
