/**
 * GeneratedInventory: what generate rules generated, as the cluster says. One informer per
 * generated kind, selecting the objects labelled `reflex.dev/rule` (started when a generate rule
 * needs the kind, released when none does), indexed by rule label and trigger uid. A generated
 * object changed or deleted by someone else is reported (`onDrift`), so its trigger is evaluated
 * again and the object put back; the daemon's own writes are recognised and not reported.
 */
import type { KubeObject, Logger } from '../core/index.js';
import type { AcquiredInformer, SharedInformerFactory } from '../informers/index.js';
import { GENERATED_RULE_LABEL, GENERATED_TRIGGER_ANNOTATION, GENERATED_TRIGGER_UID_LABEL, objectIdentity, refOf, type PlannedRef } from '../engine/index.js';
import { CacheNotSyncedError } from './cache-lister.js';

/** A kind generated objects may have. */
export interface GeneratedKind {
  apiVersion: string;
  kind: string;
}

export interface GeneratedInventoryOptions {
  factory: SharedInformerFactory;
  logger: Logger;
  /**
   * A generated object was changed or deleted by someone else (never for the daemon's own writes,
   * nor the initial listing); `old` is its previous state for a change.
   */
  onDrift: (obj: KubeObject, old?: KubeObject) => void;
  /**
   * The daemon's own write took a generated object over from another rule (two rules declaring
   * one object, their first writes racing): `previous` is the other rule's version, so that rule
   * can look again and report the conflict.
   */
  onTakenOver?: (previous: KubeObject) => void;
  /** How long `ensure` waits for a new kind's informer to sync, ms. Default 10 000. */
  syncTimeoutMs?: number;
}

const kindKey = (k: GeneratedKind) => `${k.apiVersion}|${k.kind}`;

interface Watched {
  acquired: AcquiredInformer;
  unsubscribe: () => void;
}

export class GeneratedInventory {
  private readonly watched = new Map<string, Watched>();
  /** Object ids by rule label, then trigger uid ('' when unlabelled). */
  private readonly byRule = new Map<string, Map<string, Set<string>>>();
  /** The cached objects, by identity. */
  private readonly objects = new Map<string, KubeObject>();
  /** resourceVersions the daemon wrote, by identity: the informer's echo of them is not drift. */
  private readonly written = new Map<string, string>();
  /** uids the daemon deleted: their delete events are not drift. */
  private readonly deleted = new Set<string>();

  constructor(private readonly o: GeneratedInventoryOptions) {}

  /** Watches exactly `kinds` (plus those `ensure` added and still needed): new ones start, unneeded ones are released. */
  setKinds(kinds: GeneratedKind[]): void {
    const want = new Map(kinds.map((k) => [kindKey(k), k]));
    for (const [key, w] of this.watched) {
      if (want.has(key)) continue;
      w.unsubscribe();
      w.acquired.release();
      this.watched.delete(key);
      this.forgetKind(key);
    }
    for (const [key, k] of want) if (!this.watched.has(key)) this.watch(key, k);
  }

  /** Kinds watched now. */
  kinds(): GeneratedKind[] {
    return [...this.watched.keys()].map((k) => {
      const [apiVersion, kind] = k.split('|');
      return { apiVersion, kind };
    });
  }

  /** Makes sure `kind` is watched and synced (a kind known only once rendered); rejects with CacheNotSyncedError after the timeout. */
  async ensure(kind: GeneratedKind): Promise<void> {
    const key = kindKey(kind);
    if (!this.watched.has(key)) this.watch(key, kind);
    const informer = this.watched.get(key)!.acquired.informer;
    if (informer.hasSynced()) return;
    const timeout = this.o.syncTimeoutMs ?? 10_000;
    if (!(await informer.waitForSync(AbortSignal.timeout(timeout)))) {
      throw new CacheNotSyncedError(`the inventory of generated ${kind.apiVersion} ${kind.kind} did not sync within ${timeout / 1000} s`);
    }
  }

  /** Whether every watched kind has synced. */
  synced(): boolean {
    return [...this.watched.values()].every((w) => w.acquired.informer.hasSynced());
  }

  /** The generated object at `ref` (any rule's), or undefined. */
  get(ref: PlannedRef): KubeObject | undefined {
    return this.objects.get(objectIdentity(ref));
  }

  /** What rule label `rule` generated for the trigger of uid `triggerUid`. */
  of(ruleLabel: string, triggerUid: string): KubeObject[] {
    return this.collect(this.byRule.get(ruleLabel)?.get(triggerUid));
  }

  /** Everything rule label `rule` generated, for every trigger. */
  ofRule(ruleLabel: string): KubeObject[] {
    return [...(this.byRule.get(ruleLabel)?.values() ?? [])].flatMap((ids) => this.collect(ids));
  }

