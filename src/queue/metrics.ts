/** QueueMetrics: the hooks a work queue reports through; the daemon implements them with prom-client. */
import type { Lane } from './lane.js';

/**
 * Observations pushed by a queue as they happen. Every method must be cheap and
 * must not throw; the queue calls them synchronously under its own bookkeeping.
 * Durations are in seconds, as Prometheus conventions (and client-go) expect.
 */
export interface QueueMetrics {
  /** The number of keys waiting to be handed out changed (per lane). */
  depth(lane: Lane, depth: number): void;
  /** A key was accepted by `add` (duplicates of a pending key included, as client-go counts them). */
  add(lane: Lane): void;
  /** A key was handed to a worker after waiting this long since it became pending. */
  queueLatency(lane: Lane, seconds: number): void;
  /** A worker called `done` this long after `get` handed it the key. */
  workDuration(lane: Lane, seconds: number): void;
  /** A key was scheduled for a rate-limited retry. */
  retry(): void;
}

/** Gauges a scrape can read at any time (poll them from a prom-client `collect`). */
export interface QueueStats {
  /** Keys waiting, per lane. */
  depth: Record<Lane, number>;
  /** Keys being processed right now. */
  processing: number;
  /** Seconds the longest-running key in process has been running (0 when idle). */
  longestRunningSeconds: number;
  /** Seconds of work in progress summed over all keys in process (client-go's unfinished_work_seconds). */
  unfinishedWorkSeconds: number;
}

/** Metrics that record nothing. */
export const noopQueueMetrics: QueueMetrics = {
  depth() {},
  add() {},
  queueLatency() {},
  workDuration() {},
  retry() {},
};
