/** WorkQueue: a fair, stingy, multi-producer multi-consumer queue of string keys with lanes. */
import { realClock, type Clock, type TimerHandle } from '../core/index.js';
import { Fifo } from './fifo.js';
import { LANES, type AddOptions, type Lane } from './lane.js';
import { noopQueueMetrics, type QueueMetrics, type QueueStats } from './metrics.js';

/**
 * Queue: the contract every work queue keeps (client-go's `workqueue.Interface`).
 * - fair: keys are handed out in the order they were added (live lane first);
 * - stingy: a key pending twice is handed out once, and a key is never handed to
 *   two workers at once; a key added while it is processed is handed out again after `done`;
 * - safe for many producers and many consumers.
 */
export interface Queue {
  /** Marks `key` as needing processing. Ignored after shutdown. */
  add(key: string, options?: AddOptions): void;
  /**
   * Waits for the next key and marks it as being processed; the caller must call
   * `done(key)` when finished. Resolves to undefined once the queue shuts down
   * (also for callers already waiting) or when `signal` aborts.
   */
  get(signal?: AbortSignal): Promise<string | undefined>;
  /** Ends the processing of `key`; if it was added meanwhile, it is queued again. */
  done(key: string): void;
  /** Keys waiting to be handed out (not counting keys in process). */
  len(): number;
  /** Stops the queue: pending keys are dropped, waiting and future `get` calls resolve to undefined. */
  shutdown(): void;
  /**
   * Shuts down like `shutdown`, then waits until every key in process is `done`, or
   * `timeoutMs` passes on the queue's clock. Resolves true when everything drained.
   */
  shutdownWithDrain(options?: { timeoutMs?: number }): Promise<boolean>;
  /** True once `shutdown` (or `shutdownWithDrain`) was called. */
  readonly shuttingDown: boolean;
  /** Gauges for a metrics scrape. */
  stats(): QueueStats;
}

export interface WorkQueueOptions {
  /** Time source for latencies and drain bounds. Default `realClock`. */
  clock?: Clock;
  /** Metric hooks. Default: record nothing. */
  metrics?: QueueMetrics;
  /** Bound of `shutdownWithDrain` when the call gives none, ms. Default 30 000 (a typical pod grace period). */
  drainTimeoutMs?: number;
}

interface Pending {
  lane: Lane;
  /** Generation: a queued entry whose seq differs is stale (the key changed lane) and is skipped. */
  seq: number;
  /** When the key became pending (for queue latency). */
  since: number;
  /** True while an entry for the key sits in a lane's fifo. */
  queued: boolean;
}

interface Entry {
  key: string;
  seq: number;
}

interface InProcess {
  lane: Lane;
  startedAt: number;
}

export class WorkQueue implements Queue {
  protected readonly clock: Clock;
  protected readonly metrics: QueueMetrics;
  private readonly drainTimeoutMs: number;
  private readonly fifos: Record<Lane, Fifo<Entry>> = { live: new Fifo(), sweep: new Fifo() };
  private readonly depths: Record<Lane, number> = { live: 0, sweep: 0 };
  private readonly pending = new Map<string, Pending>();
  private readonly processing = new Map<string, InProcess>();
  private readonly waiters: Array<(key: string | undefined) => void> = [];
  private drained: (() => void) | undefined;
  private seq = 0;
  private closed = false;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.metrics = options.metrics ?? noopQueueMetrics;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
  }

  get shuttingDown(): boolean {
    return this.closed;
  }

  add(key: string, options: AddOptions = {}): void {
    if (this.closed) return;
    const lane = options.lane ?? 'live';
    this.metrics.add(lane);
    const p = this.pending.get(key);
    if (p) {
      if (p.lane === 'sweep' && lane === 'live') this.promote(key, p);
      return;
    }
    const fresh: Pending = { lane, seq: ++this.seq, since: this.clock.now(), queued: false };
    this.pending.set(key, fresh);
    if (this.processing.has(key)) return; // queued again by done()
    this.enqueue(key, fresh);
    this.wake();
  }

  get(signal?: AbortSignal): Promise<string | undefined> {
    if (this.closed || signal?.aborted) return Promise.resolve(undefined);
    const key = this.pop();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(undefined);
      };
      const waiter = (k: string | undefined) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(k);
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  done(key: string): void {
    const running = this.processing.get(key);
    if (!running) return;
    this.processing.delete(key);
    this.metrics.workDuration(running.lane, (this.clock.now() - running.startedAt) / 1000);
    const p = this.pending.get(key);
    if (p && !p.queued && !this.closed) {
      this.enqueue(key, p);
      this.wake();
    }
    if (this.processing.size === 0) this.drained?.();
  }

  len(): number {
    return this.depths.live + this.depths.sweep;
  }

  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    for (const lane of LANES) {
      this.fifos[lane].clear();
      this.depths[lane] = 0;
      this.metrics.depth(lane, 0);
    }
    this.pending.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
    this.onShutdown();
  }

  async shutdownWithDrain(options: { timeoutMs?: number } = {}): Promise<boolean> {
    this.shutdown();
    if (this.processing.size === 0) return true;
    const timeoutMs = options.timeoutMs ?? this.drainTimeoutMs;
    let timer: TimerHandle | undefined;
    const drained = await new Promise<boolean>((resolve) => {
      this.drained = () => resolve(true);
      timer = this.clock.setTimer(() => resolve(false), timeoutMs);
    });
    if (timer) this.clock.clearTimer(timer);
    this.drained = undefined;
    return drained;
  }

  stats(): QueueStats {
    const now = this.clock.now();
    let longest = 0;
    let total = 0;
    for (const { startedAt } of this.processing.values()) {
      const ms = now - startedAt;
      total += ms;
      if (ms > longest) longest = ms;
    }
    return {
      depth: { ...this.depths },
      processing: this.processing.size,
      longestRunningSeconds: longest / 1000,
      unfinishedWorkSeconds: total / 1000,
    };
  }

  /** Hook for subclasses: release timers when the queue shuts down. */
  protected onShutdown(): void {}

  private enqueue(key: string, p: Pending): void {
    p.queued = true;
    this.fifos[p.lane].push({ key, seq: p.seq });
    this.metrics.depth(p.lane, ++this.depths[p.lane]);
  }

  /** Moves a pending sweep key to the live lane; its old fifo entry turns stale. */
  private promote(key: string, p: Pending): void {
    const wasQueued = p.queued;
    if (wasQueued) this.metrics.depth('sweep', --this.depths.sweep);
    p.lane = 'live';
    p.seq = ++this.seq;
    p.queued = false;
    if (wasQueued) this.enqueue(key, p);
  }

  /** Takes the next key (live lane first) and marks it in process. */
  private pop(): string | undefined {
    for (const lane of LANES) {
      const fifo = this.fifos[lane];
      for (let e = fifo.shift(); e !== undefined; e = fifo.shift()) {
        const p = this.pending.get(e.key);
        if (!p || p.seq !== e.seq || !p.queued) continue; // stale entry of a promoted key
        this.pending.delete(e.key);
        this.metrics.depth(lane, --this.depths[lane]);
        const now = this.clock.now();
        this.processing.set(e.key, { lane, startedAt: now });
        this.metrics.queueLatency(lane, (now - p.since) / 1000);
        return e.key;
      }
    }
    return undefined;
  }

  /** Hands queued keys straight to waiting workers, oldest waiter first. */
  private wake(): void {
    while (this.waiters.length > 0) {
      const key = this.pop();
      if (key === undefined) return;
      this.waiters.shift()?.(key);
    }
  }
}
