/**
 * crd-source: rules as objects of the API, kinds ClusterRule (cluster-scoped) and Rule
 * (namespaced) of reflex.dev/v1alpha1, watched through the shared informers. Each object is one
 * rule source for the same loader as files and ConfigMaps, named by its identity
 * (`ClusterRule/NAME`, `Rule/NAMESPACE/NAME`). A Rule is a tenant source of its namespace and acts
 * as its `spec.serviceAccountName` (default `default`).
 *
 * A kind the server does not serve (its CRD is not installed) is pending: discovery is asked
 * again after `retryMs`, doubling up to a minute, and the kind is watched as soon as it is
 * served, without a restart.
 */
import { errorMessage, type Clock, type KubeObject, type Logger, type TimerHandle } from '../core/index.js';
import { isUnknownKind, UnknownKindError, type KubeClient } from '../client/index.js';
import type { SharedInformerFactory } from '../informers/index.js';
import type { RuleSource } from '../engine/index.js';

export const RULE_API_VERSION = 'reflex.dev/v1alpha1';
export const RULE_OBJECT_KINDS = ['ClusterRule', 'Rule'] as const;
export type RuleObjectKind = (typeof RULE_OBJECT_KINDS)[number];

/** The identity of a rule object: `ClusterRule/NAME` or `Rule/NAMESPACE/NAME`. */
export function ruleObjectIdentity(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return obj.kind === 'Rule' && ns ? `Rule/${ns}/${obj.metadata?.name}` : `ClusterRule/${obj.metadata?.name}`;
}

/** The ServiceAccount a Rule object acts as. */
export const DEFAULT_SERVICE_ACCOUNT = 'default';

/**
 * The loader's source of a rule object: the document as the object holds it (its status and
 * server-set metadata left out), as JSON text, so a position in it is a position in one field.
 */
export function ruleObjectSource(obj: KubeObject): RuleSource {
  const m = obj.metadata ?? {};
  const spec = (obj as { spec?: unknown }).spec;
  const rule = obj.kind === 'Rule' && m.namespace !== undefined;
  const metadata = {
    name: m.name,
    ...(rule ? { namespace: m.namespace } : {}),
    ...(m.labels ? { labels: m.labels } : {}),
    ...(m.annotations ? { annotations: m.annotations } : {}),
  };
  const text = JSON.stringify({ apiVersion: obj.apiVersion ?? RULE_API_VERSION, kind: obj.kind, metadata, spec }, null, 2);
  const identity = ruleObjectIdentity(obj);
  if (!rule) return { file: identity, text, identity };
  const sa = (spec as { serviceAccountName?: unknown } | undefined)?.serviceAccountName;
  return { file: identity, text, identity, tenant: m.namespace!, serviceAccountName: typeof sa === 'string' && sa !== '' ? sa : DEFAULT_SERVICE_ACCOUNT };
}

export interface CrdRuleSourceOptions {
  client: KubeClient;
  factory: SharedInformerFactory;
  clock: Clock;
  logger: Logger;
  /** How soon discovery is asked again for a kind not served, ms (doubling up to a minute). Default 5000. */
  retryMs?: number;
  /** How long start waits for a served kind's first listing, ms. Default 30 000. */
  syncTimeoutMs?: number;
  /** A rule object came, changed (what the loader reads of it) or went. */
  changed(): void;
  /** A rule object's status or metadata changed, but not what the loader reads of it. */
  touched?(identity: string): void;
  /** A kind is served now (its informer synced). */
  served?(kind: RuleObjectKind): void;
  /**
   * Whether the server serves a kind, by the discovery the client has loaded (loading it if it
   * has none): the first look at each kind asks this instead of resolving, which for a kind not
   * served would wait out the client's least time between two discovery refreshes to ask again.
   * The retries resolve. Default: the first look resolves too.
   */
  servedByDiscovery?(apiVersion: string, kind: string, signal: AbortSignal): Promise<boolean>;
}

/** The longest wait between two looks for a kind not served, ms. */
const MAX_RETRY_MS = 60_000;

export class CrdRuleSource {
  private readonly objects = new Map<string, KubeObject>();
  /** What the loader read of each object (to tell a spec change from a status write). */
  private readonly texts = new Map<string, string>();
  private readonly watching = new Set<RuleObjectKind>();
  private readonly timers = new Map<RuleObjectKind, TimerHandle>();
  private readonly reasons = new Map<RuleObjectKind, string>();
  private readonly tries = new Map<RuleObjectKind, number>();
  private stopped = false;

