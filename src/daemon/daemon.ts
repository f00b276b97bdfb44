/**
 * Daemon: the wiring of `reflex run`: client, shared informers, rule
 * sources with hot reload, the rule controller, leader election, the ops server
 * (/metrics, /healthz, /readyz, /traces), and an orderly shutdown.
 *
 * `run(signal)` resolves when the daemon has stopped: after `signal` aborts it stops
 * intake, lets in-flight work finish within the grace period, releases the lease and
 * closes its servers and connections.
 */
import { errorMessage, formatApiVersion, realClock, type Clock, type KubeObject, type Logger } from '../core/index.js';
import { createClient, type DynamicClient } from '../client/index.js';
import { GENERATED_RULE_LABEL } from '../engine/index.js';
import { SharedInformerFactory } from '../informers/index.js';
import { allNamespaces, type DaemonConfig } from './config.js';
import { RuleController } from './controller.js';
import type { ControllerHooks } from './hooks.js';
import { LeaderElector } from './leader-election.js';
import { DaemonMetrics } from './metrics.js';
import { OpsServer } from './ops-server.js';
import { TraceHub } from './trace-hub.js';
import { kubeTraceAuthenticator } from './trace-auth.js';
import { RuleSources } from './rule-sources.js';
import { RuleStatusWriter } from './rule-status.js';
import { CacheBarrier } from './shard-barrier.js';
import { ShardCoordinator } from './shard-coordinator.js';
import { KubeLeaseStore } from './shard-leases.js';
import { ShardMetricsSet } from './shard-metrics.js';
import { auditOverride } from './rule-modes.js';

export interface DaemonOptions {
  config: DaemonConfig;
  logger: Logger;
  /** Default the real clock. */
  clock?: Clock;
}

export class Daemon {
  private readonly clock: Clock;
  private readonly log: Logger;
  readonly metrics = new DaemonMetrics();
  readonly traces = new TraceHub();

  constructor(private readonly o: DaemonOptions) {
    this.clock = o.clock ?? realClock;
    this.log = o.logger;
  }

