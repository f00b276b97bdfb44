/**
 * RuleController: turns informer events into queue keys (`rule|namespace/name`) and
 * queue keys into evaluations and actions. It owns the retry policy (design.md §3):
 * one place maps an outcome to forget, rate-limited requeue, or give up.
 *
 * Concurrency: N workers; the queue never hands one key to two of them. Handlers only
 * record the change and enqueue; workers read the newest state from the cache.
 */
import { errorMessage, nullLogger, objectKey, realClock, type Clock, type KubeObject, type Logger } from '../core/index.js';
import type { KubeClient } from '../client/index.js';
import { RateLimitingWorkQueue, defaultControllerRateLimiter, noopQueueMetrics, type QueueMetrics, type Lane } from '../queue/index.js';
import type { SharedInformerFactory } from '../informers/index.js';
import { evaluate, refOf, rejects, type CompiledRule, type Plan, type RuleEvent } from '../engine/index.js';
import type { ActionResult } from '../actions/index.js';
import { coalesce, type PendingChange } from './coalesce.js';
import { LoopGuard } from './loop-guard.js';
import { PlanRunner } from './plan-runner.js';
import { redactPlanned } from './redact.js';
import { CacheLister, isCacheNotSynced } from './cache-lister.js';
import { RuleRegistry, type ActiveRule } from './rule-registry.js';
import type { ControllerHooks, ControllerTrace } from './hooks.js';

export interface RuleControllerOptions {
  client: KubeClient;
  factory: SharedInformerFactory;
  /** Default the real clock. */
  clock?: Clock;
  /** Default `nullLogger`. */
  logger?: Logger;
  /** Workers. Default 4. */
  workers?: number;
  /** Retries of a failing (rule, object) before giving up with a Warning Event. Default 10. */
  maxRetries?: number;
  /** Per-key backoff and overall bucket. Defaults 5 ms → 1000 s, 10 qps, burst 100. */
  queue?: { baseDelayMs?: number; maxDelayMs?: number; qps?: number; burst?: number };
  /** `client`: plan and log, never write; `server`: every write with dryRun=All. Default `none`. */
  dryRun?: 'none' | 'client' | 'server';
  /** Whether this replica may write (leader election). Default: always. */
  isLeader?: () => boolean;
  /** Metrics and traces. */
  hooks?: ControllerHooks;
  queueMetrics?: QueueMetrics;
  /** How often rules whose kind is not served are tried again, ms. Default 5000. */
  pendingRetryMs?: number;
}

/** How long shutdown waits for workers after the drain (their in-flight requests were cancelled). */
const WORKER_EXIT_MS = 1000;

export class RuleController {
  readonly queue: RateLimitingWorkQueue;
  readonly registry: RuleRegistry;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly hooks: ControllerHooks;
  private readonly lister: CacheLister;
  /** Changes not yet processed, by rule name, then object key (the queue's key is `rule|object`). */
  private readonly pending = new Map<string, Map<string, PendingChange>>();
  private readonly guard = new LoopGuard();
  /** Aborts in-flight actions when shutdown's grace period runs out. */
  private readonly cancel = new AbortController();
  private readonly runner: PlanRunner;
  private inFlight = 0;

  constructor(private readonly o: RuleControllerOptions) {
    this.clock = o.clock ?? realClock;
    this.log = o.logger ?? nullLogger;
    this.hooks = o.hooks ?? {};
    const q = o.queue ?? {};
    this.queue = new RateLimitingWorkQueue({
      clock: this.clock,
      metrics: o.queueMetrics ?? noopQueueMetrics,
      rateLimiter: defaultControllerRateLimiter({
        clock: this.clock,
        baseDelayMs: q.baseDelayMs,
        maxDelayMs: q.maxDelayMs,
        qps: q.qps,
        burst: q.burst,
      }),
    });
    this.lister = new CacheLister(o.factory);
    this.registry = new RuleRegistry({
      client: o.client,
      factory: o.factory,
      lister: this.lister,
      clock: this.clock,
      logger: this.log,
      pendingRetryMs: o.pendingRetryMs ?? 5000,
      enqueue: (rule, obj, change, objKey, decidedFalse) => this.enqueue(rule, obj, change, objKey, decidedFalse),
      onActivated: (name) => this.hooks.ruleActivated?.(name),
    });
    this.runner = new PlanRunner({
      client: o.client,
      registry: this.registry,
      clock: this.clock,
      logger: this.log,
      hooks: this.hooks,
      dryRun: o.dryRun,
      signal: this.cancel.signal,
    });
  }

  /** Replaces the rules in force: new and changed rules start (seeing existing objects as `sync`), removed ones stop. */
  setRules(rules: Map<string, CompiledRule>): Promise<void> {
    return this.registry.setRules(rules);
  }

  /** Re-evaluates every cached object of every rule as `sync` (after gaining leadership). */
  resyncAll(): void {
    this.registry.sweepAll('sync');
  }

