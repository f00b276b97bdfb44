/**
 * shard-metrics: what sharding reports on the daemon's registry: buckets held, handovers
 * (graceful: released or new; expired: taken after the holder stopped renewing), how long
 * taken buckets had no owner, and keys processed by this replica.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BarrierOutcome } from './shard-barrier.js';
import type { ShardMetrics } from './shard-coordinator.js';

export class ShardMetricsSet implements ShardMetrics {
  private readonly held: Gauge;
  private readonly waiting: Gauge;
  private readonly handovers: Counter;
  private readonly ownerless: Histogram;
  private readonly processed: Counter;
  private readonly barrierWait: Histogram;
  private readonly collectedLeases: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.held = new Gauge({ name: 'reflex_shard_buckets_held', help: 'Buckets whose Lease this replica holds (taken, not being handed over).', registers });
    this.waiting = new Gauge({ name: 'reflex_shard_buckets_waiting', help: 'Held buckets whose keys wait for this replica’s caches to hold what their previous holder wrote.', registers });
    this.handovers = new Counter({
      name: 'reflex_shard_handovers_total', help: 'Buckets this replica took, by kind (graceful: released or new; expired: its holder stopped renewing).',
      labelNames: ['kind'], registers,
    });
    this.ownerless = new Histogram({
      name: 'reflex_shard_bucket_ownerless_seconds', help: 'How long a bucket this replica took had no owner (since its Lease last changed).',
      buckets: [0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120], registers,
    });
    this.barrierWait = new Histogram({
      name: 'reflex_shard_cache_barrier_seconds',
      help: 'How long taken buckets waited for this replica’s caches to hold what their previous holder wrote, by outcome (caught-up, timed-out, settled: resourceVersions not comparable).',
      labelNames: ['outcome'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30], registers,
    });
    this.collectedLeases = new Counter({ name: 'reflex_shard_stale_leases_deleted_total', help: 'Leases of members gone for several lease durations (or of buckets past the count) this replica deleted.', registers });
    this.processed = new Counter({ name: 'reflex_shard_keys_processed_total', help: 'Keys of held buckets this replica processed.', registers });
  }

  bucketsHeld(n: number, waiting: number): void {
    this.held.set(n);
    this.waiting.set(waiting);
  }

  handover(kind: 'graceful' | 'expired', ownerlessMs: number): void {
    this.handovers.inc({ kind });
    this.ownerless.observe(ownerlessMs / 1000);
  }

  barrier(outcome: BarrierOutcome, waitedMs: number): void {
    this.barrierWait.observe({ outcome }, waitedMs / 1000);
  }

  collected(): void {
    this.collectedLeases.inc();
  }

  keyProcessed(): void {
    this.processed.inc();
  }
}
