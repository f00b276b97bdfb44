/** Errors of the engine: where a rule failed to load, and why a rule failed to evaluate. */
import { ReflexError } from '../core/index.js';

/** A place in a rule source: file, 0-based document index, 1-based line and column. */
export interface SourceLocation {
  file: string;
  document: number;
  line: number;
  column: number;
}

/** One problem found while loading rules; `toString()` is `file:line:col: message`. */
export class RuleLoadError extends ReflexError {
  constructor(
    readonly location: SourceLocation,
    readonly reason: string,
    options: { code?: string; cause?: unknown; rule?: string } = {},
  ) {
    super(`${location.file}:${location.line}:${location.column}: ${reason}`, { code: options.code ?? 'ERR_RULE_LOAD', cause: options.cause });
    this.rule = options.rule;
  }
  /** The rule's name, when the document got far enough to have one. */
  readonly rule: string | undefined;
}

/** A rule failed while being evaluated: an expression threw, ran out of time or went too deep. */
export class RuleEvaluationError extends ReflexError {
  constructor(
    readonly rule: string,
    /** Which expression: `when`, `changes`, `actions[2].patch`, … */
    readonly where: string,
    readonly expression: string,
    message: string,
    options: { code?: string; cause?: unknown } = {},
  ) {
    super(`rule "${rule}": ${where} ${JSON.stringify(expression)}: ${message}`, {
      code: options.code ?? 'ERR_RULE_EVAL',
      cause: options.cause,
    });
  }
}

/** Codes of RuleEvaluationError. */
export const EvalErrorCode = {
  timeout: 'ERR_RULE_EVAL_TIMEOUT',
  depth: 'ERR_RULE_EVAL_DEPTH',
  /** A string, array or JSON text past the limits of an evaluation (docs/rules.md, "Limits"). */
  limit: 'ERR_RULE_EVAL_LIMIT',
  runtime: 'ERR_RULE_EVAL',
} as const;
