/**
 * Watchdog: the one guard against a watch stream that went silent (a dead connection the
 * kernel has not noticed). The client's watch has no idle limit of its own: this is it.
 */
import type { Clock, TimerHandle } from '../core/index.js';

/**
 * Watchdog of one watch: `wait` answers 'stalled' once the stream has been silent for `ms`. One
 * timer per watch, not per event: when it fires early (events came meanwhile), it is armed
 * again for the rest of the interval after the last event. Stops when `signal` aborts.
 * (No promise outlives its read, so a long watch accumulates nothing.)
 */
export class Watchdog {
  private lastAt: number;
  private timer: TimerHandle | undefined;
  private expired = false;
  /** Ends the read in progress as stalled. */
  private stall: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    signal: AbortSignal,
  ) {
    this.lastAt = clock.now();
    this.arm(ms);
    signal.addEventListener('abort', () => this.timer !== undefined && clock.clearTimer(this.timer), { once: true });
  }

  /** Waits for `read`, or until the stream has been silent for the interval: then 'stalled'. */
  wait<R>(read: Promise<R>): Promise<R | 'stalled'> {
    if (this.expired) return Promise.resolve('stalled');
    return new Promise<R | 'stalled'>((resolve, reject) => {
      this.stall = () => resolve('stalled');
      read.then(
        (r) => {
          this.lastAt = this.clock.now();
          this.stall = undefined;
          resolve(r);
        },
        reject,
      );
    });
  }

  private arm(delay: number): void {
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      const silent = this.clock.now() - this.lastAt;
      if (silent < this.ms) return this.arm(this.ms - silent);
      this.expired = true;
      this.stall?.();
    }, delay);
  }
}

/** The next stream result, or 'stalled' when the watchdog finds the stream silent. */
export function nextWithin<E>(stream: AsyncIterator<E>, watchdog: Watchdog): Promise<IteratorResult<E> | 'stalled'> {
  const pending = stream.next();
  pending.catch(() => undefined); // a stalled read may reject after we gave up on it
  return watchdog.wait(pending);
}
