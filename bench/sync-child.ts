/**
 * Child of the benchmark suite (run with --expose-gc): syncs one cache of the ConfigMaps
 * of a namespace and answers with one JSON line: time to synced, objects, peak and
 * steady RSS, heap per cached object.
 *
 *   node --expose-gc dist/bench/sync-child.js MODE STATE_DIR NAMESPACE
 *
 * Reflex modes set the young generation as `reflex run` does (src/informers/heap.ts).
 * Modes: reflex (SharedInformerFactory, defaults: first LIST from the watch
 * cache in protobuf, managedFields dropped), reflex-json (the same in JSON), reflex-list and reflex-stream (the same with `streamingList`
 * off and on), reflex-stream-latest (a streaming list of the latest state, as a relist after 410
 * does on that path), reflex-keep (the same, keeping managedFields), reflex-storage (every page of 500 read
 * from storage, as a relist after 410 does), client-node (makeInformer, its usual single LIST),
 * floor (raw paginated LIST, 500 a page, bodies streamed to /dev/null), floor-cache (one raw LIST
 * from the watch cache, resourceVersion=0, streamed to /dev/null), floor-cache-proto (the same in
 * protobuf, items counted but not decoded); server-list and server-stream
 * (10 Reflex clients, each with its own informer of the namespace, syncing at once through LIST or
 * streaming lists, while the control plane's resident memory is sampled every 50 ms).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, loadConfig, ProtoListDecoder, ProtoTypes, PROTO_OR_JSON_ACCEPT } from '../src/client/index.js';
import { F_REPEATED } from '../src/client/proto/schema.js';
import { keepYoungGenerationSmall, SharedInformerFactory, type SharedInformerFactoryOptions } from '../src/informers/index.js';
import type { ControlPlaneState } from '../test/support/control-plane.js';
import { loadClientNode } from './support/client-node.js';
import { emit, peakRssMiB, procStatusMiB, rssMiB } from './support/proc.js';

export interface SyncSample {
  mode: string;
  ms: number;
  /** client-go only: when HasSynced first held (polled every ms); `ms` is when WaitForCacheSync, which polls every 100 ms, returned. */
  syncedMs?: number;
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

async function reflex(options: SharedInformerFactoryOptions, protobuf = true): Promise<void> {
  keepYoungGenerationSmall(); // as `reflex run` does
  const client = await createClient({ config: loadConfig({ kubeconfig: state.adminKubeconfig }), qps: 0, protobuf });
  await measure(async () => {
    // Discovery, which typed clients do without, is part of Reflex's sync: a new client's first list of a
    // built-in kind goes out while discovery loads, and its answer is used once discovery confirms the path.
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

/** What the server-* modes answer: the control plane's memory before and during 10 informers' initial sync. */
export interface ServerSample {
  mode: string;
  /** Time until all 10 informers had synced, ms. */
  ms: number;
  /** Objects in each informer. */
  objects: number;
  /** The control-plane process's RSS before the informers started, MiB. */
  baseRssMiB: number;
  /** Its highest RSS sampled during the sync (every 50 ms), MiB. */
  peakRssMiB: number;
}

/** 10 clients, 10 informers of the namespace, synced at once; the server's RSS sampled meanwhile. */
async function serverMemory(streamingList: boolean, informers = 10): Promise<void> {
  const serverRss = () => procStatusMiB('VmRSS', state.pid);
  const clients = await Promise.all(Array.from({ length: informers }, () => createClient({ config: loadConfig({ kubeconfig: state.adminKubeconfig }), qps: 0 })));
  await Promise.all(clients.map((c) => c.resolve('v1', 'ConfigMap')));
  const baseRssMiB = serverRss();
  let peak = baseRssMiB;
  const sampler = setInterval(() => (peak = Math.max(peak, serverRss())), 50);
  const started = performance.now();
  const factories = clients.map((c) => new SharedInformerFactory(c, { streamingList }));
  const all = factories.map((f) => f.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace }));
  for (const f of factories) f.start();
  await Promise.all(factories.map((f) => f.waitForSync()));
  const ms = performance.now() - started;
  peak = Math.max(peak, serverRss());
  clearInterval(sampler);
  const sample: ServerSample = { mode, ms, objects: Math.min(...all.map((i) => i.store.size)), baseRssMiB, peakRssMiB: peak };
  emit(sample);
  await Promise.all(factories.map((f) => f.shutdown()));
  await Promise.all(clients.map((c) => c.close()));
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

/** One protobuf LIST from the watch cache: items are found (to count them) but not decoded. */
async function floorProto(): Promise<void> {
  // undici's package entry, loaded only by the floor modes: the Reflex modes load only the client's parts of it (src/client/undici.ts).
  const { Agent, request } = await import('undici');
  const agent = new Agent({ connect: { ca: readFileSync(join(dir, 'ca.crt'), 'utf8') } });
  // A table in which a ConfigMap has no fields: the scanner skips each item's bytes.
  const types = new ProtoTypes({
    version: 'floor',
    kinds: { 'v1/ConfigMapList': 'List' },
    messages: { List: { fields: [[2, 'items', 'm', F_REPEATED, 'Item']] }, Item: { fields: [] } },
  });
  await measure(async () => {
    let objects = 0;
    const decoder = new ProtoListDecoder(types, undefined, (item) => {
      objects++;
      return item;
    });
    const res = await request(`${state.server}/api/v1/namespaces/${namespace}/configmaps?resourceVersion=0`, {
      dispatcher: agent,
      headers: { authorization: `Bearer ${state.adminToken}`, accept: PROTO_OR_JSON_ACCEPT },
    });
    if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('application/vnd.kubernetes.protobuf')) throw new Error(`LIST in protobuf: HTTP ${res.statusCode} ${String(res.headers['content-type'])}`);
    for await (const chunk of res.body) decoder.write(chunk as Buffer);
    decoder.end();
    return { objects, stop: () => agent.close() };
  }, false);
}

async function floor(fromCache: boolean): Promise<void> {
  const { Agent, request } = await import('undici');
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
else if (mode === 'reflex-json') await reflex({}, false);
else if (mode === 'floor-cache-proto') await floorProto();
else if (mode === 'reflex-list') await reflex({ streamingList: false });
else if (mode === 'reflex-stream') await reflex({ streamingList: true });
else if (mode === 'reflex-stream-latest') await reflex({ streamingList: true, initialListFromCache: false });
else if (mode === 'server-list') await serverMemory(false);
else if (mode === 'server-stream') await serverMemory(true);
else if (mode === 'reflex-keep') await reflex({ transform: (o) => o });
else if (mode === 'reflex-storage') await reflex({ initialListFromCache: false, streamingList: false });
else if (mode === 'client-node') await clientNode();
else if (mode === 'floor') await floor(false);
else if (mode === 'floor-cache') await floor(true);
else throw new Error(`unknown mode ${mode}`);
