/**
 * expression: JSONata compiled once, evaluated under a time budget and a depth limit, with
 * Reflex's bindings ($old, $event, $rule, $item, $target, $now, $millis, $get, $list).
 */
import jsonata from 'jsonata';
import { ReflexError, type Clock, type KubeObject } from '../core/index.js';
import { EvalErrorCode } from './errors.js';
import { BAIL, compileFast, requiredEquality, type FastEvaluator, type RequiredEquality } from './fast-path.js';
import { parseLabelSelector, type LabelSelector } from '../core/index.js';
import type { ObjectLister, RuleEvent } from './types.js';
import { fromMillis, LIBRARY } from './functions.js';
import { compileRegex, Re2RegExp, RegexCompileError } from './functions-regex.js';
import { BOUNDED, boundConcatenation, concat, CONCAT } from './bounded.js';
import { GuardedOptions } from './budget.js';
import { MAX_ARRAY } from './limits.js';

/** Guard rails of every evaluation. */
export interface ExpressionLimits {
  /**
   * Wall-clock budget of one evaluation, ms. Default 1000: a condition over one object takes
   * microseconds, but on a busy node a process can be descheduled or paused by GC for tens of
   * milliseconds, and a budget that fires on a healthy rule would be worse than a late stop of a
   * runaway one. An evaluation that ran out of time after waiting on the lister (a cache started
   * on first use) is run once more, so that wait does not count against it. A long evaluation
   * gives the event loop a turn every 10 ms (budget.ts), so the budget is not time the process
   * stands still.
   */
  timeoutMs?: number;
  /** Maximum nesting depth of the evaluator. Default 500 (deep enough for any sane rule, shallow enough to stop runaway recursion). */
  maxDepth?: number;
  /** Evaluate the simplest conditions in plain JS (fast-path.ts). Default true; off only to measure. */
  fastPath?: boolean;
}

export const DEFAULT_LIMITS: Required<ExpressionLimits> = { timeoutMs: 1000, maxDepth: 500, fastPath: true };

/** A JSONata syntax error; `index` is the 0-based character in the expression it points at. */
export class ExpressionSyntaxError extends ReflexError {
  constructor(
    readonly reason: string,
    readonly index: number,
    cause: unknown,
  ) {
    super(reason, { code: 'ERR_EXPRESSION_SYNTAX', cause });
  }
}

/** An evaluation failed; `code` tells a timeout, a depth overflow or a runtime error apart. */
export class ExpressionRuntimeError extends ReflexError {
  constructor(message: string, code: string, cause: unknown) {
    super(message, { code, cause });
  }
}

/** What an evaluation sees besides `$`. */
export interface EvaluationScope {
  clock: Clock;
  lister: ObjectLister;
  event: RuleEvent;
  old: KubeObject | undefined;
  rule: Record<string, unknown>;
  item?: unknown;
  target?: KubeObject;
}

const selectorCache = new Map<string, LabelSelector>();

function selector(text: string): LabelSelector {
  let s = selectorCache.get(text);
  if (!s) {
    s = parseLabelSelector(text);
    if (selectorCache.size > 1000) selectorCache.clear();
    selectorCache.set(text, s);
  }
  return s;
}

const nsArg = (ns: unknown): string | undefined => (ns === null || ns === undefined || ns === '' ? undefined : String(ns));

/** The binding under which the scope travels to Reflex's functions (registered once per expression). */
const SCOPE = '__reflexScope';

/** The binding of the running evaluation's time budget. */
const BUDGET = '__reflexBudget';

/** How long one evaluation waited on the lister. */
interface Budget {
  waitedMs: number;
}

type Env = { lookup(name: string): unknown };
type Focus = { environment: Env };
const scopeOf = (focus: Focus) => focus.environment.lookup(SCOPE) as EvaluationScope;

/** Awaits a lister answer, crediting the wait to the evaluation's budget. */
async function waited<T>(focus: Focus, answer: T | Promise<T>): Promise<T> {
  if (!(answer instanceof Promise)) return answer;
  const t = Date.now();
  try {
    return await answer;
  } finally {
    const b = focus.environment.lookup(BUDGET) as Budget | undefined;
    if (b) b.waitedMs += Date.now() - t;
  }
}


