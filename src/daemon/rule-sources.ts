/**
 * Rule sources and hot reload: rule files and directories (watched, debounced), ConfigMaps
 * selected by label (through an informer) and ClusterRule and Rule objects (crd-source.ts).
 * Every change reloads the whole rule set; load problems are logged, counted and, for
 * ConfigMaps, reported as a Warning Event on the ConfigMap (and a Normal `RuleLoaded` Event once
 * fixed); rule objects get theirs in their status (rule-status.ts). The previous good version of
 * a broken rule keeps running.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { errorMessage, type Clock, type KubeObject, type Logger, type TimerHandle } from '../core/index.js';
import type { KubeClient } from '../client/index.js';
import type { SharedInformerFactory } from '../informers/index.js';
import type { CompiledRule, PlannedAction, RuleLoadError, RuleSource, SourceLimits } from '../engine/index.js';
import { executeAction } from '../actions/index.js';
import { CrdRuleSource, type CrdRuleSourceOptions } from './crd-source.js';
import { readSourceFiles } from './rule-files.js';
import { RuleSet, type RuleSetUpdate } from './rule-set.js';

export interface RuleSourcesOptions {
  /** Rule files and directories. */
  paths: string[];
  /** ConfigMaps holding rules; omit to read none. `namespaces` empty means all namespaces. */
  configMaps?: { namespaces: string[]; labelSelector: string };
  /**
   * The daemon's own namespace: its ConfigMaps hold cluster-wide rules. A ConfigMap anywhere else
   * holds tenant rules, confined to its namespace (docs/security.md). Undefined: every ConfigMap is a tenant's.
   */
  ownNamespace?: string;
  /** Bounds of each source (rule count, size, aliases). Default: the engine's DEFAULT_SOURCE_LIMITS. */
  sourceLimits?: SourceLimits;
  client: KubeClient;
  factory: SharedInformerFactory;
  clock: Clock;
  logger: Logger;
  /** Called with the rules in force after every reload. */
  apply(rules: Map<string, CompiledRule>): Promise<void>;
  /**
   * Rules as ClusterRule and Rule objects; omit to read none. `touched`: an object changed in what
   * the loader does not read (its status, its metadata). `retryMs`: how often a kind not served is
   * looked for again. `servedByDiscovery`: the first look at a kind (CrdRuleSourceOptions).
   */
  ruleObjects?: { retryMs?: number; touched?(identity: string): void; servedByDiscovery?: CrdRuleSourceOptions['servedByDiscovery'] };
  /** Called after every reload with what it found (after `apply`). */
  onLoaded?(update: RuleSetUpdate): void;
  /** Called with the problems a reload found that the previous one did not have (for metrics). */
  onErrors?(errors: RuleLoadError[]): void;
  /** Debounce of file and ConfigMap changes, ms. Default 300. */
  debounceMs?: number;
  /** Emit Warning Events on ConfigMaps (only the leader should write; never in client dry-run). Default: always. */
  mayWrite?: () => boolean;
  /** Send those Events with dryRun=All. Default false. */
  dryRun?: boolean;
}

/** The file name a ConfigMap key gets in messages: `configmap/NAMESPACE/NAME/KEY`. */
export function configMapSourceName(cm: KubeObject, key: string): string {
  return `configmap/${cm.metadata?.namespace}/${cm.metadata?.name}/${key}`;
}

export class RuleSources {
  private readonly set: RuleSet;
  private fileSources: RuleSource[] = [];
  private readonly configMaps = new Map<string, KubeObject>();
  private watchers: FSWatcher[] = [];
  private timer: TimerHandle | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private reported = new Set<string>();
  private loadedOnce = false;
  private rulesInForce = 0;
  /** The ClusterRule and Rule objects, when read. */
  readonly objects: CrdRuleSource | undefined;

