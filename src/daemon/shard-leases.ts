/**
 * shard-leases: the coordination.k8s.io/v1 Leases a shard ring is made of. Each replica holds a
 * member Lease (`reflex-member-<identity>`); each bucket has a Lease (`<ring>-bucket-<n>`) whose
 * holder owns its keys. Both carry the label `reflex.dev/shard-ring=<ring>`, so one LIST reads
 * the whole ring. LeaseStore is the little the coordinator needs; KubeLeaseStore is it over the
 * API server, with the server's optimistic concurrency (an update carries the resourceVersion read).
 */
import { createHash } from 'node:crypto';
import type { KubeObject } from '../core/index.js';
import type { KubeClient } from '../client/index.js';
import type { LeaseSpec } from './leader-election.js';

export type Lease = KubeObject & { spec?: LeaseSpec };

export const RING_LABEL = 'reflex.dev/shard-ring';
export const ROLE_LABEL = 'reflex.dev/shard-role';
/** On a released bucket Lease: what its last holder wrote (per cache, the resourceVersion the next holder's caches must reach). */
export const HANDOVER_ANNOTATION = 'reflex.dev/shard-written';

/** What the coordinator reads and writes; errors are the client's (Conflict, AlreadyExists, NotFound). */
export interface LeaseStore {
  /** Every Lease of the ring. */
  list(signal?: AbortSignal): Promise<Lease[]>;
  create(lease: Lease, signal?: AbortSignal): Promise<Lease>;
  /** Replaces a Lease; a stale resourceVersion is a Conflict. */
  update(lease: Lease, signal?: AbortSignal): Promise<Lease>;
  /** Deletes a Lease; with `resourceVersion`, only if it is still that version (else a Conflict). */
  delete(name: string, signal?: AbortSignal, resourceVersion?: string): Promise<void>;
}

/** The member Lease name of a replica: `reflex-member-<identity>`, made a valid name (hashed when it is not one). */
export function memberLeaseName(identity: string): string {
  const plain = `reflex-member-${identity}`;
  if (plain.length <= 63 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(plain)) return plain;
  const cleaned = identity.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 30);
  const digest = createHash('sha256').update(identity).digest('hex').slice(0, 10);
  return `reflex-member-${cleaned ? `${cleaned}-` : ''}${digest}`;
}

/** The Lease name of bucket `n` of `ring`. */
export function bucketLeaseName(ring: string, n: number): string {
  return `${ring}-bucket-${String(n).padStart(2, '0')}`;
}

/** The bucket number of a bucket Lease name of `ring`; -1 when it is not one. */
export function bucketIndex(ring: string, name: string): number {
  const prefix = `${ring}-bucket-`;
  const rest = name.startsWith(prefix) ? name.slice(prefix.length) : '';
  return /^\d+$/.test(rest) ? Number(rest) : -1;
}

/** A Lease of the ring, labelled with its role. */
export function ringLease(ring: string, namespace: string, name: string, role: 'member' | 'bucket', spec: LeaseSpec): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, labels: { [RING_LABEL]: ring, [ROLE_LABEL]: role } },
    spec,
  };
}

/** The ring's Leases in one namespace, through the client. */
export class KubeLeaseStore implements LeaseStore {
  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly ring: string,
  ) {}

  async list(signal?: AbortSignal): Promise<Lease[]> {
    const list = await this.client.list<Lease>(
      { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: this.namespace },
      { labelSelector: `${RING_LABEL}=${this.ring}`, signal },
    );
    return list.items;
  }

  create(lease: Lease, signal?: AbortSignal): Promise<Lease> {
    return this.client.create<Lease>(lease, { signal });
  }

  update(lease: Lease, signal?: AbortSignal): Promise<Lease> {
    return this.client.update<Lease>(lease, { signal });
  }

  async delete(name: string, signal?: AbortSignal, resourceVersion?: string): Promise<void> {
    await this.client.delete({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: this.namespace, name }, { signal, ...(resourceVersion ? { preconditions: { resourceVersion } } : {}) });
  }
}
