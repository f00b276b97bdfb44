/**
 * CacheBarrier: a replica that takes a bucket processes its keys only once its caches hold what
 * the bucket's previous owner wrote; otherwise it would evaluate an object as it was before that
 * write and repeat the write (a second `create` with `generateName`, say).
 *
 * Read-your-writes across replicas, by resourceVersion (as client-go's stale-controller
 * mitigation does within one process): while a replica holds a bucket it records, per informer,
 * the highest resourceVersion of the objects it wrote for that bucket's keys that the informer
 * watches (its kind, namespace and selectors, or an object it holds). Releasing the bucket, it
 * leaves those marks on the bucket Lease. The next owner waits until each of its informers has
 * observed at least its mark (the informer's resourceVersion moves with every event and bookmark
 * of its watch, in order, so reaching the mark means every event up to it was delivered), then
 * carries the marks on as its own.
 *
 * A bucket taken from a holder that stopped renewing has no marks: the new owner asks the server
 * for each watched resource's current resourceVersion (a consistent LIST with limit=1) and waits
 * until its informer has reached that. An informer whose watch is idle moves only with a
 * bookmark, so that wait is bounded (`maxWaitMs`); the holder stopped at least the difference
 * between the lease duration and the renew deadline ago, which its last writes had to reach this
 * replica in.
 *
 * ResourceVersions are opaque by the API's contract; servers backed by etcd give decimal integers
 * that grow with every write (of any kind), and that is what is compared. When one is not a
 * decimal integer the barrier falls back to waiting `settleMs`.
 */
import { createHash } from 'node:crypto';
import { errorMessage, nullLogger, objectKey, parseFieldSelector, parseLabelSelector, sleep, type Clock, type KubeObject, type Logger } from '../core/index.js';
import type { KubeClient } from '../client/index.js';
import { informerKey, type InformerTarget, type SharedInformer } from '../informers/index.js';

/** The marks a holder leaves on a bucket Lease: per informer (a short id of its target), a resourceVersion. */
export type WriteMarks = Record<string, string>;

/** An informer with what it watches. */
export interface WatchedCache {
  target: InformerTarget;
  informer: Pick<SharedInformer, 'store'>;
}

export interface CacheBarrierOptions {
  /** The informers the rules use now. */
  caches(): WatchedCache[];
  /** For the current resourceVersion of a resource (a LIST with limit=1). */
  client: Pick<KubeClient, 'list'>;
  clock: Clock;
  logger?: Logger;
  /** The longest wait for the caches; then the keys are processed anyway (counted, logged). */
  maxWaitMs: number;
  /** The wait when resourceVersions are not comparable integers. */
  settleMs: number;
  /** How often the caches are looked at while waiting. Default 50 ms. */
  pollMs?: number;
}

/** How a wait ended: every cache reached its mark, the wait ran out, or it fell back to time. */
export type BarrierOutcome = 'caught-up' | 'timed-out' | 'settled';