  constructor(private readonly o: RuleSourcesOptions) {
    this.set = new RuleSet({ sourceLimits: o.sourceLimits });
    this.objects = o.ruleObjects
      ? new CrdRuleSource({
          client: o.client,
          factory: o.factory,
          clock: o.clock,
          logger: o.logger,
          ...(o.ruleObjects.retryMs !== undefined ? { retryMs: o.ruleObjects.retryMs } : {}),
          changed: () => this.schedule({ files: false, prompt: true }),
          ...(o.ruleObjects.touched ? { touched: o.ruleObjects.touched } : {}),
          ...(o.ruleObjects.servedByDiscovery ? { servedByDiscovery: o.ruleObjects.servedByDiscovery } : {}),
        })
      : undefined;
  }

  /** Whether the first load has completed. */
  loaded(): boolean {
    return this.loadedOnce;
  }

  /** Rules in force after the last reload. */
  count(): number {
    return this.rulesInForce;
  }

  /** Reads the files, starts watching them and the ConfigMaps, and performs the first load. */
  async start(signal: AbortSignal): Promise<void> {
    await this.readFiles();
    this.watchFiles();
    // The rule objects are looked for while the ConfigMaps list: the first load waits for both.
    const objects = this.objects?.start(signal);
    if (this.o.configMaps) {
      const cms = this.o.configMaps;
      const namespaces = cms.namespaces.length ? cms.namespaces : [undefined];
      const informers = namespaces.map((ns) =>
        this.o.factory.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', labelSelector: cms.labelSelector, ...(ns ? { namespace: ns } : {}) }),
      );
      for (const inf of informers) {
        inf.addHandler({
          add: (cm) => this.configMapChanged(cm, { deleted: false }),
          update: (old, cm) => old !== cm && this.configMapChanged(cm, { deleted: false }),
          delete: (cm) => this.configMapChanged(cm, { deleted: true }),
        });
      }
      await Promise.all([...informers.map((i) => i.waitForSync(signal)), objects]);
    }
    await objects;
    signal.addEventListener('abort', () => this.stop(), { once: true });
    await this.reload();
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    if (this.timer) this.o.clock.clearTimer(this.timer);
  }

  private configMapChanged(cm: KubeObject, change: { deleted: boolean }): void {
    const key = `${cm.metadata?.namespace}/${cm.metadata?.name}`;
    if (change.deleted) this.configMaps.delete(key);
    else this.configMaps.set(key, cm);
    this.schedule({ files: false });
  }

  private async readFiles(): Promise<void> {
    if (this.o.paths.length === 0) return;
    try {
      this.fileSources = await readSourceFiles(this.o.paths);
    } catch (err) {
      // Keep the previous files' rules: a path that vanished mid-edit must not drop everything.
      this.o.logger.error('cannot read rule files; keeping the rules loaded before', { error: errorMessage(err) });
    }
  }

  private watchFiles(): void {
    for (const p of this.o.paths) {
      const abs = resolve(p);
      void stat(abs)
        .then((info) => {
          if (this.stopped) return;
          // A file is watched through its directory: editors replace files by renaming.
          const dir = info.isDirectory() ? abs : dirname(abs);
          const only = info.isDirectory() ? undefined : basename(abs);
          const w = watch(dir, { recursive: info.isDirectory(), persistent: false }, (_event, name) => {
            if (only === undefined || name === only) this.schedule({ files: true });
          });
          w.on('error', (err) => this.o.logger.warn('cannot watch rule path', { path: p, error: errorMessage(err) }));
          this.watchers.push(w);
        })
        .catch((err: unknown) => this.o.logger.warn('cannot watch rule path', { path: p, error: errorMessage(err) }));
    }
  }

