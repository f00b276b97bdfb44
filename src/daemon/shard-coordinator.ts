/**
 * ShardCoordinator: splits the work of N replicas over a fixed number of buckets held through
 * Leases. Every retry period it renews this replica's member Lease, reads the ring (one LIST),
 * computes which live member each bucket belongs to (shard-hash's assignBuckets), and then:
 * - a bucket it holds and still should: renewed every leaseDuration/3;
 * - a bucket it holds and should not any more: it stops taking that bucket's keys at once,
 *   waits until its in-flight keys are done (at most `drainMs`), then releases the Lease;
 * - a bucket it should hold: taken when its Lease is free (released) or expired (its record
 *   unchanged for the lease duration as this replica observed it, as client-go's leader
 *   election judges), and reported through `onGained` so its keys are swept as `sync`.
 *
 * Safety: a replica takes a key only while it holds the bucket and has renewed it within the
 * renew deadline (measured from when the renewing request was sent), which is shorter than the
 * lease duration others wait for before they take an unrenewed bucket; a new owner takes a
 * bucket only after the old one released it or that wait. So no key is taken by two replicas
 * at once (a key already in flight when its holder loses the Lease finishes where it is; the
 * gap between the deadlines bounds how long that may overlap a new owner).
 */
import { errorMessage, formatMicroTime, nullLogger, type Clock, type KubeObject, type Logger } from '../core/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../client/index.js';
import type { LeaseSpec } from './leader-election.js';
import { assignBuckets, bucketOf } from './shard-hash.js';
import { bucketIndex } from './shard-leases.js';
import { bucketLeaseName, HANDOVER_ANNOTATION, memberLeaseName, ringLease, ROLE_LABEL, type Lease, type LeaseStore } from './shard-leases.js';

export interface ShardCoordinatorOptions {
  store: LeaseStore;
  /** This replica's identity (unique per process). */
  identity: string;
  /** The ring's name: the Leases' label value and bucket Lease prefix. */
  ring: string;
  namespace: string;
  /** Number of buckets; every replica of a ring must use the same. Default 64. */
  buckets?: number;
  /** How long an unrenewed Lease holds, as others see it. Default 15 000 ms. */
  leaseDurationMs?: number;
  /** A holder stops taking a bucket's keys when it could not renew it for this long; < leaseDurationMs. Default 10 000 ms. */
  renewDeadlineMs?: number;
  /** Time between rounds. Default 2000 ms. */
  retryPeriodMs?: number;
  /**
   * How far the replicas' clocks may differ. A Lease whose renewTime is older than its duration
   * plus this, on this replica's clock, counts as expired. Default 2000 ms.
   */
  maxClockSkewMs?: number;
  /**
   * Before the keys of buckets just taken are processed: waits until this replica's caches hold
   * what the previous holders wrote (see shard-barrier.ts). `previous` is what the holder that
   * released a bucket left on its Lease (`handoverNote`), undefined when it stopped renewing
   * instead. Not called for buckets nobody held before. Default: no wait.
   */
  prepare?(taken: { bucket: number; previous: string | undefined }[], signal?: AbortSignal): Promise<unknown>;
  /** What this replica leaves on a bucket's Lease when it releases it (for the next holder's `prepare`). */
  handoverNote?(bucket: number): string;
  /** An object written while processing a key (for `handoverNote`). */
  written?(bucket: number, obj: KubeObject): void;
  /**
   * A member Lease not renewed for this many lease durations (a replica that crashed and never
   * came back), and a bucket Lease past the bucket count (the count was lowered), is deleted by
   * whichever member sees it first. Default 5.
   */
  collectAfterDurations?: number;
  /** How long a bucket being handed over waits for its in-flight keys before it is released anyway. Default 25 000 ms. */
  drainMs?: number;
  clock: Clock;
  logger?: Logger;
  /** Buckets this replica just took: their keys are to be swept (as `sync`). */
  onGained?(buckets: number[]): void;
  metrics?: ShardMetrics;
}

