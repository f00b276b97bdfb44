/** SharedInformer: one self-healing list+watch cache of a resource, fanned out to many handlers. */
import { errorMessage, nullLogger, realClock, sleep, type Backoff, type Clock, type KubeObject, type Logger, type TimerHandle } from '../core/index.js';
import { reflectorBackoff, withBackoff } from './backoff.js';
import { createLister, type Lister } from './lister.js';
import type { ListerWatcher } from './list-watcher.js';
import { reflect, type ReflectorEvent } from './reflector.js';
import { StreamingListSupport } from './streaming-list-support.js';
import { createStore, type StoreChange, type Store, type StoreOptions, type Writer } from './store.js';
import { watcherSteps, type WatcherConfig } from './watcher.js';

/**
 * InformerHandler: called synchronously, in event order, for every change of the
 * cache. Handlers should only enqueue keys; a handler that throws is logged and
 * does not affect the others. Objects are shared: never mutate them.
 */
export interface InformerHandler<T extends KubeObject = KubeObject> {
  /** A new object; `isInitialList` is true for the first list and for the catch-up adds of a late handler. */
  add?(obj: Readonly<T>, isInitialList: boolean): void;
  /** A changed object (resync calls it with `old === obj`). */
  update?(old: Readonly<T>, obj: Readonly<T>): void;
  /** A deleted object's final state, including deletes missed while disconnected and found on relist. */
  delete?(obj: Readonly<T>): void;
}

export interface HandlerOptions {
  /** Re-delivers every cached object as `update(obj, obj)` to this handler at this period, ms, without relisting. Default: never. */
  resyncPeriodMs?: number;
}

export interface SharedInformerOptions<T extends KubeObject = KubeObject> extends WatcherConfig, StoreOptions<T> {
  /** Backoff after errors. Default `reflectorBackoff()`: 800 ms → 30 s, ×2, up to 100 % jitter, also at 30 s. */
  backoff?: Backoff;
  /** The backoff starts over after this long without errors, ms. Default 120 000. */
  backoffResetAfterMs?: number;
  /** Default `nullLogger`. */
  logger?: Logger;
}

/** Counters of one informer's life, for metrics and tests. */
export interface InformerStats {
  /** Completed lists (the first one included). */
  lists: number;
  /** Of these, the ones that came as streaming lists. */
  streamedLists: number;
  /** Watches opened. */
  watches: number;
  errors: number;
  lastError?: Error;
}

interface Registration<T extends KubeObject> {
  handler: InformerHandler<T>;
  resyncPeriodMs?: number;
  timer?: TimerHandle;
}

export class SharedInformer<T extends KubeObject = KubeObject> {
  /** The cache: read-only. */
  readonly store: Store<T>;
  /** Lookups by namespace, name and label selector. */
  readonly lister: Lister<T>;
  private readonly writer: Writer<T>;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly backoff: Backoff;
  private readonly handlers = new Set<Registration<T>>();
  private readonly syncWaiters = new Set<() => void>();
  private synced = false;
  private running: Promise<void> | undefined;
  private readonly counters: InformerStats = { lists: 0, streamedLists: 0, watches: 0, errors: 0 };
  private readonly streamingListSupport: StreamingListSupport;

  constructor(
    private readonly lw: ListerWatcher<T>,
    private readonly options: SharedInformerOptions<T> = {},
  ) {
    [this.store, this.writer] = createStore<T>(options);
    this.lister = createLister(this.store);
    this.clock = options.clock ?? realClock;
    this.backoff = options.backoff ?? reflectorBackoff();
    this.logger = (options.logger ?? nullLogger).child({ informer: lw.description });
    this.streamingListSupport =
      options.streamingListSupport ?? new StreamingListSupport((error) => this.logger.info('the API server does not serve streaming lists; listing with LIST', { error: error.message }));
  }

  /** What this informer watches, for logs. */
  get description(): string {
    return this.lw.description;
  }

  /** True once the first list has been stored. */
  hasSynced(): boolean {
    return this.synced;
  }

  stats(): InformerStats {
    return { ...this.counters };
  }

