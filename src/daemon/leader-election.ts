/**
 * leader-election: one leader among replicas through a coordination.k8s.io/v1 Lease, with
 * client-go's leaderelection semantics. A candidate takes the Lease when it is free, released
 * (empty holder) or not renewed for `leaseDurationSeconds` as this process observed it; the
 * leader renews every `retryPeriodSeconds` and stops leading when it could not renew for
 * `renewDeadlineSeconds`. Every write carries the resourceVersion read (optimistic concurrency).
 */
import { type Clock, errorMessage, formatMicroTime, type KubeObject, type Logger, nullLogger, realClock, sleep } from '../core/index.js';
import { isAlreadyExists, isConflict, isNotFound, type KubeClient } from '../client/index.js';

/** The Lease's spec, as the API names it. */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

type Lease = KubeObject & { spec?: LeaseSpec };

export interface LeaderElectorOptions {
  client: KubeClient;
  /** Lease name. */
  name: string;
  /** Lease namespace. */
  namespace: string;
  /** This candidate's holderIdentity; unique per process. */
  identity: string;
  /** How long a Lease holds without renewal, as other candidates see it. Default 15. */
  leaseDurationSeconds?: number;
  /** How long the leader retries renewing before it stops leading; must be < leaseDurationSeconds. Default 10. */
  renewDeadlineSeconds?: number;
  /** Wait between attempts to acquire (plus up to 1.2× jitter) or renew. Default 2. */
  retryPeriodSeconds?: number;
  /** Default the real clock; tests pass a FakeClock. */
  clock?: Clock;
  /** Jitter source in [0, 1); default Math.random (tests pass `() => 0`). */
  random?: () => number;
  logger?: Logger;
  /** Called when this candidate starts leading; `signal` aborts when it stops. */
  onStartedLeading?: (signal: AbortSignal) => void;
  /** Called when this candidate stops leading (lost the Lease, or run ended). */
  onStoppedLeading?: () => void;
  /** Called when the observed holder changes (including to this candidate). */
  onNewLeader?: (identity: string) => void;
}

/** Jitter factor of the acquire period, as client-go's JitterFactor. */
const JITTER = 1.2;

/**
 * LeaderElector: `run` campaigns until its signal aborts, leading whenever it holds the Lease;
 * after losing it, it campaigns again (the caches stay warm; only leadership moves).
 * `release` hands the Lease over at once (call it after aborting `run`, on SIGTERM).
 */
export class LeaderElector {
  private readonly o: Required<Omit<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading' | 'onNewLeader'>> &
    LeaderElectorOptions;
  private readonly log: Logger;
  /** The Lease as last read or written, and when this process saw it change (local clock). */
  private observed: Lease | undefined;
  private observedTime = 0;
  private leading = false;
  private released = false;
  private inflight: Promise<unknown> = Promise.resolve();

  constructor(options: LeaderElectorOptions) {
    this.o = {
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
      clock: realClock,
      random: Math.random,
      logger: nullLogger,
      ...options,
    };
    this.log = this.o.logger.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
  }

  /** Whether this candidate holds the Lease right now. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder this candidate last observed ('' when free). */
  leader(): string {
    return this.observed?.spec?.holderIdentity ?? '';
  }

