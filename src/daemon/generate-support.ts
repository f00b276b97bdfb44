/**
 * GenerateSupport: the controller's side of generate rules and dependencies.
 * - Dependencies: evaluations of rules that follow them (every generate rule; action rules with
 *   `dependency` in `on`) read through a RecordingLister; what they read is kept per queue key
 *   (DependencyIndex), and a change of a read object re-queues exactly those keys with event
 *   `dependency`.
 * - Generate: the declared set of an evaluation becomes the writes that make the cluster equal to
 *   it (GeneratePlanner over the GeneratedInventory); drift of a generated object re-queues its
 *   trigger; a generate rule removed while running has what it generated pruned (unless
 *   `orphan`); at start-up generated objects of rules not loaded are reported, never deleted.
 */
import { errorMessage, objectKey, type KubeObject, type Logger } from '../core/index.js';
import type { SharedInformerFactory } from '../informers/index.js';
import { GENERATED_RULE_LABEL, GENERATED_TRIGGER_UID_LABEL, generatedBy, generatedKinds, generatingRule, ruleLabelValue, type CompiledRule, type ObjectLister, type Plan, type RuleEvent } from '../engine/index.js';
import { DependencyIndex, RecordingLister } from './dependency-index.js';
import { GeneratedInventory, triggerOf } from './generated-inventory.js';
import { GeneratePlanner, type GenerateConflict } from './generate-planner.js';
import type { ControllerHooks } from './hooks.js';

/** A kind the server serves, for the start-up scan of orphans. */
export interface ServedKind {
  apiVersion: string;
  kind: string;
}

export interface GenerateSupportOptions {
  factory: SharedInformerFactory;
  lister: ObjectLister;
  logger: Logger;
  hooks: ControllerHooks;
  /** Re-queues the key of `rule` and the object of `objKey` with `event` (a no-op when the rule or the object is gone). */
  requeue: (rule: string, objKey: string, event: RuleEvent) => void;
  /** The rule in force by name, or undefined. */
  ruleNamed: (name: string) => CompiledRule | undefined;
  /** The names of the rules in force. */
  ruleNames: () => string[];
  /** Lists the objects of a kind carrying `reflex.dev/rule` (metadata is enough), for the orphan scan. Default: no scan beyond the inventory. */
  listGenerated?: (kind: ServedKind) => Promise<KubeObject[]>;
  /** Kinds to scan for orphans at start-up. Default: the inventory's kinds. */
  servedKinds?: () => Promise<ServedKind[]>;
  /** How long after the first rules the orphan scan starts, ms, so the start-up sweep's writes go first. Default 10 000. */
  orphanScanDelayMs?: number;
}