/** What the coordinator reports. */
export interface ShardMetrics {
  /** Buckets whose Lease this replica holds (and keeps), and of those the ones whose keys wait for `prepare`. */
  bucketsHeld?(n: number, waiting: number): void;
  /** A bucket taken: `graceful` (released by its holder, or new) or `expired` (its holder stopped renewing). */
  handover?(kind: 'graceful' | 'expired', ownerlessMs: number): void;
  /** A stale Lease deleted (see `collectAfterDurations`). */
  collected?(): void;
}

interface Held {
  lease: Lease;
  /** When the request of the last successful renewal (or take) was sent, local clock. */
  renewedAt: number;
  /** Since when it is being handed over (keys no longer taken). */
  drainingSince?: number;
  /** Its keys are processed once `prepare` is done. */
  ready: boolean;
}

interface Taken {
  /** Whether its keys wait for `prepare`. */
  prepare: boolean;
  /** What the holder that released it left on its Lease. */
  previous: string | undefined;
}

interface Observed {
  record: string;
  at: number;
}

export class ShardCoordinator {
  readonly buckets: number;
  private readonly o: Required<Omit<ShardCoordinatorOptions, 'onGained' | 'metrics' | 'logger' | 'prepare' | 'handoverNote' | 'written'>> & ShardCoordinatorOptions;
  private readonly log: Logger;
  private readonly held = new Map<number, Held>();
  private readonly inFlight = new Map<number, number>();
  private readonly observed = new Map<string, Observed>();
  /** The buckets the last round's assignment gave this replica. */
  private desired = new Set<number>();
  private member: Lease | undefined;
  private readonly memberName: string;
  private stopped = false;
  private rounds = 0;

  constructor(options: ShardCoordinatorOptions) {
    this.o = { buckets: 64, collectAfterDurations: 5, leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2000, drainMs: 25_000, maxClockSkewMs: 2000, ...options };
    if (this.o.renewDeadlineMs >= this.o.leaseDurationMs) throw new Error('sharding: renewDeadlineSeconds must be shorter than leaseDurationSeconds');
    this.buckets = this.o.buckets;
    this.log = (options.logger ?? nullLogger).child({ component: 'sharding', identity: options.identity });
    this.memberName = memberLeaseName(options.identity);
  }

  /** This replica's identity. */
  get identity(): string {
    return this.o.identity;
  }

  /** The bucket of a queue key. */
  bucketOf(key: string): number {
    return bucketOf(key, this.buckets);
  }

  /** Whether this replica takes `key` now: it holds the key's bucket, is not handing it over, and renewed it in time. */
  admits(key: string): boolean {
    return this.admitsBucket(this.bucketOf(key));
  }

  /**
   * Whether this replica keeps `key`'s changes: it holds the key's bucket (until it released
   * it) or is to take it (by the last round's assignment). A change kept while the bucket is
   * not (yet, or for a moment not) admitted waits for the bucket to be taken; then it is queued
   * again. A change nobody keeps during a handover is seen by the new owner's `sync` sweep.
   */
  wants(key: string): boolean {
    const b = this.bucketOf(key);
    const h = this.held.get(b);
    return (this.desired.has(b) && !this.stopped) || h !== undefined;
  }

  admitsBucket(bucket: number): boolean {
    const h = this.held.get(bucket);
    const now = this.o.clock.now();
    return h !== undefined && h.ready && h.drainingSince === undefined && now - h.renewedAt < this.o.renewDeadlineMs;
  }

  /** A key's processing starts (counted per bucket, so a handover waits for it). */
  begin(key: string): void {
    const b = this.bucketOf(key);
    this.inFlight.set(b, (this.inFlight.get(b) ?? 0) + 1);
  }

  /** An object written while processing `key` (the next holder of its bucket waits for its caches to see it). */
  written(key: string, obj: KubeObject): void {
    this.o.written?.(this.bucketOf(key), obj);
  }

  end(key: string): void {
    const b = this.bucketOf(key);
    const n = (this.inFlight.get(b) ?? 1) - 1;
    if (n > 0) this.inFlight.set(b, n);
    else this.inFlight.delete(b);
  }

  /** The buckets this replica takes keys of now, ascending. */
  heldBuckets(): number[] {
    return [...this.held.keys()].filter((b) => this.admitsBucket(b)).sort((a, b) => a - b);
  }