  /** Campaigns and leads until `signal` aborts; resolves then (leadership ended, Lease not released). */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.released) {
      if (!(await this.acquire(signal))) break;
      const lead = new AbortController();
      this.leading = true;
      this.log.info('acquired the lease: leading');
      this.o.onStartedLeading?.(lead.signal);
      await this.renewUntilLost(signal);
      this.leading = false;
      lead.abort();
      this.o.onStoppedLeading?.();
    }
  }

  /**
   * Gives the Lease up (empty holder, leaseDurationSeconds 1) so another candidate takes it at
   * once; stops renewing for good. Does nothing unless this candidate holds the Lease.
   */
  async release(options: { signal?: AbortSignal } = {}): Promise<void> {
    this.released = true;
    await this.inflight.catch(() => undefined);
    const { client, name, namespace, identity, clock } = this.o;
    try {
      // The Lease read last may be stale (a renew whose answer was cut off): on a Conflict, read it again.
      for (let attempt = 0; attempt < 3; attempt++) {
        const lease = this.observed;
        if (!lease || lease.spec?.holderIdentity !== identity) return;
        const now = formatMicroTime(clock.now());
        const spec: LeaseSpec = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec?.leaseTransitions ?? 0 };
        try {
          this.observed = await client.update<Lease>({ ...lease, spec }, { signal: options.signal });
          this.log.info('released the lease');
          return;
        } catch (err) {
          if (isNotFound(err)) return;
          if (!isConflict(err)) throw err;
          this.observed = await client.get<Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name }, { signal: options.signal });
        }
      }
      this.log.warn('could not release the lease: it kept changing; it expires on its own');
    } finally {
      this.leading = false;
    }
  }

  /** Tries every retry period (with jitter) until the Lease is ours; false when aborted first. */
  private async acquire(signal: AbortSignal): Promise<boolean> {
    const periodMs = this.o.retryPeriodSeconds * 1000;
    this.log.debug('campaigning for the lease');
    while (!signal.aborted && !this.released) {
      if (await this.attempt(signal)) return true;
      try {
        await sleep(this.o.clock, periodMs + this.o.random() * JITTER * periodMs, signal);
      } catch {
        return false;
      }
    }
    return false;
  }

  /** Renews every retry period; returns when the renew deadline passes without a renewal, another holder shows up, or on abort. */
  private async renewUntilLost(signal: AbortSignal): Promise<void> {
    const deadlineMs = this.o.renewDeadlineSeconds * 1000;
    let lastRenew = this.o.clock.now();
    while (!signal.aborted && !this.released) {
      try {
        await sleep(this.o.clock, this.o.retryPeriodSeconds * 1000, signal);
      } catch {
        return;
      }
      if (this.released) return;
      // Bound the attempt by what is left of the renew deadline.
      const attempt = new AbortController();
      const onAbort = () => attempt.abort(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      const timer = this.o.clock.setTimer(() => attempt.abort(new Error('renew deadline passed')), lastRenew + deadlineMs - this.o.clock.now());
      const ok = await this.attempt(attempt.signal);
      this.o.clock.clearTimer(timer);
      signal.removeEventListener('abort', onAbort);
      if (ok) {
        lastRenew = this.o.clock.now();
        continue;
      }
      const holder = this.leader();
      if (holder !== this.o.identity && holder !== '') {
        this.log.warn('lost the lease to another holder', { holder });
        return;
      }
      if (this.o.clock.now() - lastRenew >= deadlineMs) {
        this.log.warn('could not renew the lease within the renew deadline: stopping leading', { renewDeadlineSeconds: this.o.renewDeadlineSeconds });
        return;
      }
    }
  }

  /** One tryAcquireOrRenew; errors are logged and count as failure. Serialized through `inflight` for release. */
  private attempt(signal: AbortSignal): Promise<boolean> {
    const p = this.tryAcquireOrRenew(signal).catch((err: unknown) => {
      if (!signal.aborted) this.log.warn('lease attempt failed', { error: errorMessage(err) });
      return false;
    });
    this.inflight = p;
    return p;
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { client, name, namespace, identity, clock } = this.o;
    const now = clock.now();
    const fresh: LeaseSpec = { holderIdentity: identity, leaseDurationSeconds: Math.ceil(this.o.leaseDurationSeconds), acquireTime: formatMicroTime(now), renewTime: formatMicroTime(now), leaseTransitions: 0 };
    let lease: Lease;
    try {
      lease = await client.get<Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name }, { signal });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        const created = await client.create<Lease>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: fresh }, { signal });
        this.observe(created, clock.now());
        return true;
      } catch (createErr) {
        if (isAlreadyExists(createErr)) return false;
        throw createErr;
      }
    }
    if (this.released) return false;
    this.observe(lease, now);
    const old = lease.spec ?? {};
    const holder = old.holderIdentity ?? '';
    const durationMs = (old.leaseDurationSeconds ?? this.o.leaseDurationSeconds) * 1000;
    if (holder !== '' && holder !== identity && this.observedTime + durationMs > now) return false;
    const spec: LeaseSpec =
      holder === identity
        ? { ...fresh, acquireTime: old.acquireTime ?? fresh.acquireTime, leaseTransitions: old.leaseTransitions ?? 0 }
        : { ...fresh, leaseTransitions: (old.leaseTransitions ?? 0) + 1 };
    try {
      const updated = await client.update<Lease>({ ...lease, spec }, { signal });
      this.observe(updated, clock.now());
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  /** Records the Lease; a changed record restarts the observed clock, as client-go does. */
  private observe(lease: Lease, now: number): void {
    const before = this.observed?.spec;
    const after = lease.spec ?? {};
    if (JSON.stringify(recordOf(before)) !== JSON.stringify(recordOf(after)) || this.observed === undefined) this.observedTime = now;
    if ((before?.holderIdentity ?? '') !== (after.holderIdentity ?? '') || this.observed === undefined) {
      if (after.holderIdentity) this.log.info('new leader observed', { holder: after.holderIdentity });
      if (after.holderIdentity) this.o.onNewLeader?.(after.holderIdentity);
    }
    this.observed = lease;
  }
}

function recordOf(spec: LeaseSpec | undefined): unknown[] {
  return [spec?.holderIdentity, spec?.leaseDurationSeconds, spec?.acquireTime, spec?.renewTime, spec?.leaseTransitions];
}

