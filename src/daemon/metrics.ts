/**
 * metrics: the daemon's Prometheus metrics on its own prom-client Registry (plus the default
 * process metrics): queue, rule evaluations, actions and errors per rule, rule loading, watch
 * restarts, cache sizes and leader state. Every method is cheap and never throws.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Lane, QueueMetrics, QueueStats } from '../queue/index.js';

/** How one evaluation of a rule's condition against an object ended. */
export type EvaluationResult = 'match' | 'nomatch' | 'error';
/** How one action ended: written, skipped as a no-op, skipped because its object is gone, failed, or only planned (dry-run). */
export type ActionOutcome = 'done' | 'skipped-noop' | 'skipped-missing' | 'failed' | 'planned';

export interface DaemonMetricsOptions {
  /** Also collect prom-client's default process metrics (CPU, memory, event loop, GC). Default true. */
  processMetrics?: boolean;
  /**
   * Prefix of the process metrics. Default none: prom-client's standard names
   * (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`…), which stock Node.js dashboards
   * and alerts query; the pod's labels tell the processes apart.
   */
  processPrefix?: string;
}

/** Buckets of queue latency and work duration, seconds: 1 ms … ~100 s, as client-go's workqueue. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 100];

/** The daemon's metrics. `registry.metrics()` renders them in the Prometheus text format. */
export class DaemonMetrics {
  readonly registry = new Registry();
  private queueStats: () => QueueStats | undefined = () => undefined;
  private cacheSizes: () => Record<string, number> = () => ({});

  private readonly queueDepth = new Gauge({
    name: 'reflex_queue_depth', help: 'Keys waiting in the work queue, per lane.', labelNames: ['lane'], registers: [this.registry],
  });
  private readonly queueAdds = new Counter({
    name: 'reflex_queue_adds_total', help: 'Keys added to the work queue, per lane.', labelNames: ['lane'], registers: [this.registry],
  });
  private readonly queueLatency = new Histogram({
    name: 'reflex_queue_latency_seconds', help: 'Time a key waits in the queue before a worker takes it.',
    labelNames: ['lane'], buckets: DURATION_BUCKETS, registers: [this.registry],
  });
  private readonly workDuration = new Histogram({
    name: 'reflex_work_duration_seconds', help: 'Time a worker spends on one key.',
    labelNames: ['lane'], buckets: DURATION_BUCKETS, registers: [this.registry],
  });
  private readonly queueRetries = new Counter({
    name: 'reflex_queue_retries_total', help: 'Rate-limited retries scheduled by the work queue.', registers: [this.registry],
  });
  private readonly evaluations = new Counter({
    name: 'reflex_rule_evaluations_total', help: 'Evaluations of rule conditions, by result (match, nomatch, error).',
    labelNames: ['rule', 'result'], registers: [this.registry],
  });
  private readonly actions = new Counter({
    name: 'reflex_actions_total', help: 'Actions of rules, by outcome (done, skipped-noop, skipped-missing, failed, planned).',
    labelNames: ['rule', 'action', 'outcome'], registers: [this.registry],
  });
  private readonly ruleErrors = new Counter({
    name: 'reflex_rule_errors_total', help: 'Errors while handling a rule, by kind (e.g. expression, forbidden, conflict).',
    labelNames: ['rule', 'kind'], registers: [this.registry],
  });
  private readonly retriesExhausted = new Counter({
    name: 'reflex_retries_exhausted_total', help: 'Objects a rule gave up on after the last retry.', labelNames: ['rule'], registers: [this.registry],
  });
  private readonly failures = new Counter({
    name: 'reflex_rule_failures_total', help: 'Failed evaluations of a rule by how they are handled (transient, forbidden, terminal) and reason (Invalid, NetworkError…).',
    labelNames: ['rule', 'outcome', 'reason'], registers: [this.registry],
  });
  private keysInRetry: () => Record<string, number> = () => ({});
  private rechecks: () => Record<string, number> = () => ({});
  private readonly loopGuard = new Counter({
    name: 'reflex_loop_guard_total', help: 'Actions held back by the per-object action budget (loop guard).', labelNames: ['rule'], registers: [this.registry],
  });
  private readonly loadErrors = new Counter({
    name: 'reflex_rule_load_errors_total', help: 'Rule documents that failed to load or validate, per source.', labelNames: ['source'], registers: [this.registry],
  });
  private readonly rulesLoaded = new Gauge({
    name: 'reflex_rules_loaded', help: 'Rules currently loaded and active.', registers: [this.registry],
  });
  private watchCounts: () => Record<string, number> = () => ({});
  private readonly watchesSeen = new Map<string, number>();
  private readonly watchRestarts: Counter = new Counter({
    name: 'reflex_watch_restarts_total', help: 'Watches restarted (errors, relists, stalls, timeouts), per resource.', labelNames: ['resource'], registers: [this.registry],
    // At each scrape, the watches the informers opened beyond their first one.
    collect: () => {
      for (const [resource, opened] of Object.entries(this.watchCounts())) {
        const restarts = Math.max(0, opened - 1);
        const delta = restarts - (this.watchesSeen.get(resource) ?? 0);
        if (delta > 0) this.watchRestarts.inc({ resource }, delta);
        this.watchesSeen.set(resource, restarts);
      }
    },
  });
  private readonly generateConflicts = new Counter({
    name: 'reflex_generate_conflicts_total', help: 'Generated objects not written because another rule generated them, per rule.', labelNames: ['rule'], registers: [this.registry],
  });
  private readonly generatedOrphans = new Gauge({
    name: 'reflex_generated_orphans', help: 'Generated objects whose rule is not loaded (found at start-up; never deleted), per rule.', labelNames: ['rule'], registers: [this.registry],
  });
  private readonly suspendedRules = new Gauge({
    name: 'reflex_rule_suspended', help: '1 while the circuit breaker suspends a rule whose evaluations keep running out of their budget.', labelNames: ['rule'], registers: [this.registry],
  });
  private readonly statusWrites = new Counter({
    name: 'reflex_rule_status_writes_total', help: 'Status writes of rule objects (ClusterRule, Rule), per rule; only the leader writes, at most one per rule every 5 s.', labelNames: ['rule'], registers: [this.registry],
  });
  private readonly statusWriteFailures = new Counter({
    name: 'reflex_rule_status_write_failures_total', help: 'Status writes of rule objects that failed (tried again), per rule.', labelNames: ['rule'], registers: [this.registry],
  });
  private dependencyCount: () => number = () => 0;
  private readonly leader = new Gauge({
    name: 'reflex_leader', help: '1 while this replica holds the leader lease (or runs without leader election), else 0.', registers: [this.registry],
  });

