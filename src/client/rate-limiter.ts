/** TokenBucket: the client-side QPS/burst limiter every request passes through (client-go's flowcontrol). */
import { type Clock, realClock, sleep } from '../core/index.js';

/** RequestLimiter decides when a request may go out. */
export interface RequestLimiter {
  /** Resolves when a request may be sent; rejects with the signal's reason if it aborts first. */
  wait(signal?: AbortSignal): Promise<void>;
}

/** A limiter that never waits (qps 0). */
export const unlimited: RequestLimiter = { wait: async () => undefined };

/**
 * A token bucket: `burst` tokens, refilled at `qps` per second. Waiters are served
 * in arrival order (each reserves a token, possibly in the future, like x/time/rate).
 */
export class TokenBucket implements RequestLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    if (qps <= 0) throw new RangeError('TokenBucket needs qps > 0 (use `unlimited` for no limit)');
    this.burst = Math.max(1, burst);
    this.tokens = this.burst;
    this.last = clock.now();
  }

  /** Reserves one token and returns how long to wait for it, ms. */
  reserve(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  async wait(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const ms = this.reserve();
    if (ms > 0) {
      try {
        await sleep(this.clock, ms, signal);
      } catch (err) {
        this.tokens += 1; // give the reservation back
        throw err;
      }
    }
  }
}

/** The limiter for `qps`/`burst`: `unlimited` when qps is 0. */
export function requestLimiter(qps: number, burst: number, clock: Clock = realClock): RequestLimiter {
  return qps > 0 ? new TokenBucket(qps, burst, clock) : unlimited;
}