  /** Rule labels with generated objects. */
  ruleLabels(): string[] {
    return [...this.byRule.keys()];
  }

  /** Records an object the daemon just wrote, so the informer's echo of it is not taken for drift. */
  noteWritten(obj: KubeObject): void {
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.written.set(objectIdentity(refOf(obj)), rv);
  }

  /** Records a uid the daemon is deleting. */
  noteDeleting(uid: string): void {
    this.deleted.add(uid);
  }

  /** Sizes, for the benchmark. */
  stats(): { kinds: number; objects: number } {
    return { kinds: this.watched.size, objects: this.objects.size };
  }

  /** Stops every inventory informer. */
  close(): void {
    this.setKinds([]);
  }

  private collect(ids: Set<string> | undefined): KubeObject[] {
    return [...(ids ?? [])].map((id) => this.objects.get(id)).filter((o): o is KubeObject => o !== undefined);
  }

  private watch(key: string, kind: GeneratedKind): void {
    const acquired = this.o.factory.acquire({ apiVersion: kind.apiVersion, kind: kind.kind, labelSelector: GENERATED_RULE_LABEL });
    const unsubscribe = acquired.informer.addHandler({
      add: (obj, initial) => {
        this.file(obj);
        if (!initial) this.changed(obj);
      },
      update: (old, obj) => {
        if (old !== obj) this.unfile(old);
        this.file(obj);
        if (old !== obj) this.changed(obj, old);
      },
      delete: (obj) => {
        this.unfile(obj);
        const uid = obj.metadata?.uid;
        if (uid && this.deleted.delete(uid)) return;
        this.o.onDrift(obj);
      },
    });
    this.watched.set(key, { acquired, unsubscribe });
    this.o.logger.info('watching generated objects', { apiVersion: kind.apiVersion, kind: kind.kind });
  }

  /** An add or update: drift unless it is the echo of the daemon's own write. */
  private changed(obj: KubeObject, old?: KubeObject): void {
    const id = objectIdentity(refOf(obj));
    const mine = this.written.get(id);
    if (mine !== undefined) {
      this.written.delete(id);
      if (mine === obj.metadata?.resourceVersion) {
        if (old && old.metadata?.labels?.[GENERATED_RULE_LABEL] !== obj.metadata?.labels?.[GENERATED_RULE_LABEL]) this.o.onTakenOver?.(old);
        return;
      }
    }
    this.o.onDrift(obj, old);
  }

  private file(obj: KubeObject): void {
    const id = objectIdentity(refOf(obj));
    this.objects.set(id, obj);
    const rule = obj.metadata?.labels?.[GENERATED_RULE_LABEL];
    if (rule === undefined) return;
    const uid = obj.metadata?.labels?.[GENERATED_TRIGGER_UID_LABEL] ?? '';
    let byTrigger = this.byRule.get(rule);
    if (!byTrigger) this.byRule.set(rule, (byTrigger = new Map()));
    let ids = byTrigger.get(uid);
    if (!ids) byTrigger.set(uid, (ids = new Set()));
    ids.add(id);
  }

  private unfile(obj: KubeObject): void {
    const id = objectIdentity(refOf(obj));
    if (this.objects.get(id)?.metadata?.uid === obj.metadata?.uid) this.objects.delete(id);
    const rule = obj.metadata?.labels?.[GENERATED_RULE_LABEL];
    if (rule === undefined) return;
    const uid = obj.metadata?.labels?.[GENERATED_TRIGGER_UID_LABEL] ?? '';
    const byTrigger = this.byRule.get(rule);
    const ids = byTrigger?.get(uid);
    ids?.delete(id);
    if (ids?.size === 0) byTrigger!.delete(uid);
    if (byTrigger?.size === 0) this.byRule.delete(rule);
  }

  private forgetKind(key: string): void {
    const [apiVersion, kind] = key.split('|');
    for (const obj of [...this.objects.values()]) if (obj.apiVersion === apiVersion && obj.kind === kind) this.unfile(obj);
  }
}

/** The trigger a generated object names in its `reflex.dev/trigger` annotation (its object key `ns/name` or `name`), or undefined. */
export function triggerOf(obj: KubeObject): { apiVersion: string; kind: string; objKey: string } | undefined {
  const text = obj.metadata?.annotations?.[GENERATED_TRIGGER_ANNOTATION];
  if (!text) return undefined;
  const parts = text.split(' ');
  if (parts.length !== 3) return undefined;
  const [apiVersion, kind, where] = parts;
  return { apiVersion, kind, objKey: where };
}
