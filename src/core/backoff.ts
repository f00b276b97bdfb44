/** Backoff: how long to wait before the next attempt after consecutive failures. */
export interface Backoff {
  /** The delay before the next attempt; each call counts one more failure. */
  next(): number;
  /** Forgets the failures (after a healthy period). */
  reset(): void;
}

export interface ExponentialBackoffOptions {
  /** First delay in ms, before jitter. Default 800 (client-go's reflector: long enough to let a restarting apiserver come up). */
  initial?: number;
  /** Ceiling of the delay before jitter, ms. Default 30 000. */
  max?: number;
  /** Growth per failure. Default 2. */
  factor?: number;
  /**
   * Jitter as a fraction of the delay, added at random, also at the ceiling: a delay is
   * in [base, base × (1 + jitter)). Default 0.1. Without jitter at the ceiling, every
   * client that failed together would retry together, forever.
   */
  jitter?: number;
  /** Source of randomness in [0, 1). Default Math.random. */
  random?: () => number;
}

/**
 * Exponential backoff with jitter: base = min(max, initial × factor^n), then up to
 * `jitter` × base added at random (as client-go's `wait.Backoff` with a cap: the jitter
 * is applied after the cap, so delays at the cap spread over [max, max × (1 + jitter))).
 */
export class ExponentialBackoff implements Backoff {
  private failures = 0;
  private readonly o: Required<ExponentialBackoffOptions>;

  constructor(options: ExponentialBackoffOptions = {}) {
    this.o = { initial: 800, max: 30_000, factor: 2, jitter: 0.1, random: Math.random, ...options };
  }

  next(): number {
    const base = Math.min(this.o.max, this.o.initial * this.o.factor ** this.failures);
    this.failures++;
    return base + base * this.o.jitter * this.o.random();
  }

  reset(): void {
    this.failures = 0;
  }

  /** Consecutive failures counted since the last reset. */
  get attempts(): number {
    return this.failures;
  }
}
