/**
 * AccessReviewer: whether the ServiceAccount a namespaced rule runs as may read what the rule
 * reads from the daemon's shared caches (its watch, `$get`, `$list`). The daemon reads with its
 * own, wider rights; a SubjectAccessReview (authorization.k8s.io/v1) per (ServiceAccount,
 * namespace, group, resource, verb) says whether the rule may see the answer. Decisions are
 * cached: an allowed one for `allowedTtlMs` (default 5 min), a denied one for `deniedTtlMs`
 * (default 1 min), so a RoleBinding granted is seen within a minute and one removed within five.
 * Decisions in use are re-checked in the background before they expire (so evaluations seldom
 * wait on a review), and a change is told to `onChange` (the controller re-evaluates the rule's
 * objects when a read is allowed again). A review that fails (no answer, 5xx, the daemon may not
 * create reviews) is never cached and never taken as allowed.
 */
import {
  errorMessage,
  nullLogger,
  ReflexError,
  serviceAccountGroups,
  serviceAccountUser,
  type Clock,
  type KubeObject,
  type Logger,
  type ServiceAccountRef,
  type TimerHandle,
} from '../core/index.js';
import type { KubeClient } from '../client/index.js';
import type { CompiledRule, ObjectLister } from '../engine/index.js';

/** What is asked: one verb on one resource in one namespace. */
export interface AccessAttributes {
  namespace: string;
  /** API group (`` for core). */
  group: string;
  /** Plural resource, e.g. `configmaps`. */
  resource: string;
  verb: 'get' | 'list' | 'watch';
}

export interface AccessDecision {
  allowed: boolean;
  /** The authorizer's reason, when it gave one. */
  reason?: string;
}

/** A rule's read refused because its ServiceAccount may not make it. */
export class AccessDeniedError extends ReflexError {
  constructor(
    message: string,
    readonly serviceAccount: ServiceAccountRef,
    readonly attributes: AccessAttributes,
  ) {
    super(message, { code: 'ERR_ACCESS_DENIED' });
  }
}

export const isAccessDenied = (err: unknown): err is AccessDeniedError => (err as { code?: unknown } | undefined)?.code === 'ERR_ACCESS_DENIED';

export interface AccessReviewOptions {
  /** Sends the reviews (with the daemon's own identity: it needs `create subjectaccessreviews`). */
  client: Pick<KubeClient, 'create' | 'resolve'>;
  clock: Clock;
  logger?: Logger;
  /** How long an allowed decision holds, ms. Default 300 000. */
  allowedTtlMs?: number;
  /** How long a denied decision holds, ms. Default 60 000. */
  deniedTtlMs?: number;
  /** How often decisions in use are re-checked before they expire, and unused ones dropped, ms. Default 15 000. */
  refreshMs?: number;
  /** Told when a re-check changes a decision. */
  onChange?: (sa: ServiceAccountRef, attributes: AccessAttributes, decision: AccessDecision) => void;
}

interface Entry {
  sa: ServiceAccountRef;
  attributes: AccessAttributes;
  decision?: AccessDecision;
  checkedAt: number;
  usedAt: number;
  pending?: Promise<AccessDecision>;
}

const keyOf = (sa: ServiceAccountRef, a: AccessAttributes) => [sa.namespace, sa.name, a.namespace, a.group, a.resource, a.verb].join('|');

export class AccessReviewer {
  private readonly entries = new Map<string, Entry>();
  private readonly allowedTtl: number;
  private readonly deniedTtl: number;
  private readonly refreshMs: number;
  private readonly log: Logger;
  private timer: TimerHandle | undefined;
  /** Reviews sent (for tests and metrics). */
  reviews = 0;

  constructor(private readonly o: AccessReviewOptions) {
    this.allowedTtl = o.allowedTtlMs ?? 300_000;
    this.deniedTtl = o.deniedTtlMs ?? 60_000;
    this.refreshMs = o.refreshMs ?? 15_000;
    this.log = o.logger ?? nullLogger;
  }