  constructor(options: DaemonMetricsOptions = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: options.processPrefix ?? '' });
    const longest: Gauge = new Gauge({
      name: 'reflex_queue_longest_running_seconds', help: 'How long the longest-running key in process has been running.',
      registers: [this.registry],
      collect: () => longest.set(this.queueStats()?.longestRunningSeconds ?? 0),
    });
    const unfinished: Gauge = new Gauge({
      name: 'reflex_queue_unfinished_work_seconds', help: 'Seconds of work in progress, summed over the keys in process.',
      registers: [this.registry],
      collect: () => unfinished.set(this.queueStats()?.unfinishedWorkSeconds ?? 0),
    });
    const cache: Gauge = new Gauge({
      name: 'reflex_cache_objects', help: 'Objects in the informer caches, per resource.', labelNames: ['resource'],
      registers: [this.registry],
      collect: () => {
        cache.reset();
        for (const [resource, n] of Object.entries(this.cacheSizes())) cache.set({ resource }, n);
      },
    });
    const retrying: Gauge = new Gauge({
      name: 'reflex_rule_keys_in_retry', help: 'Objects of a rule waiting for a retry after a transient or forbidden failure.', labelNames: ['rule'],
      registers: [this.registry],
      collect: () => {
        retrying.reset();
        for (const [rule, n] of Object.entries(this.keysInRetry())) retrying.set({ rule }, n);
      },
    });
    const dependencies: Gauge = new Gauge({
      name: 'reflex_dependency_entries', help: 'Recorded $get/$list reads that re-queue their (rule, object) keys when the read objects change.',
      registers: [this.registry],
      collect: () => dependencies.set(this.dependencyCount()),
    });
    const rechecks: Gauge = new Gauge({
      name: 'reflex_rule_rechecks_pending', help: 'Objects of a rule with a re-check scheduled by its recheckAt.', labelNames: ['rule'],
      registers: [this.registry],
      collect: () => {
        rechecks.reset();
        for (const [rule, n] of Object.entries(this.rechecks())) rechecks.set({ rule }, n);
      },
    });
    this.leader.set(0);
    this.rulesLoaded.set(0);
  }

  /** The hooks a RateLimitingWorkQueue reports through (pass as its `metrics` option). */
  queueMetrics(): QueueMetrics {
    return {
      depth: (lane: Lane, depth: number) => this.queueDepth.set({ lane }, depth),
      add: (lane: Lane) => this.queueAdds.inc({ lane }),
      queueLatency: (lane: Lane, seconds: number) => this.queueLatency.observe({ lane }, seconds),
      workDuration: (lane: Lane, seconds: number) => this.workDuration.observe({ lane }, seconds),
      retry: () => this.queueRetries.inc(),
    };
  }

  /** Where scrapes read the queue's gauges from (e.g. `() => queue.stats()`). */
  watchQueue(stats: () => QueueStats): void {
    this.queueStats = stats;
  }

  /** Where scrapes read the watches opened per resource from (informer stats); restarts are those beyond the first. */
  watchWatches(opened: () => Record<string, number>): void {
    this.watchCounts = opened;
  }

  /** Where scrapes read the cache sizes from: objects per resource (e.g. `apps/v1/deployments`). */
  watchCaches(sizes: () => Record<string, number>): void {
    this.cacheSizes = sizes;
  }

  ruleEvaluated(rule: string, result: EvaluationResult): void {
    this.evaluations.inc({ rule, result });
  }

  actionExecuted(rule: string, action: string, outcome: ActionOutcome): void {
    this.actions.inc({ rule, action, outcome });
  }

  ruleSuspended(rule: string, suspended: boolean): void {
    if (suspended) this.suspendedRules.set({ rule }, 1);
    else this.suspendedRules.remove({ rule });
  }

  ruleError(rule: string, kind: string): void {
    this.ruleErrors.inc({ rule, kind });
  }

  /** A rule's evaluation of an object failed: handled as `outcome`, for `reason`. */
  ruleFailed(rule: string, outcome: 'transient' | 'forbidden' | 'terminal', reason: string): void {
    this.failures.inc({ rule, outcome, reason });
  }

  /** Where scrapes read the keys in retry per rule from (e.g. `() => controller.keysInRetry()`). */
  watchRetries(keys: () => Record<string, number>): void {
    this.keysInRetry = keys;
  }

  /** Where scrapes read the re-checks scheduled per rule from (e.g. `() => controller.rechecksPending()`). */
  watchRechecks(pending: () => Record<string, number>): void {
    this.rechecks = pending;
  }

  retriesExhaustedFor(rule: string): void {
    this.retriesExhausted.inc({ rule });
  }

  loopGuardTripped(rule: string): void {
    this.loopGuard.inc({ rule });
  }

  /** A rule document from `source` (a file path or `configmap/NAMESPACE/NAME`) failed to load. */
  ruleLoadError(source: string): void {
    this.loadErrors.inc({ source });
  }

  setRulesLoaded(count: number): void {
    this.rulesLoaded.set(count);
  }

  watchRestarted(resource: string): void {
    this.watchRestarts.inc({ resource });
  }

  generateConflict(rule: string): void {
    this.generateConflicts.inc({ rule });
  }

  /** Replaces the orphan counts (rule → objects). */
  setGeneratedOrphans(byRule: Record<string, number>): void {
    this.generatedOrphans.reset();
    for (const [rule, n] of Object.entries(byRule)) this.generatedOrphans.set({ rule }, n);
  }

  /** Where scrapes read the size of the dependency index from. */
  watchDependencies(entries: () => number): void {
    this.dependencyCount = entries;
  }

  /** A rule object's status was written (or the write failed). */
  ruleStatusWritten(rule: string, ok: boolean): void {
    (ok ? this.statusWrites : this.statusWriteFailures).inc({ rule });
  }

  setLeader(leading: boolean): void {
    this.leader.set(leading ? 1 : 0);
  }

  /** The Prometheus text exposition. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
