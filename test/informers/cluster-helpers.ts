/** Helpers of the informer integration tests: clients, a recording handler model, and the server's own view. */
import { expect } from 'chai';
import { objectKey, type KubeObject } from '../../src/core/index.js';
import { createClient, loadConfig, type KubeClient } from '../../src/client/index.js';
import type { InformerHandler, SharedInformer } from '../../src/informers/index.js';
import type { ClusterFixture } from '../support/cluster.js';

/** A client for the test control plane as admin, optionally through another server URL (a proxy). */
export async function adminClient(fx: ClusterFixture, server?: string): Promise<KubeClient> {
  const config = loadConfig({ kubeconfig: fx.cp.kubeconfig });
  return createClient({ config: server ? { ...config, server } : config, qps: 0 });
}

/**
 * HandlerModel: rebuilds the resource from handler calls alone (key → resourceVersion)
 * and counts what it saw, so a test can prove the handlers saw every change.
 */
export class HandlerModel {
  readonly state = new Map<string, string>();
  readonly adds = new Map<string, number>();
  readonly log: string[] = [];
  readonly handler: InformerHandler = {
    add: (o) => {
      const k = objectKey(o);
      this.adds.set(k, (this.adds.get(k) ?? 0) + 1);
      this.state.set(k, rv(o));
      this.log.push(`add ${k}`);
    },
    update: (old, o) => {
      const k = objectKey(o);
      this.state.set(k, rv(o));
      if (rv(old) !== rv(o)) this.log.push(`update ${k} ${JSON.stringify((o as { data?: unknown }).data ?? {})}`);
    },
    delete: (o) => {
      const k = objectKey(o);
      this.state.delete(k);
      this.log.push(`delete ${k}`);
    },
  };
  /** Log lines since the last call. */
  private seen = 0;
  since(): string[] {
    const out = this.log.slice(this.seen);
    this.seen = this.log.length;
    return out;
  }
}

function rv(o: KubeObject): string {
  return o.metadata?.resourceVersion ?? '';
}

/** The server's current view of a namespace's ConfigMaps: key → resourceVersion, from a fresh LIST. */
export async function freshList(fx: ClusterFixture, ns: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let cont = '';
  do {
    const q = `limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
    const page = await fx.admin.ok<{ items: KubeObject[]; metadata: { continue?: string } }>('GET', `/api/v1/namespaces/${ns}/configmaps?${q}`);
    for (const item of page.items) out.set(`${ns}/${item.metadata?.name}`, rv(item));
    cont = page.metadata.continue ?? '';
  } while (cont);
  return out;
}

function storeView(informer: SharedInformer): Map<string, string> {
  return new Map(informer.store.list().map((o) => [objectKey(o), rv(o)]));
}

const sorted = (m: Map<string, string>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));

/** Waits until the store and the handler model both equal a fresh LIST of the namespace. */
export async function expectConverged(fx: ClusterFixture, informer: SharedInformer, model: HandlerModel, ns: string, timeoutMs = 30_000): Promise<void> {
  let last: unknown;
  await fx.admin.eventually(
    async () => {
      const server = sorted(await freshList(fx, ns));
      const store = sorted(storeView(informer));
      const handlers = sorted(model.state);
      last = { server: server.length, store: store.length, handlers: handlers.length };
      return JSON.stringify(server) === JSON.stringify(store) && JSON.stringify(server) === JSON.stringify(handlers);
    },
    timeoutMs,
    'the store and the handlers to equal a fresh LIST',
  ).catch((err: Error) => {
    throw new Error(`${err.message}: ${JSON.stringify(last)}`);
  });
  expect(sorted(storeView(informer))).to.deep.equal(sorted(await freshList(fx, ns)));
}

/** Compacts etcd at its current revision (physical), so older resourceVersions are gone from storage. */
export async function compactEtcd(fx: ClusterFixture): Promise<number> {
  const base = fx.cp.state.etcdURL;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(base + path, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status}: ${await res.text()}`);
    return (await res.json()) as { header: { revision: string } };
  };
  const range = await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') });
  const revision = Number(range.header.revision);
  await post('/v3/kv/compaction', { revision, physical: true });
  return revision;
}

/** A ConfigMap body. */
export function configMap(name: string, data: Record<string, string> = {}, labels?: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data };
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}