  /**
   * Debounces changes into one reload (reloads are serialized, so a change during one is seen by
   * the next). A `prompt` change (a rule object: a whole source, and someone waits for its status)
   * is throttled instead: it reloads at once, then at most once per debounce interval, so a burst
   * of them still makes two reloads, and a lone one is not held back.
   */
  private schedule(change: { files: boolean; prompt?: boolean }): void {
    const debounceMs = this.o.debounceMs ?? 300;
    const now = this.o.clock.now();
    const throttled = change.prompt === true && this.loadedOnce && !this.filesDirty;
    const delay = throttled ? Math.max(0, this.lastTimedReloadAt + debounceMs - now) : debounceMs;
    if (this.timer) {
      if (throttled && this.timerAt <= now + delay) return;
      this.o.clock.clearTimer(this.timer);
    }
    this.filesDirty ||= change.files;
    this.timerAt = now + delay;
    this.timer = this.o.clock.setTimer(() => {
      this.timer = undefined;
      this.lastTimedReloadAt = this.o.clock.now();
      void this.reload();
    }, delay);
  }
  private timerAt = 0;
  private lastTimedReloadAt = -Infinity;
  private filesDirty = false;
  private stopped = false;
  private knownErrors = new Set<string>();
  private knownWarnings = new Set<string>();

