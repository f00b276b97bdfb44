/**
 * RuleRegistry: binds each rule to the shared informers of its watch (through the intake), its
 * resync and cron timers, and the live namespaceSelector. A rule whose kind is not served yet
 * stays pending and activates when discovery finds the kind.
 */
import { errorMessage, objectKey, type Clock, type KubeObject, type Logger, type TimerHandle } from '../core/index.js';
import { isUnknownKind, type KubeClient } from '../client/index.js';
import type { InformerTarget, SharedInformerFactory } from '../informers/index.js';
import { builtinKind, keptPaths, kindKey, mergeReads, readsOf, type CompiledRule, type KindScope, type PlannedRef } from '../engine/index.js';
import type { ActiveRule } from './active-rule.js';
import type { Intake } from './intake.js';

export type { ActiveRule } from './active-rule.js';

interface Registration {
  rule: CompiledRule;
  state: 'pending' | 'active' | 'stopped';
  active?: ActiveRule;
  reason?: string;
  /** The next attempt to activate a pending rule. */
  retry?: TimerHandle;
  cleanup: (() => void)[];
  /** What its caches keep of each object, per watched kind (see keepOf). */
  keep: Record<string, string[][] | undefined>;
}

/** What RuleRegistry.stateOf says of a rule. */
export type RuleState = { state: 'pending'; reason?: string } | { state: 'active'; synced: boolean; objects: number };

export interface RuleRegistryOptions {
  client: KubeClient;
  factory: SharedInformerFactory;
  clock: Clock;
  logger: Logger;
  pendingRetryMs: number;
  /** Where the rules' informer events and sweeps go. */
  intake: Intake;
  onActivated?(rule: string): void;
  /** Every informer of an active rule has synced (called once per activation, after onActivated). */
  onSynced?(rule: string): void;
  /** A rule stopped (removed, or restarting as a new version). */
  onStopped?(rule: string): void;
}

export class RuleRegistry {
  private readonly regs = new Map<string, Registration>();
  private readonly scopes = new Map<string, KindScope>();
  private namespaceWatch: (() => void) | undefined;

  constructor(private readonly o: RuleRegistryOptions) {}

  /**
   * Swaps in `rules`: unchanged rules keep running, changed ones restart, removed ones stop. A rule
   * whose caches must keep other paths of its objects (a rule of its kind came, went or changed)
   * restarts on new caches.
   */
  async setRules(rules: Map<string, CompiledRule>): Promise<void> {
    const keep = keepOf(rules);
    for (const [name, reg] of this.regs) {
      const next = rules.get(name);
      if (!next || !sameRule(next, reg.rule) || JSON.stringify(keep(next)) !== JSON.stringify(reg.keep)) {
        this.stopOne(reg);
        this.regs.delete(name);
        this.o.logger.info(next ? 'rule changed; restarting it' : 'rule removed; stopped', { rule: name });
      }
    }
    const starts: Promise<void>[] = [];
    for (const [name, rule] of rules) {
      if (this.regs.has(name)) continue;
      const reg: Registration = { rule, state: 'pending', cleanup: [], keep: keep(rule) };
      this.regs.set(name, reg);
      starts.push(this.activate(reg));
    }
    await Promise.all(starts);
  }

  active(name: string): ActiveRule | undefined {
    const reg = this.regs.get(name);
    return reg?.state === 'active' ? reg.active : undefined;
  }

  /** Names of rules waiting for their kind to be served. */
  pendingRules(): string[] {
    return [...this.regs.values()].filter((r) => r.state === 'pending').map((r) => r.rule.name);
  }

  /** A rule's state (for its status): waiting for its kind (why, once discovery failed), or bound, with its caches' sync and size. */
  stateOf(name: string): RuleState | undefined {
    const reg = this.regs.get(name);
    if (!reg) return undefined;
    if (reg.state !== 'active' || !reg.active) return { state: 'pending', ...(reg.reason !== undefined ? { reason: reg.reason } : {}) };
    const { informers } = reg.active;
    return { state: 'active', synced: informers.every((i) => i.hasSynced()), objects: informers.reduce((n, i) => n + i.store.size, 0) };
  }

  /** Every cached object of every active rule is evaluated again with `event`. */
  sweepAll(event: 'sync' | 'resync', keys?: (key: string) => boolean): void {
    for (const reg of this.regs.values()) if (reg.active) this.o.intake.sweep(reg.active, event, undefined, keys);
  }

