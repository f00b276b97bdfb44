/** RateLimitingWorkQueue: a delaying queue that retries keys after the delay its rate limiter chooses. */
import type { AddOptions } from './lane.js';
import { DelayingWorkQueue, type DelayingQueue } from './delaying-queue.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiters.js';
import type { WorkQueueOptions } from './work-queue.js';

/** RateLimitingQueue: a DelayingQueue with rate-limited retries. */
export interface RateLimitingQueue extends DelayingQueue {
  /** Adds `key` after the delay the rate limiter gives it (one more retry counted). */
  addRateLimited(key: string, options?: AddOptions): void;
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

  addRateLimited(key: string, options: AddOptions = {}): void {
    if (this.shuttingDown) return;
    this.metrics.retry();
    this.addAfter(key, this.limiter.when(key), options);
  }

  forget(key: string): void {
    this.limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.limiter.retries(key);
  }
}
