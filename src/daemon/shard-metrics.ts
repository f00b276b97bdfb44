/**
 * shard-metrics: what sharding reports on the daemon's registry: buckets held, handovers
 * (graceful: released or new; expired: taken after the holder stopped renewing), how long
 * taken buckets had no owner, and keys processed by this replica.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ShardMetrics } from './shard-coordinator.js';

export class ShardMetricsSet implements ShardMetrics {
  private readonly held: Gauge;
  private readonly handovers: Counter;
  private readonly ownerless: Histogram;
  private readonly processed: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.held = new Gauge({ name: 'reflex_shard_buckets_held', help: 'Buckets whose keys this replica takes now.', registers });
    this.handovers = new Counter({
      name: 'reflex_shard_handovers_total', help: 'Buckets this replica took, by kind (graceful: released or new; expired: its holder stopped renewing).',
      labelNames: ['kind'], registers,
    });
    this.ownerless = new Histogram({
      name: 'reflex_shard_bucket_ownerless_seconds', help: 'How long a bucket this replica took had no owner (since its Lease last changed).',
      buckets: [0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120], registers,
    });
    this.processed = new Counter({ name: 'reflex_shard_keys_processed_total', help: 'Keys of held buckets this replica processed.', registers });
  }

  bucketsHeld(n: number): void {
    this.held.set(n);
  }

  handover(kind: 'graceful' | 'expired', ownerlessMs: number): void {
    this.handovers.inc({ kind });
    this.ownerless.observe(ownerlessMs / 1000);
  }

  keyProcessed(): void {
    this.processed.inc();
  }
}
