/**
 * OutcomeMapper: the one place that maps what processing a key came to (ReconcileOutcome) to
 * the queue, and reports failures:
 *
 * | outcome   | queue                                                   | reported                              |
 * |-----------|---------------------------------------------------------|---------------------------------------|
 * | done      | forget                                                   | the key recovers                      |
 * | recheck   | forget; added again at `at` (one re-check per key)       | the key recovers                      |
 * | transient | change kept; rate-limited retry (≥ Retry-After)          | gauge, last error, log on a new reason; one Warning Event after a few retries |
 * | (given up)| only with `maxRetries` > 0: forget, change dropped       | Warning Event, retries-exhausted metric |
 * | forbidden | change kept; retry at the slowest backoff                | gauge, last error, one Warning Event  |
 * | terminal  | forget, change dropped: again when object or rule change | last error, metric, one Warning Event |
 * | skipped   | forget, change dropped                                   | (the limit reports itself)            |
 *
 * Every row replaces what was scheduled for the key before (a re-check, a retry still waiting):
 * the newest evaluation decides.
 */
import type { Clock, KubeObject, Logger } from '../core/index.js';
import type { RateLimitingQueue } from '../queue/index.js';
import type { PendingChange } from './coalesce.js';
import type { FailureBook } from './failure-book.js';
import type { ControllerHooks } from './hooks.js';
import type { Intake } from './intake.js';
import type { Failure, ReconcileOutcome } from './outcome.js';

type FailureKind = 'transient' | 'forbidden' | 'terminal';

/** Consecutive transient failures of a key before it is reported with a Warning Event (~1.3 s of backoff from 5 ms). */
export const REPORT_TRANSIENT_AFTER = 8;

/** What the mapper knows of the key it settles. */
export interface SettleContext {
  rule: string;
  /** The object evaluated (Warning Events are about it). */
  trigger?: KubeObject;
  /** The change taken for this evaluation (kept for a retry). */
  change?: PendingChange;
  /** Takes out of a message what it may not say (the values a rule read from Secrets). */
  scrub?: (text: string) => string;
}

export interface OutcomeMapperOptions {
  queue: Pick<RateLimitingQueue, 'forget' | 'addRateLimited' | 'numRequeues' | 'cancelAfter'>;
  intake: Pick<Intake, 'putBack' | 'recheck' | 'cancelRecheck'>;
  book: FailureBook;
  clock: Clock;
  logger: Logger;
  hooks: ControllerHooks;
  /** Emits a Warning Event about `obj` (best effort). */
  warn(rule: string, obj: KubeObject, reason: string, message: string): void;
  /** Transient failures of one key before giving up; 0 (the default) never gives up. */
  maxRetries?: number;
}

export class OutcomeMapper {
  constructor(private readonly o: OutcomeMapperOptions) {}

  /** Applies `outcome` of processing `key`: the queue operation, the books, the reports. */
  apply(key: string, outcome: ReconcileOutcome, ctx: SettleContext): void {
    const { queue, intake, book } = this.o;
    this.o.hooks.settled?.(key, outcome);
    switch (outcome.kind) {
      case 'done':
      case 'skipped':
        queue.forget(key);
        this.cancelDelayed(key);
        book.recovered(key);
        return;
      case 'recheck': {
        queue.forget(key);
        book.recovered(key);
        const last = ctx.trigger ?? ctx.change?.last;
        if (last) intake.recheck(key, outcome.at, last);
        return;
      }
      case 'transient': {
        const retries = queue.numRequeues(key);
        const max = this.o.maxRetries ?? 0;
        this.cancelDelayed(key);
        if (max > 0 && retries >= max) return this.giveUp(key, outcome.failure, ctx, retries);
        this.failed(key, outcome.failure, ctx, 'transient', 'retrying with backoff', retries + 1);
        if (retries + 1 === REPORT_TRANSIENT_AFTER) this.report(key, ctx, 'ReflexRetrying', outcome.failure, `still failing after ${retries + 1} attempts, retrying with backoff`);
        if (ctx.change) intake.putBack(key, ctx.change);
        queue.addRateLimited(key, { lane: ctx.change?.lane, ...(outcome.retryAfterMs !== undefined ? { atLeastMs: outcome.retryAfterMs } : {}) });
        return;
      }
      case 'forbidden':
        this.cancelDelayed(key);
        this.failed(key, outcome.failure, ctx, 'forbidden', 'retrying at the slowest backoff (RBAC may be fixed)');
        this.report(key, ctx, 'ReflexForbidden', outcome.failure, 'forbidden; retried at the slowest backoff until RBAC allows it');
        if (ctx.change) intake.putBack(key, ctx.change);
        queue.addRateLimited(key, { lane: ctx.change?.lane, slowest: true });
        return;
      case 'terminal':
        queue.forget(key);
        this.cancelDelayed(key);
        this.failed(key, outcome.failure, ctx, 'terminal', 'not retrying until the object or the rule changes');
        this.report(key, ctx, outcome.failure.action ? 'ReflexActionFailed' : 'ReflexEvaluationFailed', outcome.failure, 'not retried until the object or the rule changes');
        return;
    }
  }

  /** This evaluation replaces whatever was scheduled for the key: a re-check, or a retry still waiting. */
  private cancelDelayed(key: string): void {
    this.o.intake.cancelRecheck(key);
    this.o.queue.cancelAfter(key);
  }

  private failed(key: string, f: Failure, ctx: SettleContext, outcome: FailureKind, what: string, retry?: number): void {
    const now = this.o.clock.now();
    const fresh = this.o.book.failed(key, f, now, outcome !== 'terminal');
    this.o.hooks.ruleError?.(ctx.rule, f.action ? 'action' : 'evaluation');
    this.o.hooks.failure?.(ctx.rule, outcome, f.reason);
    const fields = { rule: ctx.rule, object: key.slice(key.indexOf('|') + 1), reason: f.reason, ...(f.action ? { action: f.action } : {}), ...(retry ? { retry } : {}), error: f.message };
    // A new reason is worth a line at info (warn when not retried); repeats go to debug.
    if (!fresh) this.o.logger.debug(`${f.action ?? 'evaluation'} failed again; ${what}`, fields);
    else if (outcome === 'transient') this.o.logger.info(`${f.action ?? 'evaluation'} failed; ${what}`, fields);
    else this.o.logger.warn(`${f.action ?? 'evaluation'} failed; ${what}`, fields);
  }

  private giveUp(key: string, f: Failure, ctx: SettleContext, retries: number): void {
    this.o.queue.forget(key);
    this.o.book.failed(key, f, this.o.clock.now(), false);
    this.o.hooks.retriesExhausted?.(ctx.rule);
    this.o.hooks.failure?.(ctx.rule, 'transient', f.reason);
    this.o.logger.error(`${f.action ?? 'evaluation'} failed ${retries + 1} times; giving up (queue.maxRetries) until the object or the rule changes`, { rule: ctx.rule, object: key.slice(key.indexOf('|') + 1), reason: f.reason, error: f.message });
    this.report(key, ctx, 'ReflexRetriesExhausted', f, `failed ${retries + 1} times; giving up until the object or the rule changes`);
  }

  /** One Warning Event per (rule, object, reason) until the key recovers; its note is one line: `rule R: MESSAGE (WHAT)`. */
  private report(key: string, ctx: SettleContext, eventReason: string, f: Failure, what: string): void {
    if (!ctx.trigger || !this.o.book.reportOnce(key, `${eventReason}/${f.reason}`)) return;
    this.o.warn(ctx.rule, ctx.trigger, eventReason, `rule ${ctx.rule}: ${f.message} (${what})`);
  }
}