  /** Reloads every source (serialized: one reload at a time). */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.reloadNow()).catch((err: unknown) => {
      this.o.logger.error('rule reload failed', { error: errorMessage(err) });
    });
    return this.reloading;
  }

  private async reloadNow(): Promise<void> {
    if (this.filesDirty) {
      this.filesDirty = false;
      await this.readFiles();
    }
    const sources = [...this.fileSources, ...this.configMapSources(), ...(this.objects?.sources() ?? [])];
    const update = await this.set.reload(sources);
    const { rules, errors, warnings, kept } = update;
    const deprecated = warnings.filter((w) => w.code === 'WARN_DEPRECATED');
    for (const w of deprecated.filter((x) => !this.knownWarnings.has(x.message))) this.o.logger.warn('deprecated rule kind', { warning: w.message });
    this.knownWarnings = new Set(deprecated.map((w) => w.message));
    // Each distinct problem is logged and counted once, not again on every reload while it lasts.
    const fresh = errors.filter((e) => !this.knownErrors.has(e.message));
    this.knownErrors = new Set(errors.map((e) => e.message));
    for (const e of fresh) this.o.logger.warn('invalid rule', { error: e.message, ...(e.rule ? { rule: e.rule } : {}) });
    for (const name of kept) this.o.logger.warn('keeping the previous version of a rule whose new version is invalid', { rule: name });
    if (fresh.length > 0) this.o.onErrors?.(fresh);
    await this.reportOnConfigMaps(errors);
    await this.o.apply(rules);
    this.rulesInForce = rules.size;
    this.loadedOnce = true;
    this.o.onLoaded?.(update);
    const objects = this.objects?.all().size ?? 0;
    this.o.logger.info(loadSummary(rules, errors.length, this.o.paths, this.configMaps.size, objects), { rules: rules.size, errors: errors.length, sources: sources.length });
  }

  /**
   * The ConfigMaps' rule sources: the daemon's own namespace first, so a tenant's rule can never
   * take the name of a cluster-wide one (the later of two namesakes is the one refused).
   */
  private configMapSources(): RuleSource[] {
    const own = this.o.ownNamespace;
    const rank = (cm: KubeObject) => (cm.metadata?.namespace === own ? 0 : 1);
    const out: RuleSource[] = [];
    for (const cm of [...this.configMaps.values()].sort((a, b) => rank(a) - rank(b) || keyOf(a).localeCompare(keyOf(b)))) {
      const data = (cm.data ?? {}) as Record<string, string>;
      const ns = cm.metadata?.namespace ?? '';
      const tenant = ns === own ? {} : { tenant: ns };
      for (const key of Object.keys(data).sort()) out.push({ file: configMapSourceName(cm, key), text: data[key] ?? '', ...tenant });
    }
    return out;
  }

  /**
   * A Warning Event on the ConfigMap for each problem not reported before; a ConfigMap reported so
   * whose rules all load again gets one Normal `RuleLoaded` Event saying so.
   */
  private async reportOnConfigMaps(errors: RuleLoadError[]): Promise<void> {
    const now = new Set<string>();
    const failing = new Set<string>();
    const mayWrite = this.o.mayWrite?.() ?? true; // a follower: the leader reports it (or this replica, once it leads)
    for (const err of errors) {
      const m = /^configmap\/([^/]+)\/([^/]+)\//.exec(err.location.file);
      if (!m) continue;
      const key = `${m[1]}/${m[2]}`;
      const cm = this.configMaps.get(key);
      if (!cm) continue;
      failing.add(key);
      const id = `${cm.metadata?.uid}|${cm.metadata?.resourceVersion}|${err.message}`;
      if (this.reported.has(id)) {
        now.add(id);
        continue;
      }
      if (!mayWrite) continue;
      if (await this.eventOn(cm, err.rule ?? 'reflex', 'Warning', 'InvalidRule', err.message)) {
        now.add(id);
        this.troubled.set(key, cm.metadata?.uid ?? '');
      }
    }
    this.reported = now;
    for (const [key, uid] of this.troubled) {
      const cm = this.configMaps.get(key);
      if (!cm || cm.metadata?.uid !== uid) this.troubled.delete(key);
      else if (!failing.has(key) && mayWrite && (await this.eventOn(cm, 'reflex', 'Normal', 'RuleLoaded', `the rules of ConfigMap ${key} load now; the problem reported before is fixed`))) this.troubled.delete(key);
    }
  }
  /** ConfigMaps given a Warning about their rules (key → uid), until their rules load again. */
  private readonly troubled = new Map<string, string>();

  /** Emits an Event about a rule ConfigMap; false (logged) when it could not be sent. */
  private async eventOn(cm: KubeObject, rule: string, type: 'Warning' | 'Normal', reason: string, message: string): Promise<boolean> {
    const target = { apiVersion: 'v1', kind: 'ConfigMap', namespace: cm.metadata?.namespace ?? '', name: cm.metadata?.name ?? '' };
    const planned: PlannedAction = { rule, trigger: { ...target, event: 'sync' }, action: 'event', target, body: { type, reason, message }, options: {} };
    const r = await executeAction(planned, { client: this.o.client, clock: this.o.clock, dryRun: this.o.dryRun ?? false });
    if (r.status !== 'failed') return true;
    this.o.logger.warn(`could not report ${reason === 'RuleLoaded' ? 'a fixed' : 'an invalid'} rule on its ConfigMap; will try again on the next reload`, { configMap: keyOf(cm), error: errorMessage(r.cause) });
    return false;
  }
}

function keyOf(o: KubeObject): string {
  return `${o.metadata?.namespace}/${o.metadata?.name}`;
}

/** One line for each load: `rules loaded: 8 rules from rules/ and 2 ConfigMaps; watching Namespace, Job` (kinds in name order). */
export function loadSummary(rules: ReadonlyMap<string, CompiledRule>, errors: number, paths: string[], configMaps: number, ruleObjects = 0): string {
  const from = [
    ...(paths.length ? [paths.join(', ')] : []),
    ...(configMaps ? [`${configMaps} ConfigMap${configMaps === 1 ? '' : 's'}`] : []),
    ...(ruleObjects ? [`${ruleObjects} rule object${ruleObjects === 1 ? '' : 's'}`] : []),
  ];
  const kinds = [...new Set([...rules.values()].flatMap((r) => r.watches.map((w) => w.kind)))].sort();
  const n = rules.size;
  return `rules loaded: ${n} rule${n === 1 ? '' : 's'}${from.length ? ` from ${from.join(' and ')}` : ''}${errors ? `, ${errors} invalid` : ''}${kinds.length ? `; watching ${kinds.join(', ')}` : ''}`;
}