  /** Runs until `signal` aborts; rejects only when start-up fails (bad kubeconfig, port in use…). */
  async run(signal: AbortSignal): Promise<void> {
    const config = this.o.config;
    const client = await createClient({
      kubeconfig: config.kubeconfig,
      context: config.context,
      qps: config.client.qps,
      burst: config.client.burst,
      timeoutMs: config.client.timeoutMs,
      protobuf: config.client.protobuf,
      logger: this.log.child({ component: 'client' }),
    });
    // Leases get a client of their own: a renewal must never wait behind the actions' request
    // budget (a renewal later than the renew deadline gives a bucket or the leadership up).
    // Its traffic is bounded by design: per retry period one LIST and a few renewals.
    const coordination =
      config.sharding.enabled || config.leaderElection.enabled
        ? await createClient({ kubeconfig: config.kubeconfig, context: config.context, qps: 0, timeoutMs: config.client.timeoutMs, logger: this.log.child({ component: 'client', purpose: 'leases' }) })
        : client;
    const namespace = config.namespace ?? client.namespace;
    const leaseNamespace = config.leaderElection.leaseNamespace ?? namespace;
    const cmNamespaces = config.rules.configMaps.namespaces ?? [namespace];
    this.log.info('starting', { server: client.server, namespace, dryRun: config.dryRun, leaderElection: config.leaderElection.enabled });

    const intake = new AbortController();
    const factory = new SharedInformerFactory(client, { logger: this.log.child({ component: 'informers' }), streamingList: config.client.streamingLists, trimCaches: config.caches.trim });
    const elector = config.leaderElection.enabled
      ? new LeaderElector({
          client: coordination,
          name: config.leaderElection.leaseName,
          namespace: leaseNamespace,
          identity: config.leaderElection.identity,
          leaseDurationSeconds: config.leaderElection.leaseDurationSeconds,
          renewDeadlineSeconds: config.leaderElection.renewDeadlineSeconds,
          retryPeriodSeconds: config.leaderElection.retryPeriodSeconds,
          clock: this.clock,
          logger: this.log.child({ component: 'leader-election' }),
          onStartedLeading: () => {
            this.metrics.setLeader(true);
            status?.leading();
            this.log.info(shards ? 'leading: writing rule-wide reports (buckets split the actions)' : 'leading: executing actions', { identity: config.leaderElection.identity });
            if (!shards) controller.resyncAll();
          },
          onStoppedLeading: () => {
            this.metrics.setLeader(false);
            this.log.info('not leading: keeping caches warm, executing nothing');
          },
        })
      : undefined;
    const sh = config.sharding;
    const barrier = sh.enabled
      ? new CacheBarrier({
          caches: () => factory.targets(),
          client: coordination,
          clock: this.clock,
          logger: this.log,
          maxWaitMs: sh.leaseDurationSeconds * 1000,
          settleMs: Math.max(1000, 2 * sh.retryPeriodSeconds * 1000),
        })
      : undefined;
    const shardMetrics = sh.enabled ? new ShardMetricsSet(this.metrics.registry) : undefined;
    const shards = sh.enabled
      ? new ShardCoordinator({
          store: new KubeLeaseStore(coordination, leaseNamespace, sh.ringName),
          identity: config.leaderElection.identity,
          ring: sh.ringName,
          namespace: leaseNamespace,
          buckets: sh.buckets,
          leaseDurationMs: sh.leaseDurationSeconds * 1000,
          renewDeadlineMs: sh.renewDeadlineSeconds * 1000,
          retryPeriodMs: sh.retryPeriodSeconds * 1000,
          maxClockSkewMs: sh.maxClockSkewSeconds * 1000,
          drainMs: config.shutdown.gracePeriodSeconds * 1000,
          clock: this.clock,
          logger: this.log,
          onGained: (buckets) => controller.sweepBuckets(buckets),
          prepare: async (taken, signal) => {
            const started = this.clock.now();
            shardMetrics?.barrier(await barrier!.wait(taken, signal), this.clock.now() - started);
          },
          handoverNote: (b) => barrier!.marksOf(b),
          written: (b, obj) => barrier!.written(b, obj),
          metrics: shardMetrics,
        })
      : undefined;
    const isLeader = () => elector?.isLeader() ?? true;
    if (!elector) this.metrics.setLeader(true); // a single replica always acts
    // Rule objects' status: the leader writes it (with sharding too), as the ConfigMaps' Events.
    const status: RuleStatusWriter | undefined = config.rules.customResources.enabled
      ? new RuleStatusWriter({
          client,
          clock: this.clock,
          logger: this.log.child({ component: 'rule-status' }),
          isLeader,
          object: (id): KubeObject | undefined => sources.objects?.get(id),
          ruleState: (id) => controller.registry.stateOf(id),
          dryRun: config.dryRun === 'server',
          readOnly: config.dryRun === 'client',
          written: (id) => this.metrics.ruleStatusWritten(id, true),
          writeFailed: (id) => this.metrics.ruleStatusWritten(id, false),
        })
      : undefined;
    const controller: RuleController = new RuleController({
      client,
      factory,
      clock: this.clock,
      logger: this.log.child({ component: 'controller' }),
      workers: config.workers,
      maxRetries: config.queue.maxRetries,
      queue: config.queue,
      dryRun: config.dryRun,
      webhooks: config.webhooks,
      isLeader,
      ...(shards ? { shard: shards } : {}),
      hooks: this.hooks(shardMetrics, status),
      queueMetrics: this.metrics.queueMetrics(),
      orphanScan: {
        servedKinds: () => listableKinds(client),
        listGenerated: async (kind) => (await client.list(kind, { labelSelector: GENERATED_RULE_LABEL, metadataOnly: true, signal: AbortSignal.timeout(30_000) })).items,
      },
    });
    this.metrics.watchDependencies(() => controller.dependencyEntries());
    const audited = auditOverride(config.rules.audit);
    const sources: RuleSources = new RuleSources({
      paths: config.rules.paths,
      configMaps: config.rules.configMaps.enabled
        ? { namespaces: allNamespaces(cmNamespaces) ? [] : cmNamespaces, labelSelector: config.rules.configMaps.labelSelector }
        : undefined,
      ownNamespace: namespace,
      ...(status ? { ruleObjects: { touched: (id: string) => status.touch(id), servedByDiscovery: (apiVersion: string, kind: string, signal: AbortSignal) => served(client, apiVersion, kind, signal) } } : {}),
      onLoaded: (update) => {
        if (status && sources.objects) status.loaded(sources.objects.all(), update.errors, update.kept, sources.objects.read());
      },
      sourceLimits: { maxRulesPerSource: config.rules.maxRulesPerSource, maxSourceBytes: config.rules.maxSourceBytes },
      client,
      factory,
      clock: this.clock,
      logger: this.log.child({ component: 'rules' }),
      apply: async (rules) => {
        await controller.setRules(audited(rules));
        this.metrics.setRulesLoaded(rules.size);
      },
      onErrors: (errors) => {
        for (const e of errors) this.metrics.ruleLoadError(e.location.file);
      },
      mayWrite: () => isLeader() && config.dryRun !== 'client',
      dryRun: config.dryRun === 'server',
    });
    this.metrics.watchQueue(() => controller.queue.stats());
    this.metrics.watchRetries(() => controller.keysInRetry());
    this.metrics.watchRechecks(() => controller.rechecksPending());
    this.metrics.watchCaches(() => cacheSizes(factory));
    this.metrics.watchWatches(() => Object.fromEntries(factory.list().map((i) => [i.description, i.stats().watches])));
    const ops = new OpsServer({
      metrics: this.metrics,
      traces: this.traces,
      metricsAddress: config.metrics.address,
      healthAddress: config.health.address,
      tracesEnabled: config.traces.enabled,
      tracesAddress: config.traces.address,
      authenticateTraces: kubeTraceAuthenticator(client, this.clock),
      tracesAllowedOrigins: config.traces.allowedOrigins,
      maxTraceClients: config.traces.maxClients,
      readiness: () => readiness(sources, factory, isLeader, elector !== undefined),
      logger: this.log.child({ component: 'ops' }),
    });
    try {
      await ops.start();
      factory.start(intake.signal);
      // A signal during start-up (caches that never sync: no access, no server) ends it at once.
      // Buckets are taken while the caches sync; a bucket's keys are swept when it is taken.
      const sharding = shards?.run(intake.signal);
      await sources.start(AbortSignal.any([signal, intake.signal]));
      const leading = signal.aborted ? undefined : elector?.run(intake.signal);
      await controller.run(signal, { drainMs: config.shutdown.gracePeriodSeconds * 1000 });
      this.log.info('shutting down: intake stopped, in-flight work finished');
      status?.stop();
      intake.abort();
      await sharding;
      await shards?.leave(AbortSignal.timeout(sh.leaseDurationSeconds * 1000)).catch((err: unknown) => this.log.warn('could not leave the shard ring', { error: errorMessage(err) }));
      const releaseWithin = AbortSignal.timeout(config.leaderElection.leaseDurationSeconds * 1000);
      await elector?.release({ signal: releaseWithin }).catch((err: unknown) => this.log.warn('could not release the lease', { error: errorMessage(err) }));
      await leading;
    } finally {
      intake.abort();
      await factory.shutdown();
      await ops.close();
      await client.close();
      if (coordination !== client) await coordination.close();
      this.log.info('stopped');
    }
  }

