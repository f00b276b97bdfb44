/** withBackoff: pauses a watcher after each Error event, so a failing server is never flooded. */
import { ExponentialBackoff, realClock, sleep, type Backoff, type Clock, type KubeObject } from '../core/index.js';
import { WatchdogTimeoutError } from './errors.js';
import type { WatcherEvent } from './watcher.js';

export interface WatcherBackoffOptions {
  /** Delays between retries. Default ExponentialBackoff: 800 ms → 30 s, ×2, 10 % jitter (client-go's reflector). */
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
  const backoff = options.backoff ?? new ExponentialBackoff();
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