  /** Held buckets and, of them, those whose keys wait for `prepare`. */
  private report(): void {
    const now = this.o.clock.now();
    const kept = [...this.held.values()].filter((h) => h.drainingSince === undefined && now - h.renewedAt < this.o.renewDeadlineMs);
    this.o.metrics?.bucketsHeld?.(kept.length, kept.filter((h) => !h.ready).length);
  }

  /** Rounds every retry period until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.stopped) {
      await this.tick(signal).catch((err: unknown) => {
        if (!signal.aborted) this.log.warn('sharding round failed; retrying', { error: errorMessage(err) });
      });
      await new Promise<void>((resolve) => {
        const timer = this.o.clock.setTimer(resolve, this.o.retryPeriodMs);
        signal.addEventListener('abort', () => (this.o.clock.clearTimer(timer), resolve()), { once: true });
      });
    }
  }

  /** One round: renew the member Lease, read the ring, renew, hand over and take buckets. */
  async tick(signal?: AbortSignal): Promise<void> {
    if (this.stopped) return;
    const leases = await this.o.store.list(signal);
    const now = this.o.clock.now();
    const byName = new Map(leases.map((l) => [l.metadata?.name ?? '', l]));
    for (const l of leases) this.observe(l, now);
    await this.renewMember(byName.get(this.memberName), now, signal);
    await this.collect(leases, now, signal);
    // The first round only joins: peers starting together see each other before anyone takes buckets.
    if (this.rounds++ === 0 && leases.length > 0) return;
    const owners = assignBuckets(this.buckets, this.liveMembers(leases, now));
    this.desired = new Set(owners.flatMap((o, b) => (o === this.o.identity ? [b] : [])));
    const results = await Promise.allSettled(
      Array.from({ length: this.buckets }, (_, b) => this.settleBucket(b, owners[b] === this.o.identity, byName.get(bucketLeaseName(this.o.ring, b)), now, signal)),
    );
    const gained: number[] = [];
    const preparing: { bucket: number; previous: string | undefined }[] = [];
    let failures = 0;
    results.forEach((r, b) => {
      if (r.status === 'fulfilled' && r.value?.prepare) preparing.push({ bucket: b, previous: r.value.previous });
      else if (r.status === 'fulfilled' && r.value) gained.push(b);
      if (r.status === 'rejected') failures++;
    });
    if (preparing.length > 0) void this.prepare(preparing, signal);
    if (failures > 0 && !signal?.aborted) {
      const first = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      this.log.warn('sharding: some bucket leases could not be written this round; retrying', { failures, error: errorMessage(first?.reason) });
    }
    this.report();
    if (gained.length > 0 && !this.stopped) {
      this.log.info('took buckets', { buckets: gained.length, held: this.heldBuckets().length });
      this.o.onGained?.(gained);
    }
  }

  /**
   * Leaves the ring: stops taking keys of every bucket, releases the bucket Leases (the caller
   * has let in-flight work finish) and deletes the member Lease, so the others take over at once.
   */
  async leave(signal?: AbortSignal): Promise<void> {
    this.stopped = true;
    this.desired.clear();
    for (const h of this.held.values()) h.drainingSince ??= this.o.clock.now();
    await Promise.all([...this.held.keys()].map((b) => this.release(b, signal).catch((err: unknown) => this.log.warn('could not release a bucket; it expires on its own', { bucket: b, error: errorMessage(err) }))));
    try {
      await this.o.store.delete(this.memberName, signal);
    } catch (err) {
      if (!isNotFound(err)) this.log.warn('could not delete the member lease; it expires on its own', { error: errorMessage(err) });
    }
    this.o.metrics?.bucketsHeld?.(0, 0);
  }

  /** Records a Lease; its record changing restarts its observed clock. */
  private observe(lease: Lease, now: number): void {
    const name = lease.metadata?.name ?? '';
    const s = lease.spec ?? {};
    const record = `${s.holderIdentity ?? ''}|${s.renewTime ?? ''}|${s.acquireTime ?? ''}|${s.leaseDurationSeconds ?? ''}|${s.leaseTransitions ?? ''}`;
    const prev = this.observed.get(name);
    if (!prev || prev.record !== record) this.observed.set(name, { record, at: now });
  }