  constructor(private readonly o: CrdRuleSourceOptions) {}

  /** Watches each kind that is served (waiting for its first listing); the others are retried. */
  async start(signal: AbortSignal): Promise<void> {
    signal.addEventListener('abort', () => this.stop(), { once: true });
    await Promise.all(RULE_OBJECT_KINDS.map((kind) => this.tryWatch(kind, signal)));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) this.o.clock.clearTimer(t);
    this.timers.clear();
  }

  /** Whether the kind is served and watched. */
  served(kind: RuleObjectKind): boolean {
    return this.watching.has(kind);
  }

  /** The rule objects now, by identity. */
  all(): ReadonlyMap<string, KubeObject> {
    return this.objects;
  }

  /** The newest cached state of a rule object. */
  get(identity: string): KubeObject | undefined {
    return this.objects.get(identity);
  }

  /** The loader's sources: ClusterRules first, then Rules, each in identity order. `read()` then tells what they were. */
  sources(): RuleSource[] {
    const objs = [...this.objects.values()].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'ClusterRule' ? -1 : 1) || ruleObjectIdentity(a).localeCompare(ruleObjectIdentity(b)));
    const out = objs.map(ruleObjectSource);
    this.lastRead = new Map(out.map((src, i) => [src.file, { text: src.text, generation: objs[i].metadata?.generation ?? 0 }]));
    return out;
  }

  /** What the last `sources()` gave the loader of each object (identity → text and metadata.generation). */
  read(): ReadonlyMap<string, { text: string; generation: number }> {
    return this.lastRead;
  }
  private lastRead = new Map<string, { text: string; generation: number }>();

  private async tryWatch(kind: RuleObjectKind, signal: AbortSignal): Promise<void> {
    this.timers.delete(kind);
    if (this.stopped || signal.aborted) return;
    try {
      const firstLook = !this.tries.has(kind);
      if (firstLook && this.o.servedByDiscovery && !(await this.o.servedByDiscovery(RULE_API_VERSION, kind, signal))) {
        throw new UnknownKindError(RULE_API_VERSION, kind, this.o.client.server);
      }
      await this.o.client.resolve(RULE_API_VERSION, kind, { signal });
    } catch (err) {
      if (this.stopped || signal.aborted) return;
      const reason = isUnknownKind(err) ? `${kind} is not served (its CustomResourceDefinition is not installed)` : `discovery failed: ${errorMessage(err)}`;
      if (this.reasons.get(kind) !== reason) this.o.logger.info(`${kind} objects not watched yet: ${reason}; will retry`, { kind });
      this.reasons.set(kind, reason);
      // Asked again every retryMs at first, then less often (discovery is a few requests each time).
      const tries = (this.tries.get(kind) ?? 0) + 1;
      this.tries.set(kind, tries);
      const delay = Math.min((this.o.retryMs ?? 5000) * 2 ** Math.min(tries - 1, 10), MAX_RETRY_MS);
      this.timers.set(kind, this.o.clock.setTimer(() => void this.tryWatch(kind, signal), delay));
      return;
    }
    const informer = this.o.factory.informerFor({ apiVersion: RULE_API_VERSION, kind });
    informer.addHandler({
      add: (obj) => this.put(obj),
      update: (old, obj) => old !== obj && this.put(obj),
      delete: (obj) => this.remove(obj),
    });
    this.watching.add(kind);
    if (this.reasons.has(kind)) this.o.logger.info(`${kind} is served now: watching its objects`, { kind });
    // Not listed within the bound (RBAC?): the rules load when the listing comes, start goes on.
    const bound = AbortSignal.any([signal, AbortSignal.timeout(this.o.syncTimeoutMs ?? 30_000)]);
    if (await informer.waitForSync(bound)) this.o.served?.(kind);
    else if (!signal.aborted) this.o.logger.warn(`${kind} objects not listed yet (does the daemon's role allow list and watch on them?); starting without them, they load once listed`, { kind });
  }

  private put(obj: KubeObject): void {
    const id = ruleObjectIdentity(obj);
    this.objects.set(id, obj);
    const text = ruleObjectSource(obj).text;
    if (this.texts.get(id) === text) return this.o.touched?.(id);
    this.texts.set(id, text);
    this.o.changed();
  }

  private remove(obj: KubeObject): void {
    const id = ruleObjectIdentity(obj);
    this.objects.delete(id);
    this.texts.delete(id);
    this.o.changed();
  }
}
