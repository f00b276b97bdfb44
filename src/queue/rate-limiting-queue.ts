/** RateLimitingWorkQueue: a delaying queue that retries keys after the delay its rate limiter chooses. */
import type { AddOptions } from './lane.js';
import { DelayingWorkQueue, type DelayingQueue } from './delaying-queue.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiters.js';
import type { WorkQueueOptions } from './work-queue.js';

/** Options of a rate-limited add. */
export interface RateLimitedOptions extends AddOptions {
  /** Wait at least this long, ms (a server's Retry-After). Default 0. */
  atLeastMs?: number;
  /** Wait the limiter's slowest delay (its ceiling, with jitter) whatever the count. Default false. */
  slowest?: boolean;
}

/** RateLimitingQueue: a DelayingQueue with rate-limited retries. */
export interface RateLimitingQueue extends DelayingQueue {
  /**
   * Adds `key` after the delay the rate limiter gives it (one more retry counted), or after
   * `atLeastMs` when that is longer. Replaces a delayed add of the key still waiting.
   */
  addRateLimited(key: string, options?: RateLimitedOptions): void;
  /** Forgets `key`'s retries (call after a success or when giving up); does not remove it from the queue. */
  forget(key: string): void;
  /** Retries counted for `key` since it was last forgotten. */
  numRequeues(key: string): number;
}

export interface RateLimitingQueueOptions extends WorkQueueOptions {
  /** Default `defaultControllerRateLimiter()` on the queue's clock. */
  rateLimiter?: RateLimiter;
}

export class RateLimitingWorkQueue extends DelayingWorkQueue implements RateLimitingQueue {
  private readonly limiter: RateLimiter;

  constructor(options: RateLimitingQueueOptions = {}) {
    super(options);
    this.limiter = options.rateLimiter ?? defaultControllerRateLimiter({ clock: this.clock });
  }

  addRateLimited(key: string, options: RateLimitedOptions = {}): void {
    if (this.shuttingDown) return;
    this.metrics.retry();
    const delay = Math.max(this.limiter.when(key, { slowest: options.slowest === true }), options.atLeastMs ?? 0);
    this.addAfter(key, delay, { lane: options.lane, replace: true });
  }

  forget(key: string): void {
    this.limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiter.retries(key);
  }
}