/** $now, $millis, $get and $list (they read the evaluation's scope) and the library of functions.ts. */
const FUNCTIONS: Record<string, (this: Focus, ...args: never[]) => unknown> = {
  ...LIBRARY,
  now(this: Focus, picture?: string, timezone?: string) {
    const ms = scopeOf(this).clock.now();
    return picture === undefined && timezone === undefined ? new Date(ms).toISOString() : fromMillis(ms, picture, timezone);
  },
  millis(this: Focus) {
    return scopeOf(this).clock.now();
  },
  get(this: Focus, apiVersion: string, kind: string, namespace: unknown, name: string) {
    return waited(this, scopeOf(this).lister.get(String(apiVersion), String(kind), nsArg(namespace), String(name)));
  },
  async list(this: Focus, apiVersion: string, kind: string, namespace?: unknown, labelSelector?: unknown) {
    const items = await waited(this, scopeOf(this).lister.list(String(apiVersion), String(kind), nsArg(namespace), labelSelector ? String(labelSelector) : undefined));
    if (labelSelector === undefined || labelSelector === null || labelSelector === '') return [...items];
    const s = selector(String(labelSelector));
    return items.filter((o) => s.matches(o.metadata?.labels));
  },
};

/** Builds the bindings of one evaluation scope; reused by every expression of one rule evaluation. */
export function bindingsFor(scope: EvaluationScope): Record<string, unknown> {
  const b: Record<string, unknown> = { old: scope.old, event: scope.event, rule: scope.rule, [SCOPE]: scope, [BUDGET]: { waitedMs: 0 } };
  if ('item' in scope) b.item = scope.item;
  if (scope.target !== undefined) b.target = scope.target;
  return b;
}

/** A compiled JSONata expression. */
export class Expression {
  private readonly compiled: jsonata.Expression;
  /** The options it was compiled with: budget, depth, sizes, regex engine, yielding (budget.ts). */
  private readonly guard: GuardedOptions;
  /** A pure-JS evaluator for the simplest conditions (see fast-path.ts), or undefined. */
  private readonly fast: FastEvaluator | undefined;
  /** A `path = literal` the expression cannot be true without (with the fast path on), for indexing rules. */
  readonly requiredEquality: RequiredEquality | undefined;

  /** Compiles `source`; throws ExpressionSyntaxError pointing at the offending character. */
  constructor(
    readonly source: string,
    limits: ExpressionLimits = {},
  ) {
    const l = { ...DEFAULT_LIMITS, ...limits };
    try {
      // Yielding: budget.ts; sizes: the sequence option and bounded.ts.
      // JSONata's own guard rails check time and depth at every step (cheaper than an entry hook).
      this.guard = new GuardedOptions(l.timeoutMs, l.maxDepth, MAX_ARRAY, Re2RegExp);
      this.compiled = jsonata(source, this.guard as unknown as jsonata.JsonataOptions);
      this.guard.attach(this.compiled);
      checkPatterns(this.compiled.ast());
      boundConcatenation(this.compiled.ast());
      for (const [name, fn] of Object.entries(FUNCTIONS)) this.compiled.registerFunction(name, fn as never);
      for (const [name, [fn, signature]] of Object.entries(BOUNDED)) this.compiled.registerFunction(name, fn as never, signature);
      this.compiled.registerFunction(CONCAT, concat as never);
      this.fast = l.fastPath ? compileFast(this.compiled.ast()) : undefined;
      this.requiredEquality = l.fastPath ? requiredEquality(this.compiled.ast()) : undefined;
    } catch (err) {
      if (err instanceof PositionedError) throw new ExpressionSyntaxError(err.message, Math.min(source.length, err.position), err);
      const e = err as { message?: string; position?: number; token?: string };
      const pos = typeof e.position === 'number' ? e.position : 0;
      const token = typeof e.token === 'string' && e.token !== '(end)' ? e.token : '';
      const index = Math.max(0, Math.min(source.length, pos - token.length));
      throw new ExpressionSyntaxError(`JSONata syntax error: ${e.message ?? String(err)}`, index, err);
    }
  }

  /** The parsed JSONata tree (read-only: for static checks such as constant expressions). */
  ast(): unknown {
    return this.compiled.ast();
  }

