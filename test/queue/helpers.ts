/** Test helpers for the queue: observe a promise without sleeping, and record metrics. */
import type { Lane, QueueMetrics } from '../../src/queue/index.js';

/** Lets every pending microtask and I/O callback run once. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Resolves to the promise's value if it has settled, or to the string 'pending'. */
export async function peek<T>(p: Promise<T>): Promise<T | 'pending'> {
  let out: T | 'pending' = 'pending';
  void p.then((v) => (out = v));
  await flush();
  return out;
}

/** QueueMetrics that remember every observation. */
export class RecordingMetrics implements QueueMetrics {
  depths: Array<[Lane, number]> = [];
  adds: Lane[] = [];
  latencies: Array<[Lane, number]> = [];
  durations: Array<[Lane, number]> = [];
  retries = 0;
  depth(lane: Lane, depth: number): void {
    this.depths.push([lane, depth]);
  }
  add(lane: Lane): void {
    this.adds.push(lane);
  }
  queueLatency(lane: Lane, seconds: number): void {
    this.latencies.push([lane, seconds]);
  }
  workDuration(lane: Lane, seconds: number): void {
    this.durations.push([lane, seconds]);
  }
  retry(): void {
    this.retries++;
  }
}