  /** Number of rules waiting for their kind to be served. */
  pendingRules(): string[] {
    return this.registry.pendingRules();
  }

  /** Runs the workers until `signal` aborts; then drains in-flight work for at most `drainMs`. */
  async run(signal: AbortSignal, options: { drainMs?: number } = {}): Promise<void> {
    const workers = Array.from({ length: this.o.workers ?? 32 }, () => this.worker());
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.registry.stop();
    const drained = await this.queue.shutdownWithDrain({ timeoutMs: options.drainMs ?? 25_000 });
    if (!drained) {
      this.log.warn('shutdown: in-flight work did not finish within the grace period; cancelling it', { inFlight: this.inFlight });
      this.cancel.abort(); // in-flight requests and webhooks end now
    }
    // Drained workers return at once; cancelled ones as soon as their request ends. Bounded all the same.
    await Promise.race([Promise.all(workers), new Promise((r) => setTimeout(r, WORKER_EXIT_MS).unref())]);
  }

  /**
   * Records a change and enqueues its key (handlers call this; cheap, synchronous).
   * `decidedFalse`: the caller already knows the rule's condition is false on `obj`.
   */
  private enqueue(rule: ActiveRule, obj: KubeObject, change: PendingChange, objKey = objectKey(obj), decidedFalse = false): void {
    if (!rule.rule.on.includes(change.event) && change.event !== 'delete') return;
    const name = rule.rule.name;
    const pending = this.pending.get(name)?.get(objKey);
    // A key whose condition is already decided false on this (newest) state would plan nothing:
    // not queued, unless a change is pending (the worker reads this state then) or traces are watched.
    if (!pending && !this.tracing() && (decidedFalse || rejects(rule.rule, obj))) return;
    const merged = coalesce(pending, change);
    this.setPending(name, objKey, merged);
    this.queue.add(`${name}|${objKey}`, { lane: merged.lane });
  }

  private setPending(rule: string, objKey: string, change: PendingChange): void {
    let forRule = this.pending.get(rule);
    if (!forRule) this.pending.set(rule, (forRule = new Map()));
    forRule.set(objKey, change);
  }