  private hooks(shard?: ShardMetricsSet, status?: RuleStatusWriter): ControllerHooks {
    const m = this.metrics;
    return {
      evaluated: (rule, result) => {
        m.ruleEvaluated(rule, result);
        shard?.keyProcessed();
        status?.evaluated(rule);
      },
      action: (rule, action, outcome) => {
        m.actionExecuted(rule, action, outcome as 'done');
        status?.action(rule, outcome);
      },
      ...(status ? { settled: (key, outcome) => status.settled(key, outcome) } : {}),
      ruleError: (rule, kind) => m.ruleError(rule, kind),
      ruleSuspended: (rule, suspended) => m.ruleSuspended(rule, suspended),
      failure: (rule, outcome, reason) => m.ruleFailed(rule, outcome, reason),
      retriesExhausted: (rule) => m.retriesExhaustedFor(rule),
      loopGuard: (rule) => m.loopGuardTripped(rule),
      ruleActivated: (rule) => status?.touch(rule),
      ruleSynced: (rule) => status?.touch(rule),
      generateConflict: (rule) => m.generateConflict(rule),
      generatedOrphans: (byRule) => m.setGeneratedOrphans(byRule),
      trace: (t) => this.traces.publish(t),
      tracing: () => this.traces.active,
    };
  }
}

/** Every kind the server lists, one version per group and kind (for the start-up scan of generated orphans). */
async function listableKinds(client: DynamicClient): Promise<{ apiVersion: string; kind: string }[]> {
  const seen = new Set<string>();
  const out: { apiVersion: string; kind: string }[] = [];
  for (const r of await client.discovery.resources()) {
    const id = `${r.gvk.group}|${r.gvk.kind}`;
    if (!r.verbs.includes('list') || seen.has(id)) continue;
    seen.add(id);
    out.push({ apiVersion: r.gvk.group ? `${r.gvk.group}/${r.gvk.version}` : r.gvk.version, kind: r.gvk.kind });
  }
  return out;
}

/** Whether the client's discovery (loaded once, then cached) holds the kind. */
async function served(client: DynamicClient, apiVersion: string, kind: string, signal: AbortSignal): Promise<boolean> {
  return (await client.discovery.resources(signal)).some((r) => r.gvk.kind === kind && formatApiVersion(r.gvk.group, r.gvk.version) === apiVersion);
}

/** Objects per cache, for the cache-size gauge. */
function cacheSizes(factory: SharedInformerFactory): Record<string, number> {
  const out: Record<string, number> = {};
  for (const inf of factory.list()) out[inf.description] = inf.store.size;
  return out;
}

/** Ready when the rules are loaded and every cache has synced; the leader state is reported, not required. */
function readiness(sources: RuleSources, factory: SharedInformerFactory, isLeader: () => boolean, elected: boolean) {
  const role = elected ? (isLeader() ? 'leader' : 'follower') : 'single replica';
  if (!sources.loaded()) return { ready: false, reason: `rules not loaded yet (${role})` };
  const unsynced = factory.list().filter((i) => !i.hasSynced());
  if (unsynced.length > 0) return { ready: false, reason: `caches not synced: ${unsynced.map((i) => i.description).join(', ')} (${role})` };
  return { ready: true, reason: `rules loaded: ${sources.count()}; caches synced; ${role}` };
}
