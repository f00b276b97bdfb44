/**
 * expression: JSONata compiled once, evaluated under a time budget and a depth limit, with
 * Reflex's bindings ($old, $event, $rule, $item, $target, $now, $millis, $get, $list).
 */
import jsonata from 'jsonata';
import { ReflexError, type Clock, type KubeObject } from '../core/index.js';
import { EvalErrorCode } from './errors.js';
import { parseLabelSelector, type LabelSelector } from './selectors.js';
import type { ObjectLister, RuleEvent } from './types.js';

/** Guard rails of every evaluation. */
export interface ExpressionLimits {
  /** Wall-clock budget of one evaluation, ms. Default 100 (a condition over one object takes microseconds). */
  timeoutMs?: number;
  /** Maximum nesting depth of the evaluator. Default 500 (deep enough for any sane rule, shallow enough to stop runaway recursion). */
  maxDepth?: number;
}

export const DEFAULT_LIMITS: Required<ExpressionLimits> = { timeoutMs: 100, maxDepth: 500 };

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

const isoNoPicture = (ms: number) => new Date(ms).toISOString();
const fromMillis = jsonata('$fromMillis($ms, $picture, $timezone)');
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

/** Builds the bindings of one evaluation scope; reused by every expression of one rule evaluation. */
export function bindingsFor(scope: EvaluationScope): Record<string, unknown> {
  const { clock, lister } = scope;
  return {
    old: scope.old,
    event: scope.event,
    rule: scope.rule,
    item: scope.item,
    target: scope.target,
    now: (picture?: string, timezone?: string) =>
      picture === undefined && timezone === undefined
        ? isoNoPicture(clock.now())
        : fromMillis.evaluate({}, { ms: clock.now(), picture, timezone }),
    millis: () => clock.now(),
    get: (apiVersion: string, kind: string, namespace: unknown, name: string) =>
      lister.get(String(apiVersion), String(kind), nsArg(namespace), String(name)),
    list: async (apiVersion: string, kind: string, namespace?: unknown, labelSelector?: unknown) => {
      const items = await lister.list(String(apiVersion), String(kind), nsArg(namespace));
      if (labelSelector === undefined || labelSelector === null || labelSelector === '') return [...items];
      const s = selector(String(labelSelector));
      return items.filter((o) => s.matches(o.metadata?.labels));
    },
  };
}

/** A compiled JSONata expression. */
export class Expression {
  private readonly compiled: jsonata.Expression;

  /** Compiles `source`; throws ExpressionSyntaxError pointing at the offending character. */
  constructor(
    readonly source: string,
    limits: ExpressionLimits = {},
  ) {
    const l = { ...DEFAULT_LIMITS, ...limits };
    try {
      this.compiled = jsonata(source, { timeout: l.timeoutMs, stack: l.maxDepth });
    } catch (err) {
      const e = err as { message?: string; position?: number; token?: string };
      const pos = typeof e.position === 'number' ? e.position : 0;
      const token = typeof e.token === 'string' && e.token !== '(end)' ? e.token : '';
      const index = Math.max(0, Math.min(source.length, pos - token.length));
      throw new ExpressionSyntaxError(`JSONata syntax error: ${e.message ?? String(err)}`, index, err);
    }
  }

  /** Evaluates against `input`; rejects with ExpressionRuntimeError (timeout, depth, runtime). */
  async evaluate(input: unknown, bindings: Record<string, unknown>): Promise<unknown> {
    try {
      return await this.compiled.evaluate(input, bindings);
    } catch (err) {
      throw classify(err);
    }
  }
}

function classify(err: unknown): ExpressionRuntimeError {
  const e = err as { code?: string; message?: string; position?: number; value?: unknown };
  if (e?.code === 'D1012') return new ExpressionRuntimeError(`ran out of its time budget (${String(e.value)} ms)`, EvalErrorCode.timeout, err);
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