  /** Starts the periodic re-check. */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.refresh();
      this.timer = this.o.clock.setTimer(tick, this.refreshMs);
    };
    this.timer = this.o.clock.setTimer(tick, this.refreshMs);
  }

  stop(): void {
    if (this.timer) this.o.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** The decision for `attributes`, from the cache while it holds, else from a review. Rejects when the review fails. */
  check(sa: ServiceAccountRef, attributes: AccessAttributes): Promise<AccessDecision> {
    const now = this.o.clock.now();
    const key = keyOf(sa, attributes);
    let e = this.entries.get(key);
    if (!e) this.entries.set(key, (e = { sa, attributes, checkedAt: 0, usedAt: now }));
    e.usedAt = now;
    if (e.decision && now < e.checkedAt + this.ttl(e.decision)) return Promise.resolve(e.decision);
    return this.review(e);
  }

  /**
   * Resolves when `sa` may `verb` objects of `apiVersion`/`kind` in `namespace`; rejects with an
   * AccessDeniedError naming the rule, the ServiceAccount and what it may not do, otherwise.
   */
  async require(rule: string, sa: ServiceAccountRef, verb: AccessAttributes['verb'], apiVersion: string, kind: string, namespace: string): Promise<void> {
    const info = await this.o.client.resolve(apiVersion, kind);
    const attributes: AccessAttributes = { namespace, group: info.gvr.group, resource: info.gvr.resource, verb };
    const decision = await this.check(sa, attributes);
    if (decision.allowed) return;
    const what = `${attributes.resource}${attributes.group ? `.${attributes.group}` : ''}`;
    throw new AccessDeniedError(
      `rule ${rule}: ${verb} ${what} in namespace "${namespace}" refused: ServiceAccount ${sa.namespace}/${sa.name}, which the rule runs as, may not ${verb} them` +
        ` (SubjectAccessReview${decision.reason ? `: ${decision.reason}` : ''}); grant it with a Role and RoleBinding in "${namespace}"`,
      sa,
      attributes,
    );
  }

  /** `lister` with every `$get` checked for `get` and every `$list` for `list` by `sa`. */
  lister(rule: string, sa: ServiceAccountRef, lister: ObjectLister): ObjectLister {
    return {
      get: async (apiVersion, kind, namespace, name): Promise<KubeObject | undefined> => {
        if (namespace !== undefined) await this.require(rule, sa, 'get', apiVersion, kind, namespace);
        return lister.get(apiVersion, kind, namespace, name);
      },
      list: async (apiVersion, kind, namespace, labelSelector) => {
        if (namespace !== undefined) await this.require(rule, sa, 'list', apiVersion, kind, namespace);
        return lister.list(apiVersion, kind, namespace, labelSelector);
      },
    };
  }

  /** Re-checks decisions in use that expire before the next round; forgets those unused for two allowed periods. */
  refresh(): void {
    const now = this.o.clock.now();
    for (const [key, e] of this.entries) {
      if (now - e.usedAt > 2 * this.allowedTtl) {
        this.entries.delete(key);
        continue;
      }
      if (!e.decision || e.pending || now + this.refreshMs < e.checkedAt + this.ttl(e.decision)) continue;
      this.review(e).catch((err: unknown) => this.log.warn('a SubjectAccessReview failed; the decision is asked again when next needed', { serviceAccount: `${e.sa.namespace}/${e.sa.name}`, error: errorMessage(err) }));
    }
  }

  /** Cached decisions (for tests and metrics). */
  size(): number {
    return this.entries.size;
  }

  private ttl(d: AccessDecision): number {
    return d.allowed ? this.allowedTtl : this.deniedTtl;
  }

  private review(e: Entry): Promise<AccessDecision> {
    if (e.pending) return e.pending;
    const before = e.decision;
    const pending = this.send(e.sa, e.attributes).then(
      (decision) => {
        e.pending = undefined;
        e.decision = decision;
        e.checkedAt = this.o.clock.now();
        if (before && before.allowed !== decision.allowed) this.o.onChange?.(e.sa, e.attributes, decision);
        return decision;
      },
      (err: unknown) => {
        e.pending = undefined;
        throw err;
      },
    );
    e.pending = pending;
    return pending;
  }

  private async send(sa: ServiceAccountRef, a: AccessAttributes): Promise<AccessDecision> {
    this.reviews++;
    const answer = await this.o.client.create({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: serviceAccountUser(sa),
        groups: serviceAccountGroups(sa),
        resourceAttributes: { namespace: a.namespace, verb: a.verb, group: a.group, resource: a.resource },
      },
    } as KubeObject);
    const status = (answer as { status?: { allowed?: unknown; denied?: unknown; reason?: unknown } }).status ?? {};
    const reason = typeof status.reason === 'string' && status.reason !== '' ? status.reason : undefined;
    return { allowed: status.allowed === true && status.denied !== true, ...(reason ? { reason } : {}) };
  }
}

/**
 * RuleIdentities: what the controller does for a rule that runs as a ServiceAccount (`runAs`):
 * its writes go through a client impersonating it (sharing the daemon's connections), its
 * trigger is seen only when the ServiceAccount may list that kind there, and its lookups are
 * reviewed. Rules without `runAs` get the daemon's client and lister unchanged.
 */
export class RuleIdentities {
  private readonly clients = new Map<string, KubeClient>();

  constructor(
    private readonly client: KubeClient,
    readonly reviewer: AccessReviewer,
  ) {}

  /** The client of a rule's writes. Throws when the client cannot impersonate (never writes as the daemon instead). */
  clientFor(rule: CompiledRule): KubeClient {
    const sa = rule.runAs;
    if (!sa) return this.client;
    const user = serviceAccountUser(sa);
    let c = this.clients.get(user);
    if (!c) {
      if (!this.client.impersonate) throw new ReflexError(`rule ${rule.name}: the client cannot impersonate ${user}; its writes are not sent`, { code: 'ERR_IMPERSONATION' });
      // The user alone: the API server adds the ServiceAccount's groups itself (and needs no right to impersonate groups).
      this.clients.set(user, (c = this.client.impersonate({ user })));
    }
    return c;
  }

  /** Rejects (AccessDeniedError) when the rule's ServiceAccount may not list the trigger's kind in its namespace. */
  async admitTrigger(rule: CompiledRule, obj: KubeObject): Promise<void> {
    const sa = rule.runAs;
    if (!sa) return;
    const namespace = obj.metadata?.namespace ?? rule.tenant ?? sa.namespace;
    await this.reviewer.require(rule.name, sa, 'list', String(obj.apiVersion), String(obj.kind), namespace);
  }

  /** The lister of a rule's evaluations: reviewed when it runs as a ServiceAccount. */
  listerFor(rule: CompiledRule, lister: ObjectLister): ObjectLister {
    return rule.runAs ? this.reviewer.lister(rule.name, rule.runAs, lister) : lister;
  }

  /** Forgets impersonating clients of ServiceAccounts no rule runs as any more. */
  retain(rules: Iterable<CompiledRule>): void {
    const users = new Set([...rules].flatMap((r) => (r.runAs ? [serviceAccountUser(r.runAs)] : [])));
    for (const user of this.clients.keys()) if (!users.has(user)) this.clients.delete(user);
  }
}
