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
import { evaluate, renderUpdate, type CompiledRule, type Plan, type PlannedAction, type PlannedRef, type RuleEvent } from '../engine/index.js';
import { ActionError, ActionErrorCode, executeAction, type ActionResult } from '../actions/index.js';
import { coalesce, type PendingChange } from './coalesce.js';
import { LoopGuard } from './loop-guard.js';
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

export class RuleController {
  readonly queue: RateLimitingWorkQueue;
  readonly registry: RuleRegistry;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly hooks: ControllerHooks;
  private readonly lister: CacheLister;
  private readonly pending = new Map<string, PendingChange>();
  private readonly guard = new LoopGuard();
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
      enqueue: (rule, obj, change) => this.enqueue(rule, obj, change),
      onActivated: (name) => this.hooks.ruleActivated?.(name),
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
    const workers = Array.from({ length: this.o.workers ?? 4 }, () => this.worker());
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.registry.stop();
    const drained = await this.queue.shutdownWithDrain({ timeoutMs: options.drainMs ?? 25_000 });
    if (!drained) this.log.warn('shutdown: in-flight work did not finish within the grace period', { inFlight: this.inFlight });
    await Promise.race([Promise.all(workers), new Promise((r) => setTimeout(r, 100))]);
  }

  /** Records a change and enqueues its key (handlers call this; cheap, synchronous). */
  private enqueue(rule: ActiveRule, obj: KubeObject, change: PendingChange): void {
    if (!rule.rule.on.includes(change.event) && change.event !== 'delete') return;
    const key = `${rule.rule.name}|${objectKey(obj)}`;
    const merged = coalesce(this.pending.get(key), change);
    this.pending.set(key, merged);
    this.queue.add(key, { lane: merged.lane });
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
    const bar = key.indexOf('|');
    const ruleName = key.slice(0, bar);
    const objKey = key.slice(bar + 1);
    const change = this.pending.get(key);
    this.pending.delete(key);
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
    const trace: ControllerTrace = { time: new Date(started).toISOString(), rule: rule.name, object: refOf(obj), event, condition: false, planned: [], executed: [], durationMs: 0 };
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
    trace.planned = plan.map(redactPlanned);
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
        void this.warn(rule.name, obj, 'ReflexSweepLimit', message);
        trace.skipped = 'max-actions-per-run';
        this.publish(trace, started);
        return this.finish(key);
      }
      run.actions += plan.length;
    }
    const results = await this.execute(rule, plan, obj, trace);
    this.guard.record(key, results, this.clock.now());
    this.publish(trace, started);
    this.settle(key, rule, obj, change, results);
  }

  /** Runs a plan in order (the first failure stops the rest), or only logs it in client dry-run mode. */
  private async execute(rule: CompiledRule, plan: Plan, trigger: KubeObject, trace: ControllerTrace): Promise<ActionResult[]> {
    if (this.o.dryRun === 'client') {
      for (const p of plan) {
        const safe = redactPlanned(p);
        this.log.info('dry-run: planned action', { rule: rule.name, action: p.action, target: p.target, body: safe.body, options: p.options });
        this.hooks.action?.(rule.name, p.action, 'planned');
      }
      return [];
    }
    const options = {
      client: this.o.client,
      mode: rule.mode,
      dryRun: this.o.dryRun === 'server',
      trigger,
      renderUpdate,
      logger: this.log.child({ rule: rule.name }),
      clock: this.clock,
      lookup: (t: PlannedRef) => this.registry.lookup(t),
    };
    const results: ActionResult[] = [];
    for (const p of plan) {
      const started = this.clock.now();
      const r = (await this.unplaced(p)) ?? (await executeAction(p, options));
      results.push(r);
      trace.executed.push({ action: r.action, outcome: r.status, durationMs: this.clock.now() - started, ...(r.cause ? { error: errorMessage(r.cause) } : {}) });
      this.hooks.action?.(rule.name, r.action, r.status);
      if (this.o.dryRun === 'server' && r.status !== 'failed') {
        this.log.info('dry-run (server): the API server accepted', { rule: rule.name, action: r.action, target: r.target, status: r.status, object: r.object });
      }
      if (r.status === 'failed') break;
    }
    return results;
  }

  /**
   * A write to a namespaced kind without a namespace would land in the daemon's own namespace
   * (the client's default): refuse it, naming the fix, instead of writing somewhere unexpected.
   */
  private async unplaced(p: PlannedAction): Promise<ActionResult | undefined> {
    if (p.target.namespace || p.action === 'log' || p.action === 'webhook' || p.action === 'event') return undefined;
    if ((await this.registry.scopeOf(p.target.apiVersion, p.target.kind)) !== 'Namespaced') return undefined;
    const where = p.action === 'apply' || p.action === 'create' ? 'object.metadata.namespace' : 'target.namespace';
    const cause = new ActionError(
      `rule ${p.rule}: ${p.action} of ${p.target.kind} ${p.target.name}: the kind is namespaced but the action names no namespace (and the trigger has none to inherit); set ${where}`,
      p.action,
      p.target,
      { code: ActionErrorCode.invalid, terminal: true },
    );
    return { status: 'failed', action: p.action, target: p.target, cause };
  }

  /** The one place that maps an outcome to a queue operation. */
  private settle(key: string, rule: CompiledRule, obj: KubeObject, change: PendingChange, results: ActionResult[]): void {
    const failed = results.find((r) => r.status === 'failed');
    if (!failed) return this.finish(key);
    const error = errorMessage(failed.cause);
    this.hooks.ruleError?.(rule.name, 'action');
    if (failed.cause?.terminal) {
      this.log.warn('action failed; not retrying (retrying cannot help)', { rule: rule.name, action: failed.action, target: failed.target, error });
      void this.warn(rule.name, obj, 'ReflexActionFailed', `rule ${rule.name}: ${failed.action} failed: ${error}`);
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
    void this.warn(rule.name, obj, 'ReflexRetriesExhausted', message);
    this.finish(key);
  }

  /** Puts `change` back (merged with anything newer) and requeues its key after the rate limiter's delay. */
  private retryLater(key: string, change: PendingChange): void {
    const newer = this.pending.get(key);
    this.pending.set(key, newer ? coalesce(change, newer) : change);
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
      void this.warn(rule.name, obj, 'ReflexLoopGuard', message);
    }
    return true;
  }

  /** Emits a Warning Event about `obj` (best effort: a failure is logged, not retried). */
  private async warn(rule: string, obj: KubeObject, reason: string, message: string): Promise<void> {
    if (this.o.dryRun === 'client') return;
    const target = refOf(obj);
    const planned: PlannedAction = { rule, trigger: { ...target, event: 'sync' }, action: 'event', target, body: { type: 'Warning', reason, message }, options: {} };
    const r = await executeAction(planned, { client: this.o.client, clock: this.clock, dryRun: this.o.dryRun === 'server' }).catch((err: unknown) => ({ status: 'failed' as const, cause: err }));
    if (r.status === 'failed') this.log.warn('could not emit a Warning Event', { rule, reason, error: errorMessage(r.cause) });
  }

  private publish(trace: ControllerTrace, started: number): void {
    trace.durationMs = this.clock.now() - started;
    this.hooks.trace?.(trace);
  }
}

function refOf(obj: KubeObject): ControllerTrace['object'] {
  const ref: ControllerTrace['object'] = { apiVersion: String(obj.apiVersion ?? ''), kind: String(obj.kind ?? ''), name: String(obj.metadata?.name ?? '') };
  if (obj.metadata?.namespace) ref.namespace = obj.metadata.namespace;
  return ref;
}

function describe(t: { kind: string; namespace?: string; name: string }): string {
  return `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}`;
}

export type { Lane };
