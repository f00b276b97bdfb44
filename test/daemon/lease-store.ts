/**
 * An in-memory holder of Lease objects with the API server's optimistic concurrency (a stale
 * resourceVersion is a Conflict), enough of KubeClient for the leader elector's timing logic.
 * The real API server is exercised by leader-election.int.test.ts.
 */
import type { KubeClient, ObjectTarget } from '../../src/client/index.js';
import { KubeApiError } from '../../src/client/index.js';
import type { KubeObject } from '../../src/core/index.js';

function apiError(status: number, reason: string): KubeApiError {
  return KubeApiError.fromStatus({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code: status, message: reason } as never, {
    verb: 'update',
    resource: 'leases',
    server: 'memory',
  });
}

export class MemoryLeases {
  private readonly objects = new Map<string, KubeObject>();
  private rv = 0;
  /** Makes every call fail (a partitioned replica). */
  unreachable = false;
  calls = 0;

  lease(namespace: string, name: string): (KubeObject & { spec?: Record<string, unknown> }) | undefined {
    return this.objects.get(`${namespace}/${name}`) as never;
  }

  client(): KubeClient {
    const check = () => {
      this.calls++;
      if (this.unreachable) throw new Error('connect ECONNREFUSED');
    };
    const key = (t: { namespace?: string; name?: string }) => `${t.namespace}/${t.name}`;
    const impl = {
      server: 'memory',
      namespace: 'default',
      get: async (target: ObjectTarget) => {
        check();
        const o = this.objects.get(key(target));
        if (!o) throw apiError(404, 'NotFound');
        return structuredClone(o);
      },
      create: async (obj: KubeObject) => {
        check();
        const k = key(obj.metadata ?? {});
        if (this.objects.has(k)) throw apiError(409, 'AlreadyExists');
        const stored = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
        this.objects.set(k, stored);
        return structuredClone(stored);
      },
      update: async (obj: KubeObject) => {
        check();
        const k = key(obj.metadata ?? {});
        const current = this.objects.get(k);
        if (!current) throw apiError(404, 'NotFound');
        if (current.metadata?.resourceVersion !== obj.metadata?.resourceVersion) throw apiError(409, 'Conflict');
        const stored = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
        this.objects.set(k, stored);
        return structuredClone(stored);
      },
    };
    return impl as unknown as KubeClient;
  }
}