  /**
   * The scope of a kind: known kinds at once (rules' kinds, built-in kinds), any other from
   * discovery (cached by the client). Undefined when the server does not serve the kind (after one
   * discovery refresh); rejects when discovery itself fails (the server did not answer), so a
   * network blip is retried rather than read as "not served".
   */
  async scopeOf(apiVersion: string, kind: string): Promise<KindScope | undefined> {
    const key = `${apiVersion}/${kind}`;
    const known = this.scopes.get(key) ?? builtinKind(apiVersion, kind)?.scope;
    if (known) return known;
    try {
      const info = await this.o.client.resolve(apiVersion, kind);
      const scope: KindScope = info.namespaced ? 'Namespaced' : 'Cluster';
      this.scopes.set(key, scope);
      return scope;
    } catch (err) {
      if (isUnknownKind(err)) return undefined; // not served: the write will say so
      throw err;
    }
  }

  /** A target's cached state, when a rule watches its kind. */
  lookup(t: PlannedRef): KubeObject | undefined {
    const key = t.namespace ? `${t.namespace}/${t.name}` : t.name;
    for (const reg of this.regs.values()) {
      if (!reg.active || !reg.rule.watches.some((w) => w.apiVersion === t.apiVersion && w.kind === t.kind)) continue;
      const obj = reg.active.current(reg.active.keyOf({ apiVersion: t.apiVersion, kind: t.kind, metadata: {} }, key));
      if (obj) return obj;
    }
    return undefined;
  }

  /** Stops every rule's timers and handlers. */
  stop(): void {
    for (const reg of this.regs.values()) this.stopOne(reg);
    this.namespaceWatch?.();
    this.namespaceWatch = undefined;
  }

  private async activate(reg: Registration): Promise<void> {
    const { rule } = reg;
    try {
      for (const w of rule.watches) {
        const info = await this.o.client.resolve(w.apiVersion, w.kind);
        this.scopes.set(`${w.apiVersion}/${w.kind}`, info.namespaced ? 'Namespaced' : 'Cluster');
      }
    } catch (err) {
      if (reg.state === 'stopped') return;
      const reason = errorMessage(err);
      const why = isUnknownKind(err) ? 'its kind is not served yet' : 'discovery failed';
      if (reg.reason !== reason) this.o.logger.warn(`rule pending: ${why}; will retry`, { rule: rule.name, reason });
      reg.reason = reason;
      reg.retry = this.o.clock.setTimer(() => void this.activate(reg), this.o.pendingRetryMs);
      return;
    }
    if (reg.state === 'stopped') return;
    const active = this.bind(reg);
    reg.state = 'active';
    reg.active = active;
    this.o.logger.info('rule active', { rule: rule.name, watch: rule.watches.map((w) => `${w.apiVersion} ${w.kind}`).join(', ') });
    this.o.onActivated?.(rule.name);
    this.whenSynced(reg, active);
  }

  /** Tells onSynced once the rule's informers have their first listings (not if it stops first). */
  private whenSynced(reg: Registration, active: ActiveRule): void {
    if (!this.o.onSynced) return;
    const stopped = new AbortController();
    reg.cleanup.push(() => stopped.abort());
    void Promise.all(active.informers.map((i) => i.waitForSync(stopped.signal))).then((synced) => {
      if (synced.every(Boolean) && reg.active === active && reg.state === 'active') this.o.onSynced?.(reg.rule.name);
    });
  }

  /** Registers the rule's handlers on its informers, and its timers. */
  private bind(reg: Registration): ActiveRule {
    const { rule } = reg;
    const targets = targetsOf(rule, reg.keep);
    const informers = targets.map((t) => {
      const held = this.o.factory.acquire(t);
      reg.cleanup.push(held.release); // the last rule to let go of a watch closes it
      return held.informer;
    });
    const qualified = new Set(targets.map((t) => `${t.apiVersion} ${t.kind}`)).size > 1;
    const active: ActiveRule = {
      rule,
      informers,
      current: (key) => {
        // A qualified key names its kind: only that kind's caches are asked.
        const [kind, plain] = qualified ? splitQualified(key) : [undefined, key];
        for (const [i, inf] of informers.entries()) {
          if (kind !== undefined && `${targets[i].apiVersion} ${targets[i].kind}` !== kind) continue;
          const obj = inf.store.get(plain);
          if (obj) return obj;
        }
        return undefined;
      },
      keyOf: (obj, objKey = objectKey(obj)) => (qualified ? `${String(obj.apiVersion)} ${String(obj.kind)} ${objKey}` : objKey),
    };
    reg.cleanup.unshift(this.o.intake.attach(active));
    // Objects already cached are seen as `sync` (the informers' first listings, still to come, are `sync` too).
    this.o.intake.sweep(active, 'sync');
    if (rule.resyncMs && rule.on.includes('resync')) this.every(reg, rule.resyncMs, () => this.o.intake.sweep(active, 'resync'));
    if (rule.schedule && rule.on.includes('schedule')) this.cron(reg, active);
    if (rule.watches.some((w) => w.namespaceSelector)) this.watchNamespaces();
    return active;
  }

