/**
 * CacheLister: the engine's read-only view of the cluster (`$get`, `$list`,
 * namespaceSelector), served from shared informers started on first use. Never
 * calls the API server for an object.
 */
import type { KubeObject } from '../core/index.js';
import type { SharedInformerFactory } from '../informers/index.js';
import type { ObjectLister } from '../engine/index.js';

export class CacheLister implements ObjectLister {
  constructor(
    private readonly factory: SharedInformerFactory,
    /** How long a lookup waits for a cache started on first use, ms. Default 10 000. */
    private readonly syncTimeoutMs = 10_000,
  ) {}

  async get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const informer = await this.synced(apiVersion, kind);
    return informer.lister.get(namespace ?? '', name) as KubeObject | undefined;
  }

  async list(apiVersion: string, kind: string, namespace: string | undefined): Promise<KubeObject[]> {
    const informer = await this.synced(apiVersion, kind);
    return informer.lister.list(namespace ?? '') as KubeObject[];
  }

  private async synced(apiVersion: string, kind: string) {
    const informer = this.factory.informerFor({ apiVersion, kind });
    if (informer.hasSynced()) return informer;
    const ok = await informer.waitForSync(AbortSignal.timeout(this.syncTimeoutMs));
    if (!ok) {
      const last = informer.stats().lastError;
      throw new Error(`the cache of ${apiVersion} ${kind} did not sync within ${this.syncTimeoutMs / 1000} s${last ? `: ${last.message}` : ''}`);
    }
    return informer;
  }
}
