/**
 * Child of the benchmark suite (run with --expose-gc): syncs one cache of the ConfigMaps
 * of a namespace and answers with one JSON line: time to synced, objects, peak and
 * steady RSS, heap per cached object.
 *
 *   node --expose-gc dist/bench/sync-child.js MODE STATE_DIR NAMESPACE
 *
 * Modes: reflex (SharedInformerFactory, defaults: first list from the watch cache, managedFields
 * dropped), reflex-keep (the same, keeping managedFields), reflex-storage (every page of 500 read
 * from storage, as a relist after 410 does), client-node (makeInformer, its usual single LIST),
 * floor (raw paginated LIST, 500 a page, bodies streamed to /dev/null), floor-cache (one raw LIST
 * from the watch cache, resourceVersion=0, streamed to /dev/null).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createClient, loadConfig } from '../src/client/index.js';
import { SharedInformerFactory, type SharedInformerFactoryOptions } from '../src/informers/index.js';
import type { ControlPlaneState } from '../test/support/control-plane.js';
import { loadClientNode } from './support/client-node.js';
import { emit, peakRssMiB, rssMiB } from './support/proc.js';

export interface SyncSample {
  mode: string;
  ms: number;
  objects: number;
  peakRssMiB: number;
  steadyRssMiB: number;
  /** Retained heap per cached object after a full GC, bytes (not for floor). */
  heapPerObject?: number;
}

const [mode, dir, namespace] = process.argv.slice(2);
const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ControlPlaneState;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const settle = () => new Promise((r) => setTimeout(r, 1500));

/** Runs `sync` (which returns the object count and a stop function); measures around it. */
async function measure(syncFn: () => Promise<{ objects: number; stop(): Promise<void> }>, heap = true): Promise<void> {
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const { objects, stop } = await syncFn();
  const ms = performance.now() - started;
  const peak = peakRssMiB();
  await settle();
  gc();
  const sample: SyncSample = { mode, ms, objects, peakRssMiB: Math.max(peak, peakRssMiB()), steadyRssMiB: rssMiB() };
  if (heap) sample.heapPerObject = (process.memoryUsage().heapUsed - heapBefore) / Math.max(1, objects);
  emit(sample);
  await stop();
}

async function reflex(options: SharedInformerFactoryOptions): Promise<void> {
  const client = await createClient({ config: loadConfig({ kubeconfig: state.adminKubeconfig }), qps: 0 });
  await measure(async () => {
    await client.resolve('v1', 'ConfigMap'); // discovery, which typed clients do without, is part of Reflex's sync
    const factory = new SharedInformerFactory(client, options);
    const informer = factory.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace });
    let adds = 0;
    informer.addHandler({ add: () => void adds++ });
    factory.start();
    await factory.waitForSync();
    return {
      objects: informer.store.size,
      stop: async () => {
        await factory.shutdown();
        await client.close();
      },
    };
  });
}

async function clientNode(): Promise<void> {
  const k8s = await loadClientNode();
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(state.adminKubeconfig);
  const api = kc.makeApiClient(k8s.CoreV1Api);
  await measure(async () => {
    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${namespace}/configmaps`, () => api.listNamespacedConfigMap({ namespace }));
    let adds = 0;
    informer.on('add', () => void adds++);
    await informer.start();
    return { objects: informer.list().length, stop: () => informer.stop() };
  });
}

async function floor(fromCache: boolean): Promise<void> {
  const agent = new Agent({ connect: { ca: readFileSync(join(dir, 'ca.crt'), 'utf8') } });
  await measure(async () => {
    let cont = '';
    let objects = 0;
    do {
      const q = `limit=500${fromCache ? '&resourceVersion=0' : ''}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`;
      const res = await request(`${state.server}/api/v1/namespaces/${namespace}/configmaps?${q}`, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${state.adminToken}`, accept: 'application/json' },
      });
      // The list's metadata (with `continue`) comes first; the rest is only counted, never kept.
      let head = '';
      let tail = '';
      for await (const chunk of res.body) {
        const text = tail + (chunk as Buffer).toString('latin1');
        if (head.length < 4096) head += text;
        objects += text.split('{"metadata":{"name":').length - 1;
        tail = text.slice(-24);
        if (tail.includes('{"metadata":{"name":')) tail = tail.slice(tail.lastIndexOf('{"metadata":{"name":') + 1);
      }
      if (res.statusCode !== 200) throw new Error(`LIST: HTTP ${res.statusCode}: ${head.slice(0, 200)}`);
      cont = /"continue":"([^"]+)"/.exec(head.slice(0, head.indexOf('"items"')))?.[1] ?? '';
    } while (cont);
    return { objects, stop: () => agent.close() };
  }, false);
}

if (mode === 'reflex') await reflex({});
else if (mode === 'reflex-keep') await reflex({ transform: (o) => o });
else if (mode === 'reflex-storage') await reflex({ initialListFromCache: false });
else if (mode === 'client-node') await clientNode();
else if (mode === 'floor') await floor(false);
else if (mode === 'floor-cache') await floor(true);
else throw new Error(`unknown mode ${mode}`);
