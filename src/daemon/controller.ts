/**
 * RuleController: drains the work queue of (rule, object) keys: each key is evaluated on the
 * newest cached state, its plan run, and what that came to (a ReconcileOutcome) applied to the
 * queue in one place, the OutcomeMapper (docs/architecture.md). What is queued, and with which change,
 * is the Intake's business; binding rules to informers and timers is the RuleRegistry's.
 *
 * Concurrency: N workers; the queue never hands one key to two of them.
 */
import { errorMessage, nullLogger, realClock, type Clock, type KubeObject, type Logger } from '../core/index.js';
import { oneLine, type KubeClient } from '../client/index.js';
import { RateLimitingWorkQueue, defaultControllerRateLimiter, noopQueueMetrics, type QueueMetrics, type Lane } from '../queue/index.js';
import type { SharedInformerFactory } from '../informers/index.js';
import { evaluateRule, refOf, type CompiledRule, type Plan, type PlannedAction, type PlannedRef, type RuleEvent } from '../engine/index.js';
import { AccessReviewer, RuleIdentities, type AccessReviewOptions } from './access-review.js';
import { CacheLister } from './cache-lister.js';
import { FailureBook, type LastError } from './failure-book.js';
import type { ControllerHooks, ControllerTrace } from './hooks.js';
import { GenerateSupport, type ServedKind } from './generate-support.js';
import { Intake, splitKey } from './intake.js';
import { classify, type ReconcileOutcome } from './outcome.js';
import { OutcomeMapper, type SettleContext } from './outcome-mapper.js';
import { PlanRunner } from './plan-runner.js';
import { redactPlanned } from './redact.js';
import { RuleBreaker, type Suspension } from './rule-breaker.js';
import { RuleRegistry } from './rule-registry.js';
import { scrubDeep, SecretValues, writesSecrets } from './secret-values.js';

export interface RuleControllerOptions {
  client: KubeClient;
  factory: SharedInformerFactory;
  /** Default the real clock. */
  clock?: Clock;
  /** Default `nullLogger`. */
  logger?: Logger;
  /** Workers. Default 32 (the client's connection pool). */
  workers?: number;
  /** Transient failures of one (rule, object) before giving up on it until it or the rule changes. Default 0: never. */
  maxRetries?: number;
  /** Per-key backoff and overall bucket. Defaults 5 ms → 5 min (jitter 0.1, at the ceiling too), 10 qps, burst 100. */
  queue?: { baseDelayMs?: number; maxDelayMs?: number; qps?: number; burst?: number };
  /** `client`: plan and log, never write; `server`: every write with dryRun=All. Default `none`. */
  dryRun?: 'none' | 'client' | 'server';
  /** Where webhooks may go (webhooks.allowedHosts). Default: anywhere but link-local and metadata addresses. */
  webhooks?: { allowedHosts?: string[] };
  /** Whether this replica may write (leader election). Default: always. Not consulted when `shard` is given. */
  isLeader?: () => boolean;
  /** Sharding: the keys this replica takes (those of the buckets it holds), and their in-flight count per bucket. */
  shard?: ShardGate;
  /** Metrics and traces. */
  hooks?: ControllerHooks;
  queueMetrics?: QueueMetrics;
  /** How often rules whose kind is not served are tried again, ms. Default 5000. */
  pendingRetryMs?: number;
  /** Decision lifetimes of the SubjectAccessReviews of rules that run as a ServiceAccount (access-review.ts). */
  accessReview?: Pick<AccessReviewOptions, 'allowedTtlMs' | 'deniedTtlMs' | 'refreshMs'>;
  /** For the start-up report of generated objects whose rule is not loaded: the served kinds and a labelled listing of one. */
  orphanScan?: { servedKinds: () => Promise<ServedKind[]>; listGenerated: (kind: ServedKind) => Promise<KubeObject[]> };
}

/** How long shutdown waits for workers after the drain (their in-flight requests were cancelled). */
const WORKER_EXIT_MS = 1000;

const DONE: ReconcileOutcome = { kind: 'done' };

/** What the controller asks of sharding (ShardCoordinator implements it). */
export interface ShardGate {
  /** Whether this replica processes `key` now (it holds its bucket). */
  admits(key: string): boolean;
  /** Whether this replica keeps `key`'s changes for later (it holds its bucket or is to take it). */
  wants(key: string): boolean;
  /** The bucket of a key. */
  bucketOf(key: string): number;
  /** This replica's identity (in traces). */
  readonly identity?: string;
  /** A key's processing starts and ends (a bucket is handed over only when none of its keys is in flight). */
  begin(key: string): void;
  /** An object written while processing `key`, as the server returned it (the next owner of its bucket waits to see it). */
  written?(key: string, obj: KubeObject): void;
  end(key: string): void;
}