  /**
   * Whether a Lease's holder renewed it within its duration: as this replica observed it (its
   * record changed less than a duration ago) and by the renewTime it wrote, read on this clock
   * with `maxClockSkewMs` of allowance. The second lets a replica that just joined see at once
   * that a crashed holder's Lease expired, instead of watching it for a whole duration first.
   */
  private fresh(lease: Lease, now: number): boolean {
    const seen = this.observed.get(lease.metadata?.name ?? '');
    const durationMs = (lease.spec?.leaseDurationSeconds ?? this.o.leaseDurationMs / 1000) * 1000;
    if (seen === undefined || now - seen.at >= durationMs) return false;
    const renewed = Date.parse(lease.spec?.renewTime ?? '');
    return Number.isNaN(renewed) || now - renewed < durationMs + this.o.maxClockSkewMs;
  }

  /** Deletes Leases left behind: members gone for `collectAfterDurations`, buckets past the count. */
  private async collect(leases: Lease[], now: number, signal?: AbortSignal): Promise<void> {
    const n = this.o.collectAfterDurations;
    for (const l of leases) {
      const name = l.metadata?.name ?? '';
      const role = l.metadata?.labels?.[ROLE_LABEL];
      const beyond = role === 'bucket' && bucketIndex(this.o.ring, name) >= this.buckets;
      if (name === this.memberName || !(role === 'member' || beyond)) continue;
      const durationMs = Math.max(this.o.leaseDurationMs, (l.spec?.leaseDurationSeconds ?? 0) * 1000);
      const seen = this.observed.get(name);
      const renewed = Date.parse(l.spec?.renewTime ?? '');
      if (!seen || now - seen.at < n * durationMs || (!Number.isNaN(renewed) && now - renewed < n * durationMs)) continue;
      try {
        await this.o.store.delete(name, signal, l.metadata?.resourceVersion);
        this.observed.delete(name);
        this.o.metrics?.collected?.();
        this.log.info(beyond ? 'deleted the Lease of a bucket past the bucket count' : 'deleted the member Lease of a replica gone for a while', { lease: name, holder: l.spec?.holderIdentity ?? '' });
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) this.log.debug('could not delete a stale Lease; trying again next round', { lease: name, error: errorMessage(err) });
      }
    }
  }

  private liveMembers(leases: Lease[], now: number): string[] {
    const live = new Set<string>();
    if (!this.stopped) live.add(this.o.identity);
    for (const l of leases) {
      if (l.metadata?.labels?.[ROLE_LABEL] !== 'member') continue;
      const holder = l.spec?.holderIdentity ?? '';
      if (holder && this.fresh(l, now)) live.add(holder);
    }
    return [...live];
  }

  private spec(now: number, base?: LeaseSpec): LeaseSpec {
    const t = formatMicroTime(now);
    return {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime: base?.holderIdentity === this.o.identity ? (base.acquireTime ?? t) : t,
      renewTime: t,
      leaseTransitions: (base?.leaseTransitions ?? 0) + (base?.holderIdentity === this.o.identity ? 0 : base ? 1 : 0),
    };
  }

  private async renewMember(current: Lease | undefined, now: number, signal?: AbortSignal): Promise<void> {
    if (this.stopped) return;
    try {
      const lease = current ?? this.member;
      this.member = lease
        ? await this.o.store.update({ ...lease, spec: this.spec(now, lease.spec) }, signal)
        : await this.o.store.create(ringLease(this.o.ring, this.o.namespace, this.memberName, 'member', this.spec(now)), signal);
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err) || isNotFound(err)) this.member = undefined; // read again next round
      else throw err;
    }
  }

  /** Renews, hands over or takes one bucket; what was taken now (and whether it waits for `prepare`), else undefined. */
  private async settleBucket(b: number, mine: boolean, lease: Lease | undefined, now: number, signal?: AbortSignal): Promise<Taken | undefined> {
    const held = this.held.get(b);
    if (held) {
      if (now - held.renewedAt >= this.o.renewDeadlineMs) {
        this.held.delete(b);
        this.log.warn('lost a bucket: could not renew it within the renew deadline', { bucket: b });
        return undefined;
      }
      if (!mine || this.stopped) {
        held.drainingSince ??= now;
        if ((this.inFlight.get(b) ?? 0) === 0 || now - held.drainingSince >= this.o.drainMs) await this.release(b, signal);
        return undefined;
      }
      if (now - held.renewedAt >= this.o.leaseDurationMs / 3) await this.renew(b, held, now, signal);
      return undefined;
    }
    if (!mine || this.stopped) return undefined;
    const holder = lease?.spec?.holderIdentity ?? '';
    let kind: 'graceful' | 'expired' = 'graceful';
    if (lease && holder !== '' && holder !== this.o.identity) {
      if (this.fresh(lease, now)) return undefined; // held by a live owner: wait for its release or expiry
      kind = 'expired';
    }
    const seenAt = lease ? (this.observed.get(lease.metadata?.name ?? '')?.at ?? now) : now;
    try {
      const taken = lease
        ? await this.o.store.update({ ...lease, spec: this.spec(now, lease.spec) }, signal)
        : await this.o.store.create(ringLease(this.o.ring, this.o.namespace, bucketLeaseName(this.o.ring, b), 'bucket', this.spec(now)), signal);
      if (this.stopped) return undefined;
      // A bucket held before: its keys wait until this replica's caches hold what its holder wrote.
      const prepare = lease !== undefined && this.o.prepare !== undefined;
      this.held.set(b, { lease: taken, renewedAt: now, ready: !prepare });
      this.observe(taken, now);
      this.o.metrics?.handover?.(kind, lease ? now - seenAt : 0);
      // Its own Lease (lost for a moment): what it wrote itself, as it would have left it.
      const previous = holder === this.o.identity ? this.o.handoverNote?.(b) : kind === 'graceful' ? lease?.metadata?.annotations?.[HANDOVER_ANNOTATION] : undefined;
      return { prepare, previous };
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) return undefined; // someone else moved first: next round
      throw err;
    }
  }

  /** Waits for `prepare`, then admits the buckets still held and has their keys swept. */
  private async prepare(taken: { bucket: number; previous: string | undefined }[], signal?: AbortSignal): Promise<void> {
    const held = taken.map((t) => this.held.get(t.bucket));
    try {
      await this.o.prepare!(taken, signal);
    } catch (err) {
      this.log.warn('sharding: waiting for the caches failed; processing the taken buckets anyway', { error: errorMessage(err) });
    }
    const ready: number[] = [];
    taken.forEach((t, i) => {
      const h = this.held.get(t.bucket);
      if (h === undefined || h !== held[i]) return; // released or lost meanwhile
      h.ready = true;
      ready.push(t.bucket);
    });
    if (ready.length === 0 || this.stopped) return;
    this.report();
    this.log.info('took buckets', { buckets: ready.length, held: this.heldBuckets().length });
    this.o.onGained?.(ready);
  }

  private async renew(b: number, held: Held, now: number, signal?: AbortSignal): Promise<void> {
    try {
      held.lease = await this.o.store.update({ ...held.lease, spec: this.spec(now, held.lease.spec) }, signal);
      held.renewedAt = now;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) {
        // Someone changed our Lease: it is not ours any more.
        this.held.delete(b);
        this.log.warn('lost a bucket: its lease was changed by another replica', { bucket: b });
        return;
      }
      throw err;
    }
  }

  /** Gives a bucket's Lease up (empty holder, 1 s duration) and forgets it. */
  private async release(b: number, signal?: AbortSignal): Promise<void> {
    const held = this.held.get(b);
    if (!held) return;
    this.held.delete(b);
    const now = this.o.clock.now();
    const t = formatMicroTime(now);
    try {
      const note = this.o.handoverNote?.(b);
      const metadata = note === undefined ? held.lease.metadata : { ...held.lease.metadata, annotations: { ...held.lease.metadata?.annotations, [HANDOVER_ANNOTATION]: note } };
      const released = await this.o.store.update({ ...held.lease, metadata, spec: { ...held.lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: t } }, signal);
      this.observe(released, now);
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }
}