  /** Takes (removes and returns) the change pending for a key. */
  private takePending(rule: string, objKey: string): PendingChange | undefined {
    const forRule = this.pending.get(rule);
    const change = forRule?.get(objKey);
    if (change === undefined) return undefined;
    forRule!.delete(objKey);
    if (forRule!.size === 0) this.pending.delete(rule);
    return change;
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.inFlight++;
      try {
        await this.process(key);
      } catch (err) {
        this.log.error('unexpected failure while processing a key', { key, error: errorMessage(err) });
        this.queue.forget(key);
      } finally {
        this.inFlight--;
        this.queue.done(key);
      }
    }
  }

  /** Processes one key: evaluate the newest state, run the plan, map the outcome to the queue. */
  private async process(key: string): Promise<void> {
    const [ruleName, objKey] = splitKey(key);
    const change = this.takePending(ruleName, objKey);
    const active = this.registry.active(ruleName);
    if (!change || !active) {
      this.queue.forget(key);
      return;
    }
    if (!(this.o.isLeader?.() ?? true)) {
      this.queue.forget(key); // a new leader re-syncs everything
      return;
    }
    const rule = active.rule;
    let obj = active.current(objKey);
    let event: RuleEvent = change.event;
    if (!obj) {
      if (!rule.on.includes('delete')) return this.finish(key);
      obj = change.last;
      event = 'delete';
    } else if (event === 'delete') {
      event = 'create'; // deleted and re-created before we got to it
    }
    if (!rule.on.includes(event)) return this.finish(key);
    const run = change.sweep !== undefined ? active.sweeps.get(change.sweep) : undefined;
    if (run?.stopped) return this.finish(key);

    const started = this.clock.now();
    const trace: ControllerTrace = { time: '', rule: rule.name, object: refOf(obj), event, condition: false, planned: [], executed: [], durationMs: 0 };
    let plan: Plan;
    try {
      plan = await evaluate(rule, event, obj, change.old, { clock: this.clock, lister: this.lister, scopeOf: (a, k) => this.registry.scopeOf(a, k) });
    } catch (err) {
      this.hooks.evaluated?.(rule.name, 'error');
      trace.condition = 'error';
      trace.error = errorMessage(err);
      this.publish(trace, started);
      if (isCacheNotSynced(err)) {
        // Transient: a cache it reads is still starting. Retried with backoff, not counted as a rule error.
        this.log.info('a cache the rule reads is not synced yet; retrying', { rule: rule.name, object: objKey, error: errorMessage(err) });
        this.retryLater(key, change);
        return;
      }
      this.hooks.ruleError?.(rule.name, 'evaluation');
      this.log.warn('rule evaluation failed', { rule: rule.name, object: objKey, event, error: errorMessage(err) });
      this.queue.forget(key); // deterministic: retrying cannot help
      return;
    }
    this.hooks.evaluated?.(rule.name, plan.length > 0 ? 'match' : 'nomatch');
    trace.condition = plan.length > 0;
    if (this.tracing()) trace.planned = plan.map(redactPlanned);
    if (plan.length === 0) {
      this.publish(trace, started);
      return this.finish(key);
    }
    if (this.loopGuardTrips(key, rule, obj, plan)) {
      trace.skipped = 'loop-guard';
      this.publish(trace, started);
      return this.finish(key);
    }
    if (run) {
      if (run.actions + plan.length > rule.limits.maxActionsPerRun) {
        run.stopped = true;
        this.hooks.ruleError?.(rule.name, 'maxActionsPerRun');
        const message = `rule ${rule.name}: the ${run.event} sweep reached maxActionsPerRun (${rule.limits.maxActionsPerRun}); the rest of this sweep is skipped`;
        this.log.warn(message, { rule: rule.name, sweep: run.event });
        void this.runner.warn(rule.name, obj, 'ReflexSweepLimit', message);
        trace.skipped = 'max-actions-per-run';
        this.publish(trace, started);
        return this.finish(key);
      }
      run.actions += plan.length;
    }
    const results = await this.runner.run(rule, plan, obj, trace);
    this.guard.record(key, results, this.clock.now());
    this.publish(trace, started);
    this.settle(key, rule, obj, change, results);
  }

  /** The one place that maps an outcome to a queue operation. */
  private settle(key: string, rule: CompiledRule, obj: KubeObject, change: PendingChange, results: ActionResult[]): void {
    const failed = results.find((r) => r.status === 'failed');
    if (!failed) return this.finish(key);
    const error = errorMessage(failed.cause);
    this.hooks.ruleError?.(rule.name, 'action');
    if (failed.cause?.terminal) {
      this.log.warn('action failed; not retrying (retrying cannot help)', { rule: rule.name, action: failed.action, target: failed.target, error });
      void this.runner.warn(rule.name, obj, 'ReflexActionFailed', `rule ${rule.name}: ${failed.action} failed: ${error}`);
      return this.finish(key);
    }
    const retries = this.queue.numRequeues(key);
    const maxRetries = this.o.maxRetries ?? 10;
    if (retries < maxRetries) {
      this.log.info('action failed; retrying with backoff', { rule: rule.name, action: failed.action, target: failed.target, retry: retries + 1, error });
      this.retryLater(key, change);
      return;
    }
    this.hooks.retriesExhausted?.(rule.name);
    const message = `rule ${rule.name}: ${failed.action} of ${describe(failed.target)} failed ${retries + 1} times; giving up: ${error}`;
    this.log.error(message, { rule: rule.name });
    void this.runner.warn(rule.name, obj, 'ReflexRetriesExhausted', message);
    this.finish(key);
  }

  /** Puts `change` back (merged with anything newer) and requeues its key after the rate limiter's delay. */
  private retryLater(key: string, change: PendingChange): void {
    const [rule, objKey] = splitKey(key);
    const newer = this.pending.get(rule)?.get(objKey);
    this.setPending(rule, objKey, newer ? coalesce(change, newer) : change);
    this.queue.addRateLimited(key, { lane: change.lane });
  }

  private finish(key: string): void {
    this.queue.forget(key);
  }

  /** The loop guard: a plan that would exceed actionsPerObjectPerMinute writes skips the key, said once per window. */
  private loopGuardTrips(key: string, rule: CompiledRule, obj: KubeObject, plan: Plan): boolean {
    const now = this.clock.now();
    if (!this.guard.trips(key, plan, rule.limits.actionsPerObjectPerMinute, now)) return false;
    this.hooks.loopGuard?.(rule.name);
    if (this.guard.shouldReport(key, now)) {
      const message = `rule ${rule.name}: more than ${rule.limits.actionsPerObjectPerMinute} actions on ${objectKey(obj)} within a minute; skipping it (loop guard: is another rule or controller changing it back?)`;
      this.log.warn(message, { rule: rule.name, object: objectKey(obj) });
      void this.runner.warn(rule.name, obj, 'ReflexLoopGuard', message);
    }
    return true;
  }

  /** Whether decision traces are consumed now. */
  private tracing(): boolean {
    return this.hooks.trace !== undefined && this.hooks.tracing?.() !== false;
  }

  private publish(trace: ControllerTrace, started: number): void {
    if (!this.tracing()) return;
    trace.time = new Date(started).toISOString();
    trace.durationMs = this.clock.now() - started;
    this.hooks.trace?.(trace);
  }
}

function describe(t: { kind: string; namespace?: string; name: string }): string {
  return `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}`;
}

export type { Lane };

/** A queue key `rule|namespace/name` as its rule name and object key. */
function splitKey(key: string): [rule: string, objKey: string] {
  const bar = key.indexOf('|');
  return [key.slice(0, bar), key.slice(bar + 1)];
}