export class RuleController {
  readonly queue: RateLimitingWorkQueue;
  readonly registry: RuleRegistry;
  /** Between the informers and the queue: what is queued, with which change. */
  readonly intake: Intake;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly hooks: ControllerHooks;
  private readonly lister: CacheLister;
  private readonly book = new FailureBook();
  private readonly mapper: OutcomeMapper;
  /** Aborts in-flight actions when shutdown's grace period runs out. */
  private readonly cancel = new AbortController();
  private readonly runner: PlanRunner;
  private inFlight = 0;
  /** Generate rules and dependencies (generate-support.ts). */
  private readonly generate: GenerateSupport;
  /** The rules of the last setRules. */
  private rules = new Map<string, CompiledRule>();
  /** Suspends rules whose evaluations keep running out of their budget (rule-breaker.ts). */
  private readonly breaker: RuleBreaker;
  /** Impersonated writes and reviewed reads of rules that run as a ServiceAccount. */
  private readonly identities: RuleIdentities;

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
    this.intake = new Intake({ queue: this.queue, clock: this.clock, ...(o.shard ? { wants: (key: string) => o.shard!.wants(key) } : {}) });
    this.lister = new CacheLister(o.factory);
    this.registry = new RuleRegistry({
      client: o.client,
      factory: o.factory,
      clock: this.clock,
      logger: this.log,
      pendingRetryMs: o.pendingRetryMs ?? 5000,
      intake: this.intake,
      onActivated: (name) => {
        this.hooks.ruleActivated?.(name);
        void this.pruneStale(name);
      },
      onSynced: (name) => this.hooks.ruleSynced?.(name),
      onStopped: (name) => this.book.forgetRule(name),
    });
    this.generate = new GenerateSupport({
      factory: o.factory,
      lister: this.lister,
      logger: this.log.child({ component: 'generate' }),
      hooks: this.hooks,
      requeue: (rule, objKey, event) => {
        const active = this.registry.active(rule);
        if (active) this.intake.notify(active, objKey, event);
      },
      ruleNamed: (name) => this.registry.active(name)?.rule ?? this.rules.get(name),
      ruleNames: () => [...this.rules.keys()],
      ...(o.orphanScan ?? {}),
    });
    const reviewer = new AccessReviewer({
      ...o.accessReview,
      client: o.client,
      clock: this.clock,
      logger: this.log.child({ component: 'access-review' }),
      // A read allowed again: the keys waiting out their Forbidden backoff are tried now.
      onChange: (sa, _attributes, decision) => {
        if (!decision.allowed) return;
        const runsAs = (name: string) => {
          const r = this.rules.get(name)?.runAs;
          return r !== undefined && r.namespace === sa.namespace && r.name === sa.name;
        };
        this.intake.requeuePending((key) => runsAs(splitKey(key)[0]));
      },
    });
    this.identities = new RuleIdentities(o.client, reviewer);
    this.runner = new PlanRunner({
      client: o.client,
      clientFor: (rule) => this.identities.clientFor(rule),
      registry: this.registry,
      lookup: (t) => this.generate.inventory.get(t),
      guard: this.intake.guard,
      clock: this.clock,
      logger: this.log,
      hooks: this.hooks,
      dryRun: o.dryRun,
      webhooks: o.webhooks,
      signal: this.cancel.signal,
    });
    this.breaker = new RuleBreaker({
      clock: this.clock,
      onClosed: (name) => {
        this.hooks.ruleSuspended?.(name, false);
        const active = this.registry.active(name);
        if (active) this.intake.sweep(active, 'sync'); // what it skipped while suspended
      },
    });
    this.mapper = new OutcomeMapper({
      queue: this.queue,
      intake: this.intake,
      book: this.book,
      clock: this.clock,
      logger: this.log,
      hooks: this.hooks,
      warn: (rule, obj, reason, message) => void this.runner.warn(rule, obj, reason, message),
      maxRetries: o.maxRetries ?? 0,
    });
  }

  /** Replaces the rules in force: new and changed rules start (seeing existing objects as `sync`), removed ones stop. */
  async setRules(rules: Map<string, CompiledRule>): Promise<void> {
    const before = this.rules;
    this.rules = rules;
    for (const name of before.keys()) if (before.get(name) !== rules.get(name) && this.breaker.forget(name)) this.hooks.ruleSuspended?.(name, false);
    this.identities.retain(rules.values());
    const prunes = this.generate.rulesChanged(before, rules);
    await this.registry.setRules(rules);
    if (prunes.length > 0 && (this.o.isLeader?.() ?? true)) await this.runPrunes(before, prunes);
  }

  /** Runs the prunes of generate rules outside an evaluation (a rule removed, triggers gone), each with the object's uid as precondition. */
  private async runPrunes(rules: Map<string, CompiledRule>, prunes: Plan): Promise<void> {
    for (const [name, rule] of rules) {
      const mine = prunes.filter((p) => p.rule === name);
      if (mine.length === 0) continue;
      const trace: ControllerTrace = { time: '', rule: name, object: mine[0].trigger, event: 'delete', condition: false, planned: [], executed: [], durationMs: 0 };
      const run = await this.runner.run(rule, mine, { apiVersion: rule.watch.apiVersion, kind: rule.watch.kind, metadata: { name: '' } }, trace);
      const failed = run.results.filter((r) => r.status === 'failed');
      if (failed.length > 0) this.log.warn('could not delete all a generate rule no longer declares', { rule: name, failed: failed.length, error: errorMessage(failed[0].cause) });
    }
  }

  /** Prunes what a generate rule generated for triggers that went while the daemon was not running. */
  private async pruneStale(name: string): Promise<void> {
    const active = this.registry.active(name);
    if (!active?.rule.generate) return;
    try {
      const prunes = await this.generate.stale(active.rule, active.informers);
      if (prunes.length === 0 || !(this.o.isLeader?.() ?? true) || this.registry.active(name) !== active) return;
      await this.runPrunes(new Map([[name, active.rule]]), prunes);
    } catch (err) {
      this.log.warn('could not look for objects generated for triggers that are gone', { rule: name, error: errorMessage(err) });
    }
  }

  /** Recorded reads of the dependency index (a gauge). */
  dependencyEntries(): number {
    return this.generate.dependencies.stats().entries;
  }

  /** Re-evaluates every cached object of every rule as `sync` (after gaining leadership). */
  resyncAll(): void {
    this.registry.sweepAll('sync');
  }

  /** Re-evaluates, as `sync`, every cached object whose key falls in one of `buckets` (just taken by this replica). */
  sweepBuckets(buckets: number[]): void {
    const shard = this.o.shard;
    if (!shard) return;
    const taken = new Set(buckets);
    const inTaken = (key: string) => taken.has(shard.bucketOf(key));
    this.intake.requeuePending(inTaken);
    this.registry.sweepAll('sync', inTaken);
  }

  /** Names of the rules waiting for their kind to be served. */
  pendingRules(): string[] {
    return this.registry.pendingRules();
  }

  /** Keys waiting for a retry after a transient or forbidden failure, per rule (for a gauge). */
  keysInRetry(): Record<string, number> {
    return this.book.inRetry();
  }

  /** Re-checks scheduled (by recheckAt), per rule (for a gauge). */
  rechecksPending(): Record<string, number> {
    return this.intake.rechecksPerRule();
  }

  /** The last error of a rule since it started, if any (for the rule's status). */
  lastError(rule: string): LastError | undefined {
    return this.book.lastError(rule);
  }

  /** Runs the workers until `signal` aborts; then drains in-flight work for at most `drainMs`. */
  async run(signal: AbortSignal, options: { drainMs?: number } = {}): Promise<void> {
    const workers = Array.from({ length: this.o.workers ?? 32 }, () => this.worker());
    this.identities.reviewer.start();
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    this.registry.stop();
    this.generate.close();
    this.breaker.stop();
    this.identities.reviewer.stop();
    const drained = await this.queue.shutdownWithDrain({ timeoutMs: options.drainMs ?? 25_000 });
    if (!drained) {
      this.log.warn('shutdown: in-flight work did not finish within the grace period; cancelling it', { inFlight: this.inFlight });
      this.cancel.abort(); // in-flight requests and webhooks end now
    }
    // Drained workers return at once; cancelled ones as soon as their request ends. Bounded all the same.
    await Promise.race([Promise.all(workers), new Promise((r) => setTimeout(r, WORKER_EXIT_MS).unref())]);
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.inFlight++;
      const ctx: SettleContext = { rule: splitKey(key)[0] };
      this.o.shard?.begin(key);
      let outcome: ReconcileOutcome;
      try {
        outcome = await this.process(key, ctx);
      } catch (err) {
        // Never a lost key: an unexpected exception is a transient failure, its change kept.
        const message = (ctx.scrub ?? String)(errorMessage(err));
        this.log.error('unexpected failure while processing a key; retrying it', { key, error: message });
        outcome = { kind: 'transient', failure: { reason: 'Unexpected', message: oneLine(message), cause: err } };
      }
      try {
        this.mapper.apply(key, outcome, ctx);
      } finally {
        this.inFlight--;
        this.o.shard?.end(key);
        this.queue.done(key);
      }
      // A turn for the event loop between keys: evaluations run in promise continuations.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Processes one key: evaluate the newest state, run the plan, say what it came to. Fills `ctx` as it learns. */
  private async process(key: string, ctx: SettleContext): Promise<ReconcileOutcome> {
    const [ruleName, objKey] = splitKey(key);
    // A bucket this replica does not hold (yet, or for a moment): its change stays pending until the bucket is taken.
    if (this.o.shard && !this.o.shard.admits(key)) return this.o.shard.wants(key) ? DONE : (this.intake.take(key), DONE);
    const change = this.intake.take(key);
    ctx.change = change;
    const active = this.registry.active(ruleName);
    if (!change || !active) return DONE;
    if (!this.o.shard && !(this.o.isLeader?.() ?? true)) return DONE; // a new leader re-syncs everything
    const rule = active.rule;
    if (this.breaker.suspended(rule.name)) return DONE; // swept again when the suspension ends
    let obj = active.current(objKey);
    let event: RuleEvent = change.event;
    if (!obj) this.generate.forget(key);
    if (!obj) {
      if (!rule.on.includes('delete')) return DONE;
      obj = change.last;
      event = 'delete';
    } else if (event === 'delete') {
      event = 'create'; // deleted and re-created before we got to it
    }
    ctx.trigger = obj;
    // A re-check is the rule's own request (its recheckAt), so it needs no `on`.
    if (event !== 'recheck' && !rule.on.includes(event)) return DONE;
    if (change.sweep !== undefined && this.intake.sweepStopped(rule.name, change.sweep)) return { kind: 'skipped', limit: 'max-actions-per-run' };

    const started = this.clock.now();
    const trace: ControllerTrace = { time: '', rule: rule.name, object: refOf(obj), event, condition: false, planned: [], executed: [], durationMs: 0 };
    // A rule that reads Secrets: what its failures say is scrubbed of the values it read (secret-values.ts).
    let secrets = rule.sensitive ? new SecretValues() : undefined;
    if (secrets) {
      secrets.add(obj);
      secrets.add(change.old);
      ctx.scrub = secrets.scrubber;
    }
    if (this.o.shard?.identity !== undefined) trace.shard = { replica: this.o.shard.identity, bucket: this.o.shard.bucketOf(key) };
    let plan: Plan;
    // What to say when nothing is left to do now: the re-check the evaluation asked for, or done.
    let settled: ReconcileOutcome = DONE;
    try {
      // A rule running as a ServiceAccount sees only what that ServiceAccount may list and get.
      await this.identities.admitTrigger(rule, obj);
      const lister = this.generate.listerFor(rule);
      const reviewed = this.identities.listerFor(rule, lister);
      const evaluation = await evaluateRule(rule, event, obj, change.old, {
        clock: this.clock,
        lister: secrets ? secrets.recording(reviewed) : reviewed,
        scopeOf: (a, k) => this.registry.scopeOf(a, k),
        onFiltered: (reason) => (trace.filtered = reason),
      });
      plan = evaluation.plan;
      if (evaluation.recheckAt !== undefined) settled = { kind: 'recheck', at: evaluation.recheckAt };
      if (event !== 'delete') this.generate.recorded(key, lister);
      if (rule.generate) {
        // The declared set becomes the writes that make the cluster equal to it (prunes included).
        const trigger = obj;
        plan = await this.generate.complete(rule, trigger, event, plan, (message) => void this.runner.warn(rule.name, trigger, 'ReflexGenerateConflict', message));
      }
    } catch (err) {
      this.hooks.evaluated?.(rule.name, 'error');
      trace.condition = 'error';
      trace.error = secrets ? secrets.scrub(errorMessage(err)) : errorMessage(err);
      this.publish(trace, started);
      const suspension = this.breaker.failed(rule.name, err, secrets?.scrubber);
      if (suspension) this.suspended(suspension, obj);
      return classify(err, undefined, secrets?.scrubber);
    }
    this.hooks.evaluated?.(rule.name, plan.length > 0 ? 'match' : 'nomatch');
    trace.condition = plan.length > 0;
    // A target named after a value read from Secrets is shown masked too (`scrubDeep`: the forms are built once per evaluation).
    if (this.tracing()) trace.planned = plan.map((p) => redactPlanned(secrets ? { ...p, target: scrubDeep(p.target, secrets.scrubber, 0) as PlannedRef } : p));
    if (plan.length === 0) {
      this.publish(trace, started);
      return settled;
    }
    if (change.sweep !== undefined && !this.withinSweep(rule, change.sweep, obj, plan)) {
      trace.skipped = 'max-actions-per-run';
      this.publish(trace, started);
      return { kind: 'skipped', limit: 'max-actions-per-run' };
    }
    // What is written into Secrets is scrubbed from failures too, whatever the rule reads.
    if (writesSecrets(plan)) {
      secrets ??= new SecretValues();
      for (const p of plan) secrets.addWrite(p);
      ctx.scrub = secrets.scrubber;
    }
    if (secrets && rule.sensitive) plan = plan.map((p) => scrubEventReason(p, secrets!));
    const run = await this.runner.run(rule, plan, obj, trace, secrets);
    for (const r of run.results) if (r.object && r.status === 'done' && !r.audit && !r.dryRun) this.o.shard?.written?.(key, r.object);
    if (rule.generate) for (const r of run.results) this.generate.written(r.object);
    if (run.tripped) {
      this.loopGuardTripped(rule, obj, run.tripped, secrets?.scrubber);
      trace.skipped = 'loop-guard';
    }
    this.publish(trace, started);
    const failed = run.results.find((r) => r.status === 'failed');
    if (failed) return classify(failed.cause ?? new Error(`${failed.action} failed`), failed.action, secrets?.scrubber);
    return run.tripped ? { kind: 'skipped', limit: 'loop-guard' } : settled;
  }

  /** Charges a sweep's plan to its maxActionsPerRun budget; false (reported once) when it stops the sweep. */
  private withinSweep(rule: CompiledRule, sweep: RuleEvent, obj: KubeObject, plan: Plan): boolean {
    // A generate rule's applies are what it declares; its sweeps' blast radius counts the prunes.
    const charged = rule.generate ? plan.filter((p) => p.action === 'delete').length : plan.length;
    const charge = this.intake.chargeSweep(rule.name, sweep, charged, rule.limits.maxActionsPerRun);
    if (charge === 'ok') return true;
    if (charge === 'limit-reached') {
      this.hooks.ruleError?.(rule.name, 'maxActionsPerRun');
      const message = `rule ${rule.name}: the ${sweep} sweep reached maxActionsPerRun (${rule.limits.maxActionsPerRun}); the rest of this sweep is skipped`;
      this.log.warn(message, { rule: rule.name, sweep });
      void this.runner.warn(rule.name, obj, 'ReflexSweepLimit', message);
    }
    return false;
  }

  /** The breaker suspended a rule: said once (log, metric, a Warning Event on the object of the last overrun). */
  private suspended(s: Suspension, obj: KubeObject): void {
    this.hooks.ruleError?.(s.rule, 'suspended');
    this.hooks.ruleSuspended?.(s.rule, true);
    this.log.warn(s.message, { rule: s.rule });
    void this.runner.warn(s.rule, obj, 'ReflexRuleSuspended', s.message);
  }

  /** The loop guard held a write back: counted, and said once per (rule, target) and window. */
  private loopGuardTripped(rule: CompiledRule, obj: KubeObject, target: PlannedRef, scrub: (text: string) => string = String): void {
    this.hooks.loopGuard?.(rule.name);
    if (!this.intake.guard.shouldReport(rule.name, target, this.clock.now())) return;
    const where = scrub(`${target.kind} ${target.namespace ? `${target.namespace}/` : ''}${target.name}`);
    const limit = rule.limits.actionsPerObjectPerMinute;
    const message = `rule ${rule.name}: more than ${limit} changing writes to ${where} within a minute; holding them back (loop guard: is another rule or controller changing it back?)`;
    this.log.warn(message, { rule: rule.name, target: where });
    void this.runner.warn(rule.name, obj, 'ReflexLoopGuard', message);
  }

  /** Whether decision traces are consumed now (traces are only built for what is evaluated anyway). */
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

/** An Event's reason is shown as it is (its note is masked): it says no value read from Secrets either. */
function scrubEventReason(p: PlannedAction, secrets: SecretValues): PlannedAction {
  const body = p.body as { reason?: unknown } | null;
  if (p.action !== 'event' || typeof body?.reason !== 'string') return p;
  return { ...p, body: { ...body, reason: secrets.scrub(body.reason) } };
}

export type { Lane };