export class GenerateSupport {
  readonly dependencies = new DependencyIndex();
  readonly inventory: GeneratedInventory;
  readonly planner: GeneratePlanner;
  private readonly subscribed = new Map<string, () => void>();
  private readonly log: Logger;
  private started = false;
  private orphanTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly o: GenerateSupportOptions) {
    this.log = o.logger;
    this.inventory = new GeneratedInventory({
      factory: o.factory,
      logger: o.logger,
      onDrift: (obj, old) => {
        this.drifted(obj);
        // Taken over by another rule (two rules racing to declare one object): the previous owner looks again, and reports the conflict.
        if (old && old.metadata?.labels?.[GENERATED_RULE_LABEL] !== obj.metadata?.labels?.[GENERATED_RULE_LABEL]) this.drifted(old);
      },
      // This replica's write took it over (the other rule's write was filed first): the other rule looks again, and reports the conflict.
      onTakenOver: (old) => this.drifted(old),
    });
    this.planner = new GeneratePlanner(this.inventory);
  }

  /** The lister an evaluation of `rule` reads through: recording when the rule follows its dependencies. */
  listerFor(rule: CompiledRule): ObjectLister {
    return rule.on.includes('dependency') ? new RecordingLister(this.o.lister) : this.o.lister;
  }

  /** Keeps what an evaluation read through `lister` as the dependencies of `key` (replacing the previous ones). */
  recorded(key: string, lister: ObjectLister): void {
    if (!(lister instanceof RecordingLister)) return;
    this.dependencies.record(key, lister.reads());
    this.subscribe();
  }

  /** Forgets a key's dependencies (its object is gone). */
  forget(key: string): void {
    this.dependencies.drop(key);
  }

  /**
   * The writes for a generate rule's evaluation, with conflicts reported (once each, until they
   * resolve: a Warning Event through `warn`, the metric, a log line).
   */
  async complete(rule: CompiledRule, trigger: KubeObject, event: RuleEvent, declared: Plan, warn: (message: string) => void): Promise<Plan> {
    const { plan, reported } = await this.planner.complete(rule, trigger, event, declared);
    for (const c of reported) this.reportConflict(rule, c, warn);
    for (const p of plan) if (p.action === 'delete') this.noteDeleting(p.target);
    return plan;
  }

  /** Told of every object a generate rule's write returned, so the informer's echo is not drift. */
  written(obj: KubeObject | undefined): void {
    if (obj?.metadata?.resourceVersion && obj.metadata.labels) this.inventory.noteWritten(obj);
  }

  /**
   * The rules in force changed. Watches the generated kinds of the generate rules; forgets the
   * dependencies of rules that stopped. Returns the prunes of generate rules that were removed
   * (not on the first call: a rule missing at start-up is never pruned) and not `orphan`.
   */
  rulesChanged(before: Map<string, CompiledRule>, after: Map<string, CompiledRule>): Plan {
    const first = !this.started;
    this.started = true;
    const kinds = new Map<string, { apiVersion: string; kind: string }>();
    for (const r of after.values()) for (const k of r.generate ? generatedKinds(r) : []) kinds.set(`${k.apiVersion}|${k.kind}`, k);
    const prunes: Plan = [];
    for (const [name, old] of before) {
      const now = after.get(name);
      // A rule reloaded unchanged keeps running (and its keys their dependencies); a changed one restarts with a sync sweep.
      if (now && JSON.stringify(now.document) === JSON.stringify(old.document)) continue;
      this.dependencies.dropWhere((key) => key.startsWith(`${name}|`));
      this.planner.forget(name);
      if (now || first || !old.generate || old.generate.orphan || !old.generate.synchronize) continue;
      const removed = this.planner.pruneAll(old);
      if (removed.length > 0) this.log.info('generate rule removed: deleting what it generated', { rule: name, objects: removed.length });
      for (const p of removed) this.noteDeleting(p.target);
      prunes.push(...removed);
    }
    // Kinds of removed rules stay watched until their prunes ran (the next change releases them).
    for (const k of this.inventory.kinds()) if (prunes.some((p) => p.target.apiVersion === k.apiVersion && p.target.kind === k.kind)) kinds.set(`${k.apiVersion}|${k.kind}`, k);
    this.inventory.setKinds([...kinds.values()]);
    if (first) {
      this.orphanTimer = setTimeout(() => void this.reportOrphans(this.o.ruleNames()), this.o.orphanScanDelayMs ?? 10_000);
      this.orphanTimer.unref?.();
    }
    return prunes;
  }

  /**
   * Prunes of what `rule` generated for triggers its caches no longer hold (deleted, or no longer
   * selected, while the daemon was not running): D is empty for them. Waits for the rule's caches
   * and the inventory to sync first, so an object is never pruned for a trigger not listed yet.
   */
  async stale(rule: CompiledRule, triggerCaches: { hasSynced(): boolean; waitForSync(signal?: AbortSignal): Promise<boolean>; store: { list(): KubeObject[] } }[]): Promise<Plan> {
    if (!rule.generate?.synchronize || rule.generate.orphan) return [];
    for (const k of generatedKinds(rule)) await this.inventory.ensure(k);
    for (const c of triggerCaches) if (!(await c.waitForSync(AbortSignal.timeout(60_000)))) return [];
    const cached = triggerCaches.flatMap((c) => c.store.list());
    const uids = new Set(cached.map((o) => o.metadata?.uid));
    // A trigger re-created under its name is evaluated by the sync sweep, which takes its objects over.
    const names = new Set(cached.map((o) => objectKey(o)));
    const left = this.inventory.ofRule(ruleLabelValue(rule.name)).filter((o) => {
      const uid = o.metadata?.labels?.[GENERATED_TRIGGER_UID_LABEL];
      const trigger = triggerOf(o);
      return generatedBy(o, rule.name) && uid !== undefined && !uids.has(uid) && !(trigger && names.has(trigger.objKey));
    });
    if (left.length === 0) return [];
    this.log.info('deleting what a generate rule generated for triggers that are gone', { rule: rule.name, objects: left.length });
    const prunes = this.planner.pruneObjects(rule, left);
    for (const p of prunes) this.noteDeleting(p.target);
    return prunes;
  }

  /** Stops the inventory and dependency subscriptions. */
  close(): void {
    clearTimeout(this.orphanTimer);
    for (const off of this.subscribed.values()) off();
    this.subscribed.clear();
    this.inventory.close();
  }

  /** Subscribes to every kind the index depends on (once each); the informers are the lister's, already started. */
  private subscribe(): void {
    for (const k of this.dependencies.kinds()) {
      const key = `${k.apiVersion}|${k.kind}`;
      if (this.subscribed.has(key)) continue;
      const informer = this.o.factory.informerFor({ apiVersion: k.apiVersion, kind: k.kind });
      const fire = (obj: KubeObject, old?: KubeObject) => {
        for (const dep of this.dependencies.dependents(k.apiVersion, k.kind, obj, old)) {
          const bar = dep.indexOf('|');
          this.o.requeue(dep.slice(0, bar), dep.slice(bar + 1), 'dependency');
        }
      };
      const off = informer.addHandler({
        add: (obj, initial) => {
          if (!initial) fire(obj);
        },
        update: (old, obj) => {
          if (old !== obj) fire(obj, old);
        },
        delete: (obj) => fire(obj),
      });
      this.subscribed.set(key, off);
    }
  }

  /** A generated object changed or went behind the daemon's back: evaluate its trigger again. */
  private drifted(obj: KubeObject): void {
    const name = generatingRule(obj);
    const rule = name === undefined ? undefined : this.o.ruleNamed(name);
    const trigger = triggerOf(obj);
    if (!rule?.generate || !rule.generate.synchronize || !trigger || ruleLabelValue(rule.name) !== obj.metadata?.labels?.[GENERATED_RULE_LABEL]) return;
    this.o.requeue(rule.name, trigger.objKey, 'dependency');
  }

  private noteDeleting(target: { apiVersion: string; kind: string; namespace?: string; name: string }): void {
    const uid = this.inventory.get(target)?.metadata?.uid;
    if (uid) this.inventory.noteDeleting(uid);
  }

  private reportConflict(rule: CompiledRule, c: GenerateConflict, warn: (message: string) => void): void {
    const t = c.planned.target;
    const message = `rule ${rule.name}: ${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name} is generated by rule ${c.owner}; not writing it (two rules declare one object)`;
    this.log.warn(message, { rule: rule.name, owner: c.owner, target: t });
    this.o.hooks.generateConflict?.(rule.name);
    warn(message);
  }

  /**
   * Counts generated objects whose rule is not loaded, once the inventory (and the optional scan
   * of every served kind) has been read. Never deletes anything.
   */
  private async reportOrphans(rules: string[]): Promise<void> {
    try {
      const loaded = new Set(rules.map((r) => ruleLabelValue(r)));
      const kinds = this.o.servedKinds ? await this.o.servedKinds() : this.inventory.kinds();
      const counts: Record<string, number> = {};
      for (const kind of kinds) {
        const objects = this.o.listGenerated ? await this.o.listGenerated(kind).catch(() => [] as KubeObject[]) : [];
        for (const obj of objects) {
          const label = obj.metadata?.labels?.['reflex.dev/rule'];
          if (label === undefined || loaded.has(label)) continue;
          const name = generatingRule(obj) ?? label;
          counts[name] = (counts[name] ?? 0) + 1;
        }
      }
      this.o.hooks.generatedOrphans?.(counts);
      for (const [rule, n] of Object.entries(counts)) {
        this.log.warn('generated objects of a rule that is not loaded (orphans; left in place)', { rule, objects: n });
      }
    } catch (err) {
      this.log.warn('could not look for generated objects of rules that are not loaded', { error: errorMessage(err) });
    }
  }
}
