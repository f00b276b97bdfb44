/**
 * Decoding cost of one list of 20,000 ConfigMaps of ~1 KB: Reflex's protobuf decoder against
 * JSON.parse through Reflex's JSON list decoder, on the same objects taken from a control
 * plane once (answers saved as bytes, then decoded in-process in interleaved rounds). Reports
 * time per list and retained heap per object.
 *
 *   node --expose-gc dist/bench/proto-decode.js [OBJECTS] [ROUNDS] [--informer]
 *
 * With --informer, also a whole informer sync of the same ConfigMaps in this process, by each encoding.
 */
import { ControlPlane } from '../test/support/control-plane.js';
import { Loader } from './support/load.js';
import { ListDecoder } from '../src/client/list-decoder.js';
import { createClient, loadConfig, loadProtoTypes, PROTO_OR_JSON_ACCEPT, ProtoListDecoder } from '../src/client/index.js';
import { keepYoungGenerationSmall, SharedInformerFactory } from '../src/informers/index.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { execFileSync } from 'node:child_process';

const objects = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 5);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

async function fetchBytes(cp: ControlPlane, path: string, accept: string): Promise<Buffer[]> {
  const agent = new Agent({ connect: { ca: readFileSync(join(cp.dir, 'ca.crt'), 'utf8') } });
  const res = await request(`${cp.state.server}${path}`, { dispatcher: agent, headers: { authorization: `Bearer ${cp.state.adminToken}`, accept } });
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(Buffer.from(c as Buffer));
  await agent.close();
  return chunks;
}

const cp = await ControlPlane.start();
try {
  const loader = new Loader(cp);
  await loader.namespace('bench-decode');
  await loader.seed('bench-decode', 0, objects);
  const path = '/api/v1/namespaces/bench-decode/configmaps?resourceVersion=0';
  const json = await fetchBytes(cp, path, 'application/json');
  const proto = await fetchBytes(cp, path, PROTO_OR_JSON_ACCEPT);
  const size = (cs: Buffer[]) => cs.reduce((n, c) => n + c.length, 0);
  process.stdout.write(`${objects} ConfigMaps: JSON ${(size(json) / 1e6).toFixed(1)} MB in ${json.length} chunks, protobuf ${(size(proto) / 1e6).toFixed(1)} MB in ${proto.length} chunks\n`);
  const types = await loadProtoTypes();
  const decode = {
    json: (chunks: Buffer[]) => {
      const d = new ListDecoder(undefined, undefined, { dropManagedFields: true });
      for (const c of chunks) d.write(c);
      return d.end().items;
    },
    protobuf: (chunks: Buffer[]) => {
      const d = new ProtoListDecoder(types, undefined, undefined, { dropManagedFields: true });
      for (const c of chunks) d.write(c);
      return d.end().items;
    },
  };
  const times: Record<string, number[]> = { json: [], protobuf: [] };
  const heaps: Record<string, number[]> = { json: [], protobuf: [] };
  let keep: unknown[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const name of ['json', 'protobuf'] as const) {
      keep = [];
      // The JSON decoder cuts managedFields out of its chunks in place: each round gets fresh copies.
      const chunks = (name === 'json' ? json : proto).map((c) => Buffer.from(c));
      gc();
      const before = process.memoryUsage().heapUsed;
      const t = performance.now();
      keep = decode[name](chunks);
      times[name].push(performance.now() - t);
      gc();
      heaps[name].push((process.memoryUsage().heapUsed - before) / keep.length);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const name of ['json', 'protobuf']) {
    process.stdout.write(`${name}: ${median(times[name]).toFixed(0)} ms per list (${times[name].map((t) => t.toFixed(0)).join(', ')}), heap ${median(heaps[name]).toFixed(0)} B/object\n`);
  }
  if (keep.length !== objects) throw new Error(`decoded ${keep.length} objects, expected ${objects}`);
  keep = [];
  const childFlags = process.argv.find((a) => a.startsWith('--children'));
  if (childFlags) {
    // The bench suite's sync child in fresh processes (extra node flags after `--children=`).
    const extra = childFlags.slice('--children='.length).split(' ').filter(Boolean);
    for (let r = 0; r < rounds; r++) {
      for (const mode of ['reflex-json', 'reflex']) {
        const out = execFileSync(process.execPath, ['--expose-gc', ...extra, 'dist/bench/sync-child.js', mode, cp.dir, 'bench-decode'], { encoding: 'utf8' });
        process.stdout.write(`child ${out.trim()}\n`);
      }
    }
  }
  if (process.argv.includes('--informer')) {
    // The whole informer sync in this process, each encoding in turn.
    keepYoungGenerationSmall();
    const sync: Record<string, number[]> = { json: [], protobuf: [] };
    const syncHeap: Record<string, number[]> = { json: [], protobuf: [] };
    for (let r = 0; r < rounds; r++) {
      for (const name of ['json', 'protobuf'] as const) {
        const client = await createClient({ config: loadConfig({ kubeconfig: cp.kubeconfig }), qps: 0, protobuf: name === 'protobuf' });
        await client.resolve('v1', 'ConfigMap');
        gc();
        const before = process.memoryUsage().heapUsed;
        const t = performance.now();
        const factory = new SharedInformerFactory(client);
        const informer = factory.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'bench-decode' });
        factory.start();
        await factory.waitForSync();
        sync[name].push(performance.now() - t);
        gc();
        syncHeap[name].push((process.memoryUsage().heapUsed - before) / informer.store.size);
        await factory.shutdown();
        await client.close();
      }
    }
    for (const name of ['json', 'protobuf']) {
      process.stdout.write(`informer sync, ${name}: ${median(sync[name]).toFixed(0)} ms (${sync[name].map((t) => t.toFixed(0)).join(', ')}), heap ${median(syncHeap[name]).toFixed(0)} B/object\n`);
    }
  }
} finally {
  await cp.stop();
}