  /** Resolves true once synced, or false when `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        this.syncWaiters.delete(onSync);
        signal?.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const onSync = () => done(true);
      const onAbort = () => done(false);
      this.syncWaiters.add(onSync);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Adds a handler; if the cache is already filled, it first receives an add
   * (isInitialList true) for every cached object. Returns the function that removes it.
   */
  addHandler(handler: InformerHandler<T>, options: HandlerOptions = {}): () => void {
    const reg: Registration<T> = { handler, resyncPeriodMs: options.resyncPeriodMs };
    this.handlers.add(reg);
    for (const obj of this.store.list()) this.call(reg, () => handler.add?.(obj, true));
    this.armResync(reg);
    return () => {
      this.handlers.delete(reg);
      if (reg.timer) this.clock.clearTimer(reg.timer);
    };
  }

  /**
   * Lists, watches and heals until `signal` aborts; never rejects because of an API
   * error. Calling it again while running returns the same promise.
   */
  run(signal: AbortSignal): Promise<void> {
    if (this.running) return this.running;
    for (const reg of this.handlers) if (!reg.timer) this.armResync(reg);
    this.running = this.loop(signal).finally(() => {
      for (const reg of this.handlers) {
        if (reg.timer) this.clock.clearTimer(reg.timer);
        reg.timer = undefined;
      }
      this.running = undefined;
    });
    return this.running;
  }

  /**
   * Runs watcher → backoff → reflector. API errors never reach here (they are events);
   * if anything else throws (a custom transform or index function, say), the failure
   * is logged and the pipeline starts over with a relist after a backoff delay.
   */
  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.pipeline(signal);
      } catch (err) {
        this.counters.errors++;
        this.counters.lastError = err instanceof Error ? err : new Error(String(err));
        const delayMs = this.backoff.next();
        this.logger.error('informer failed; relisting after a delay', { error: errorMessage(err), delayMs: Math.round(delayMs) });
        await sleep(this.clock, delayMs, signal).catch(() => undefined);
      }
    }
  }

  private async pipeline(signal: AbortSignal): Promise<void> {
    const events = withBackoff(
      // Listed objects are staged (transformed, indexed) as they are decoded, so a large listing is not held as it came.
      watcherSteps(
        this.lw,
        {
          ...this.options,
          streamingListSupport: this.streamingListSupport,
          // The default transform drops managedFields: they need not be decoded at all.
          dropManagedFields: this.options.dropManagedFields ?? this.options.transform === undefined,
          onListItem: (o) => this.writer.stage(o as T),
        },
        signal,
      ),
      {
        backoff: this.backoff,
        resetAfterMs: this.options.backoffResetAfterMs,
        clock: this.clock,
        onDelay: (ms, error) => this.logger.warn('informer retrying after error', { error: errorMessage(error), delayMs: Math.round(ms) }),
      },
      signal,
    );
    for await (const batch of reflect(this.writer, events, { listedStaged: true })) for (const ev of batch) this.dispatch(ev);
  }

  private dispatch(ev: ReflectorEvent<T>): void {
    switch (ev.type) {
      case 'listed':
        this.counters.lists++;
        if (ev.streamed) this.counters.streamedLists++;
        this.logger.debug('informer listed', { objects: ev.objects, resourceVersion: ev.resourceVersion, streamed: ev.streamed });
        if (!this.synced) this.markSynced();
        return;
      case 'watchStarted':
        this.counters.watches++;
        return;
      case 'error':
        this.counters.errors++;
        this.counters.lastError = ev.error;
        return;
      default:
        this.deliver(ev);
    }
  }

  private deliver(change: StoreChange<T>): void {
    for (const reg of this.handlers) {
      const h = reg.handler;
      switch (change.type) {
        case 'add':
          this.call(reg, () => h.add?.(change.object, change.isInitialList));
          break;
        case 'update':
          this.call(reg, () => h.update?.(change.old, change.object));
          break;
        case 'delete':
          this.call(reg, () => h.delete?.(change.object));
          break;
      }
    }
  }

  private markSynced(): void {
    this.synced = true;
    for (const resolve of [...this.syncWaiters]) resolve();
  }

  private armResync(reg: Registration<T>): void {
    const period = reg.resyncPeriodMs;
    if (!period || period <= 0) return;
    reg.timer = this.clock.setTimer(() => {
      if (!this.handlers.has(reg)) return;
      if (this.synced) for (const obj of this.store.list()) this.call(reg, () => reg.handler.update?.(obj, obj));
      this.armResync(reg);
    }, period);
  }

  private call(reg: Registration<T>, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error('informer handler failed', { error: errorMessage(err) });
    }
  }
}