/** Compares two resourceVersions when both are decimal integers (etcd revisions); undefined otherwise. */
export function compareResourceVersions(a: string, b: string): number | undefined {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The short id of an informer's target in marks (equal on every replica that runs the same rules). */
export function cacheId(target: InformerTarget): string {
  return createHash('sha256').update(informerKey(target)).digest('hex').slice(0, 12);
}

/** Listings compared with caches wait at most this long for the cheap check first. */
const QUICK_MS = 1000;
const LIST_PAGE = 500;

interface Goal {
  c: WatchedCache;
  rv: string;
}

interface Listing extends Goal {
  /** Key → resourceVersion; undefined when the listing failed. */
  objects: Map<string, string> | undefined;
}

interface Check {
  behind: Goal[];
  opaque: boolean;
}

/** The caches whose resourceVersion is below their goal; opaque when a pair is not comparable. */
function behindGoals(goals: Goal[]): Check {
  let opaque = false;
  const behind = goals.filter((g) => {
    const cmp = compareResourceVersions(g.c.informer.store.resourceVersion, g.rv);
    if (cmp === undefined) opaque = true;
    return cmp !== undefined && cmp < 0;
  });
  return { behind, opaque };
}

/**
 * The caches that do not yet hold a listing's state: an object listed newer than cached (or not
 * cached), or cached but no longer listed. A cache at or past the listing's resourceVersion has
 * seen all of it.
 */
function behindListings(listings: Listing[]): Check {
  let opaque = false;
  const behind = listings.filter((l) => {
    const store = l.c.informer.store;
    const at = compareResourceVersions(store.resourceVersion, l.rv);
    if (at === undefined || !l.objects) {
      opaque = true;
      return false;
    }
    if (at >= 0) return false;
    for (const [key, rv] of l.objects) {
      const cached = store.get(key)?.metadata?.resourceVersion ?? '';
      if (cached === '') return true;
      const cmp = compareResourceVersions(cached, rv);
      if (cmp === undefined) opaque = true;
      else if (cmp < 0) return true;
    }
    for (const key of store.keys()) if (!l.objects.has(key)) return true;
    return false;
  });
  return { behind, opaque };
}

interface Matcher {
  id: string;
  sameKind(obj: KubeObject): boolean;
  matches(obj: KubeObject): boolean;
}

export class CacheBarrier {
  private readonly log: Logger;
  private readonly marks = new Map<number, Map<string, string>>();
  private readonly matchers = new Map<string, Matcher>();

  constructor(private readonly o: CacheBarrierOptions) {
    this.log = (o.logger ?? nullLogger).child({ component: 'sharding' });
  }

  /** An object this replica wrote while processing a key of `bucket`, as the server returned it. */
  written(bucket: number, obj: KubeObject): void {
    const rv = obj.metadata?.resourceVersion;
    if (!rv) return;
    for (const c of this.o.caches()) {
      const m = this.matcher(c.target);
      // Watched now, or held (a write that took it out of the selection arrives as its delete).
      if (!m.matches(obj) && !(m.sameKind(obj) && c.informer.store.get(objectKey(obj)) !== undefined)) continue;
      let marks = this.marks.get(bucket);
      if (!marks) this.marks.set(bucket, (marks = new Map()));
      const prev = marks.get(m.id);
      if (prev === undefined || (compareResourceVersions(rv, prev) ?? 1) > 0) marks.set(m.id, rv);
    }
  }

  /** The marks of a bucket, for its Lease when it is released (JSON). */
  marksOf(bucket: number): string {
    return JSON.stringify(Object.fromEntries(this.marks.get(bucket) ?? []));
  }

  /**
   * Waits before the keys of buckets just taken are processed. `previous`: the marks each one's
   * previous holder left (JSON), carried on as this replica's; undefined when there are none (a
   * holder that stopped renewing): then the caches are compared with the server's current state.
   */
  async wait(taken: { bucket: number; previous: string | undefined }[], signal?: AbortSignal): Promise<BarrierOutcome> {
    let merged: WriteMarks | undefined = {};
    for (const t of taken) {
      const inherited = parseMarks(t.previous);
      this.marks.set(t.bucket, new Map(Object.entries(inherited ?? {})));
      if (!inherited) merged = undefined;
      else if (merged) for (const [id, rv] of Object.entries(inherited)) if (merged[id] === undefined || (compareResourceVersions(rv, merged[id]) ?? 1) > 0) merged[id] = rv;
    }
    const started = this.o.clock.now();
    const deadline = started + this.o.maxWaitMs;
    const caches = this.o.caches();
    if (merged) {
      const marks = merged;
      const goals = caches.flatMap((c) => (marks[cacheId(c.target)] ? [{ c, rv: marks[cacheId(c.target)]! }] : []));
      return this.until(started, deadline, () => behindGoals(goals), signal);
    }
    // No marks: first the cheap check (each cache at the server's current resourceVersion; a
    // busy watch gets there within moments), then, for caches still behind (an idle watch moves
    // only with a bookmark), a metadata listing compared object by object.
    const goals = await this.current(caches, signal);
    const quick = await this.until(started, Math.min(deadline, started + QUICK_MS), () => behindGoals(goals), signal, false);
    if (quick !== 'timed-out') return quick;
    const behind = behindGoals(goals).behind.map((g) => g.c);
    const listings = await Promise.all(behind.map((c) => this.listing(c, signal)));
    return this.until(started, deadline, () => behindListings(listings), signal);
  }

  /** Polls `check` until nothing is behind (and, with opaque resourceVersions, `settleMs` passed) or `deadline`. */
  private async until(started: number, deadline: number, check: () => Check, signal: AbortSignal | undefined, warn = true): Promise<BarrierOutcome> {
    for (;;) {
      const { behind, opaque } = check();
      const now = this.o.clock.now();
      if (behind.length === 0 && (!opaque || now - started >= this.o.settleMs)) return opaque ? 'settled' : 'caught-up';
      if (signal?.aborted) return 'timed-out';
      if (now >= deadline) {
        if (warn) {
          this.log.warn('the caches did not reach the state a taken bucket needs in time; processing its keys anyway (an action may repeat)', {
            behind: behind.slice(0, 3).map((g) => `${describe(g.c.target)} at ${g.c.informer.store.resourceVersion}, needs ${g.rv}`),
            waitedMs: now - started,
          });
        }
        return 'timed-out';
      }
      await sleep(this.o.clock, this.o.pollMs ?? 50, signal).catch(() => undefined);
    }
  }

  /** The server's current resourceVersion of every watched resource (once per resource and namespace). */
  private async current(caches: WatchedCache[], signal?: AbortSignal): Promise<Goal[]> {
    const byResource = new Map<string, Promise<string>>();
    return Promise.all(
      caches.map(async (c) => {
        const { apiVersion, kind, namespace } = c.target;
        const key = `${apiVersion}|${kind}|${namespace ?? ''}`;
        if (!byResource.has(key)) {
          const list = this.o.client.list({ apiVersion, kind, ...(namespace ? { namespace } : {}) }, { limit: 1, metadataOnly: true, signal });
          byResource.set(key, list.then((l) => l.metadata?.resourceVersion ?? '').catch((err: unknown) => this.unread(c, err)));
        }
        return { c, rv: await byResource.get(key)! };
      }),
    );
  }

  /** A consistent metadata listing of what one cache watches: each object's resourceVersion by key. */
  private async listing(c: WatchedCache, signal?: AbortSignal): Promise<Listing> {
    const { apiVersion, kind, namespace, labelSelector, fieldSelector } = c.target;
    const objects = new Map<string, string>();
    let rv = '';
    try {
      let token: string | undefined;
      do {
        const page = await this.o.client.list(
          { apiVersion, kind, ...(namespace ? { namespace } : {}) },
          { labelSelector, fieldSelector, limit: LIST_PAGE, continue: token, metadataOnly: true, signal },
        );
        for (const o of page.items) objects.set(objectKey(o), o.metadata?.resourceVersion ?? '');
        rv ||= page.metadata?.resourceVersion ?? '';
        token = page.metadata?.continue || undefined;
      } while (token);
    } catch (err) {
      return { c, rv: this.unread(c, err), objects: undefined };
    }
    return { c, rv, objects };
  }

  private unread(c: WatchedCache, err: unknown): string {
    this.log.warn('could not read the server’s state for the cache barrier; waiting the settling time', { resource: describe(c.target), error: errorMessage(err) });
    return '';
  }

  private matcher(target: InformerTarget): Matcher {
    const key = informerKey(target);
    let m = this.matchers.get(key);
    if (m) return m;
    let labels: ReturnType<typeof parseLabelSelector> | undefined;
    let fields: ReturnType<typeof parseFieldSelector> | undefined;
    try {
      labels = parseLabelSelector(target.labelSelector ?? '');
      fields = parseFieldSelector(target.fieldSelector ?? '');
    } catch {
      // An informer's selectors were accepted by the server; one this cannot read counts every object in.
    }
    const sameKind = (obj: KubeObject) => obj.apiVersion === target.apiVersion && obj.kind === target.kind;
    m = {
      id: cacheId(target),
      sameKind,
      matches: (obj) =>
        sameKind(obj) &&
        (!target.namespace || target.namespace === obj.metadata?.namespace) &&
        (labels?.matches(obj.metadata?.labels) ?? true) &&
        (fields?.matches(obj) ?? true),
    };
    this.matchers.set(key, m);
    return m;
  }
}

function parseMarks(text: string | undefined): WriteMarks | undefined {
  if (text === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    // Not ours to read: as if the holder had left none.
  }
  return undefined;
}

function describe(t: InformerTarget): string {
  return `${t.apiVersion} ${t.kind}${t.namespace ? ` in ${t.namespace}` : ''}${t.labelSelector ? ` (${t.labelSelector})` : ''}`;
}