  private every(reg: Registration, periodMs: number, fn: () => void): void {
    let timer: TimerHandle;
    const arm = () => {
      timer = this.o.clock.setTimer(() => {
        fn();
        arm();
      }, periodMs);
    };
    arm();
    reg.cleanup.push(() => this.o.clock.clearTimer(timer));
  }

  /** Sweeps at every firing of the rule's cron; each firing is computed from the previous one, so an early wake-up never sweeps twice. */
  private cron(reg: Registration, active: ActiveRule): void {
    const schedule = reg.rule.schedule;
    if (!schedule) return;
    let timer: TimerHandle;
    const arm = (due: number) => {
      timer = this.o.clock.setTimer(() => {
        if (this.o.clock.now() < due) return arm(due);
        this.o.intake.sweep(active, 'schedule');
        arm(schedule.next(due));
      }, Math.max(0, due - this.o.clock.now()));
    };
    arm(schedule.next(this.o.clock.now()));
    reg.cleanup.push(() => this.o.clock.clearTimer(timer));
  }

  /** namespaceSelector stays live: a Namespace that gains the labels brings its objects in as `sync`. */
  private watchNamespaces(): void {
    if (this.namespaceWatch) return;
    const informer = this.o.factory.informerFor({ apiVersion: 'v1', kind: 'Namespace' });
    this.namespaceWatch = informer.addHandler({
      update: (old, ns) => {
        if (old === ns) return;
        for (const reg of this.regs.values()) {
          if (!reg.active) continue;
          const gained = reg.rule.watches.some((w) => w.namespaceSelector && w.namespaceSelector.matches(ns.metadata?.labels) && !w.namespaceSelector.matches(old.metadata?.labels));
          if (gained) this.o.intake.sweep(reg.active, 'sync', ns.metadata?.name ?? '');
        }
      },
    });
  }

  private stopOne(reg: Registration): void {
    const wasActive = reg.state === 'active';
    reg.state = 'stopped';
    if (reg.retry) this.o.clock.clearTimer(reg.retry);
    for (const c of reg.cleanup.splice(0)) c();
    if (wasActive) this.o.onStopped?.(reg.rule.name);
  }
}

/**
 * What the caches of each rule's objects keep, per watched kind: only the paths the rule set reads
 * of that kind (engine/read-paths.ts), or whole objects (undefined) when some rule reads them
 * whole, looks the kind up with `$get`/`$list`, or reads a kind it cannot name.
 */
function keepOf(rules: Map<string, CompiledRule>): (rule: CompiledRule) => Record<string, string[][] | undefined> {
  const reads = mergeReads([...rules.values()].map(readsOf));
  return (rule) => Object.fromEntries(rule.watches.map((w) => [kindKey(w.apiVersion, w.kind), keptPaths(reads, kindKey(w.apiVersion, w.kind))]));
}

/**
 * The informers a rule needs: for each watch, one per listed namespace, else one for all
 * namespaces. Caches drop `metadata.managedFields` unless the rule mentions them, and keep only
 * `keep[kind]` of each object when given.
 */
function targetsOf(rule: CompiledRule, keep: Record<string, string[][] | undefined>): InformerTarget[] {
  const keepManagedFields = JSON.stringify(rule.document.spec).includes('managedFields');
  return rule.watches.flatMap((w) => {
    const base: InformerTarget = { apiVersion: w.apiVersion, kind: w.kind };
    if (keepManagedFields) base.keepManagedFields = true;
    const paths = keep[kindKey(w.apiVersion, w.kind)];
    if (paths) base.keep = paths;
    const labelSelector = w.labelSelector?.toString();
    const fieldSelector = w.fieldSelector?.toString();
    if (labelSelector) base.labelSelector = labelSelector;
    if (fieldSelector) base.fieldSelector = fieldSelector;
    const namespaces = w.namespaces?.length ? w.namespaces : [undefined];
    return namespaces.map((ns) => (ns ? { ...base, namespace: ns } : base));
  });
}

/** `apiVersion kind namespace/name` → [`apiVersion kind`, `namespace/name`]. */
function splitQualified(key: string): [kind: string, objKey: string] {
  const second = key.indexOf(' ', key.indexOf(' ') + 1);
  return [key.slice(0, second), key.slice(second + 1)];
}

/** Two versions of a rule are the same when their documents and sources are. */
function sameRule(a: CompiledRule, b: CompiledRule): boolean {
  return JSON.stringify(a.document) === JSON.stringify(b.document);
}