  /**
   * The value on `input` when the pure-JS fast path can decide it without JSONata (and without
   * any binding: the fast path reads only `$`); undefined when only JSONata can tell.
   */
  decide(input: unknown): unknown {
    if (!this.fast) return undefined;
    const r = this.fast(input);
    return r === BAIL ? undefined : r;
  }

  /** Evaluates against `input`; rejects with ExpressionRuntimeError (timeout, depth, runtime). */
  async evaluate(input: unknown, bindings: Record<string, unknown>): Promise<unknown> {
    if (this.fast) {
      const r = this.fast(input);
      if (r !== BAIL) return r;
    }
    try {
      // The bindings of one rule evaluation are used by one expression at a time.
      const budget = (bindings[BUDGET] as Budget | undefined) ?? { waitedMs: 0 };
      budget.waitedMs = 0;
      try {
        return await this.compiled.evaluate(input, bindings);
      } catch (err) {
        // Out of time after waiting on a cache: run again, now that it answers at once.
        if ((err as { code?: string })?.code !== 'D1012' || budget.waitedMs === 0) throw err;
        return await this.compiled.evaluate(input, bindings);
      } finally {
        this.guard.settle();
      }
    } catch (err) {
      throw classify(err);
    }
  }
}

/** A syntax error raised after parsing, at a node of the expression. */
class PositionedError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

type AstNode = { type?: string; value?: unknown; position?: number; procedure?: AstNode; arguments?: AstNode[] };

/**
 * Compiles every regex literal and every `$regex` of a string literal with the linear-time engine,
 * so a pattern it cannot run is a load error at its position rather than a failure of each evaluation.
 */
function checkPatterns(ast: unknown, seen = new Set<unknown>()): void {
  if (ast === null || typeof ast !== 'object' || seen.has(ast)) return;
  seen.add(ast);
  const n = ast as AstNode;
  // JSONata's positions are where a token ends: step back over the literal.
  let start = 0;
  try {
    if (n.type === 'regex' && n.value instanceof RegExp) {
      start = (n.position ?? 0) - n.value.source.length - 2 - n.value.flags.replace('g', '').length;
      compileRegex(n.value.source, n.value.flags);
    }
    const [pattern, flags] = n.arguments ?? [];
    if (n.type === 'function' && n.procedure?.type === 'variable' && n.procedure.value === 'regex' && pattern?.type === 'string') {
      start = (n.procedure.position ?? 0) - '$regex'.length;
      compileRegex(String(pattern.value), flags?.type === 'string' ? String(flags.value) : '');
    }
  } catch (err) {
    if (err instanceof RegexCompileError) throw new PositionedError(err.message, Math.max(0, start));
    throw err;
  }
  for (const v of Object.values(ast)) {
    if (Array.isArray(v)) for (const x of v) checkPatterns(x, seen);
    else if (v !== null && typeof v === 'object' && !(v instanceof RegExp)) checkPatterns(v, seen);
  }
}

function classify(err: unknown): ExpressionRuntimeError {
  const e = err as { code?: string; message?: string; position?: number; value?: unknown };
  if (e?.code === 'D1012') return new ExpressionRuntimeError(`ran out of its time budget (${String(e.value)} ms)`, EvalErrorCode.timeout, err);
  if (e?.code === 'ERR_EVAL_LIMIT' || e?.code === 'D2015' || (err instanceof RangeError && /Invalid (string|array) length/.test(err.message))) {
    return new ExpressionRuntimeError(`exceeded an evaluation limit: ${e.code === 'D2015' ? `a sequence longer than ${String(e.value).replace(/\B(?=(\d{3})+$)/g, ',')} items` : e.message}`, EvalErrorCode.limit, err);
  }
  if (e?.code === 'D1011' || err instanceof RangeError) {
    return new ExpressionRuntimeError(`exceeded the depth limit (${String(e.value ?? 'native stack')})`, EvalErrorCode.depth, err);
  }
  const at = typeof e?.position === 'number' ? ` at character ${e.position}` : '';
  return new ExpressionRuntimeError(`${e?.message ?? String(err)}${e?.code ? ` (${e.code})` : ''}${at}`, EvalErrorCode.runtime, err);
}

/** Truthiness of a `when` result, JSONata-style: undefined, false, 0, '', empty array/object are false. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '' || Number.isNaN(v)) return false;
  if (Array.isArray(v)) return v.some(truthy);
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  if (typeof v === 'function') return false;
  return true;
}
