/**
 * CacheLister: the engine's read-only view of the cluster (`$get`, `$list`,
 * namespaceSelector), served from shared informers started on first use. Never
 * calls the API server for an object.
 */
import { ReflexError, type KubeObject } from '../core/index.js';
import type { SharedInformerFactory } from '../informers/index.js';
import type { ObjectLister } from '../engine/index.js';

/** A cache a lookup needs has not synced yet: transient, so the evaluation is retried with backoff. */
export class CacheNotSyncedError extends ReflexError {
  constructor(message: string) {
    super(message, { code: 'ERR_CACHE_NOT_SYNCED' });
  }
}

/** Whether `err`, or an error it wraps, is a CacheNotSyncedError. */
export function isCacheNotSynced(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof CacheNotSyncedError) return true;
  }
  return false;
}

export interface CacheListerOptions {
  /** How long a lookup waits for a cache started on first use, ms. Default 10 000. */
  syncTimeoutMs?: number;
}

export class CacheLister implements ObjectLister {
  private readonly syncTimeoutMs: number;

  constructor(
    private readonly factory: SharedInformerFactory,
    options: CacheListerOptions = {},
  ) {
    this.syncTimeoutMs = options.syncTimeoutMs ?? 10_000;
  }

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
      throw new CacheNotSyncedError(`the cache of ${apiVersion} ${kind} did not sync within ${this.syncTimeoutMs / 1000} s${last ? `: ${last.message}` : ''}`);
    }
    return informer;
  }
}
