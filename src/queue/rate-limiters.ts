/** Rate limiters: how long a key waits before its next retry (client-go's workqueue rate limiters). */
import { realClock, type Clock } from '../core/index.js';

/** Options of one `when`. */
export interface WhenOptions {
  /**
   * Give the slowest delay this limiter ever gives (its ceiling, with jitter) whatever the count:
   * for failures that a person has to fix (RBAC), retried rarely but never forgotten.
   */
  slowest?: boolean;
}

/** RateLimiter decides how long a key waits before it is retried. */
export interface RateLimiter {
  /** The delay (ms) before `key` may be processed again; each call counts one more retry. */
  when(key: string, options?: WhenOptions): number;
  /** Forgets `key`'s failures (after a success, or when giving up). */
  forget(key: string): void;
  /** Retries counted for `key` since it was last forgotten. */
  retries(key: string): number;
}

export interface ItemExponentialOptions {
  /** Delay of the first retry, ms. Default 5: a conflict usually clears almost at once. */
  baseDelayMs?: number;
  /**
   * Ceiling before jitter, ms. Default 300 000 (5 min): after an outage of any length a key is
   * tried again within about 5 minutes of the server's return, and a broken object costs one
   * request per 5 minutes; it is never forgotten.
   */
  maxDelayMs?: number;
  /**
   * Up to this fraction of the delay is added at random, at the ceiling too (as client-go's
   * reflector: `cap × (1 + jitter)`), so keys that failed together do not retry in lockstep.
   * Default 0.1.
   */
  jitter?: number;
  /** Source of randomness in [0, 1). Default Math.random. */
  random?: () => number;
}

/** Per-key exponential backoff: base × 2^retries, capped at max, plus up to `jitter` of it at random. */
export class ItemExponentialRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly base: number;
  private readonly max: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(options: ItemExponentialOptions = {}) {
    this.base = options.baseDelayMs ?? 5;
    this.max = options.maxDelayMs ?? 300_000;
    this.jitter = options.jitter ?? 0.1;
    this.random = options.random ?? Math.random;
  }

  when(key: string, options: WhenOptions = {}): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2^n overflows to Infinity long after the cap; min() keeps it finite.
    const delay = options.slowest ? this.max : Math.min(this.max, this.base * 2 ** n);
    return delay + delay * this.jitter * this.random();
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

export interface TokenBucketOptions {
  /** Sustained rate, tokens per second. Default 10. */
  qps?: number;
  /** Bucket size: how many retries may go at once. Default 100. */
  burst?: number;
  /** Time source. Default `realClock`. */
  clock?: Clock;
}

/**
 * An overall token bucket shared by all keys: each `when` reserves one token and
 * returns how long until it is available (golang.org/x/time/rate's Reserve).
 * It bounds the total retry rate, whatever the number of failing keys.
 */
export class TokenBucketRateLimiter implements RateLimiter {
  private readonly qps: number;
  private readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private last: number;

  constructor(options: TokenBucketOptions = {}) {
    this.qps = options.qps ?? 10;
    this.burst = options.burst ?? 100;
    this.clock = options.clock ?? realClock;
    this.tokens = this.burst;
    this.last = this.clock.now();
  }

  when(_key: string): number {
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
    }
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  forget(_key: string): void {}

  retries(_key: string): number {
    return 0;
  }
}

/** The longest delay of several limiters; every limiter counts every call. */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string, options?: WhenOptions): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.when(key, options));
    return max;
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  retries(key: string): number {
    let max = 0;
    for (const l of this.limiters) max = Math.max(max, l.retries(key));
    return max;
  }
}

export interface ControllerRateLimiterOptions extends ItemExponentialOptions, TokenBucketOptions {}

/**
 * The default: per-key exponential (5 ms → 5 min, jitter 0.1) under an overall bucket (10 qps,
 * burst 100), as client-go's (whose per-key ceiling is 1000 s, without jitter).
 */
export function defaultControllerRateLimiter(options: ControllerRateLimiterOptions = {}): RateLimiter {
  return new MaxOfRateLimiter(new ItemExponentialRateLimiter(options), new TokenBucketRateLimiter(options));
}
