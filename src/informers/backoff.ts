/** withBackoff: pauses a watcher after each Error event, so a failing server is never flooded. */
import { ExponentialBackoff, realClock, sleep, type Backoff, type Clock, type KubeObject } from '../core/index.js';
import { WatchdogTimeoutError } from './errors.js';
import type { WatcherEvent } from './watcher.js';

/**
 * The informers' default backoff, client-go's reflector's: 800 ms (long enough for a
 * restarting API server to come up) doubling to 30 s, each delay plus up to 100 % jitter,
 * also at the ceiling: after an outage the informers of every replica come back spread
 * over 30–60 s instead of relisting together at exactly 30 s.
 */
export function reflectorBackoff(random: () => number = Math.random): Backoff {
  return new ExponentialBackoff({ initial: 800, max: 30_000, factor: 2, jitter: 1, random });
}

export interface WatcherBackoffOptions {
  /** Delays between retries. Default `reflectorBackoff()`: 800 ms → 30 s, ×2, up to 100 % jitter (client-go's reflector). */
  backoff?: Backoff;
  /** The backoff starts over after this long without an error, ms. Default 120 000 (client-go: 2 min healthy). */
  resetAfterMs?: number;
  /** Time source. Default `realClock`. */
  clock?: Clock;
  /** Called with each delay before it is waited (for logs and tests). */
  onDelay?: (ms: number, error: Error) => void;
}

/**
 * Passes every batch of events (one watcher step each) through; after a batch with an
 * `Error` event it waits the next backoff delay before pulling the next batch (the
 * watcher does no work meanwhile). A watchdog timeout is retried at once: the watchdog
 * interval already spaced it. Ends when `signal` aborts during a wait or when the source ends.
 */
export async function* withBackoff<T extends KubeObject>(
  batches: AsyncIterable<WatcherEvent<T>[]>,
  options: WatcherBackoffOptions,
  signal: AbortSignal,
): AsyncGenerator<WatcherEvent<T>[]> {
  const backoff = options.backoff ?? reflectorBackoff();
  const clock = options.clock ?? realClock;
  const resetAfter = options.resetAfterMs ?? 120_000;
  let lastError: number | undefined;
  for await (const batch of batches) {
    yield batch;
    const ev = batch.findLast((e) => e.type === 'Error');
    if (ev?.type !== 'Error') continue;
    const now = clock.now();
    if (ev.error instanceof WatchdogTimeoutError) {
      lastError = now;
      continue;
    }
    if (lastError !== undefined && now - lastError >= resetAfter) backoff.reset();
    const delay = backoff.next();
    options.onDelay?.(delay, ev.error);
    try {
      await sleep(clock, delay, signal);
    } catch {
      return; // aborted
    }
    lastError = clock.now();
  }
}
