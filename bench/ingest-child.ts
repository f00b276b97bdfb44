/**
 * Child of the benchmark suite: a cache of the ConfigMaps of a namespace with no rules,
 * counting the events it receives while a loader writes. Answers `{ready}` once synced;
 * after the parent sends `expect N`, answers with the events counted, their rate and the
 * CPU time spent per 1,000 events.
 *
 *   node dist/bench/ingest-child.js MODE STATE_DIR NAMESPACE      (MODE: reflex | client-node)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, loadConfig } from '../src/client/index.js';
import { keepYoungGenerationSmall, SharedInformerFactory } from '../src/informers/index.js';
import type { ControlPlaneState } from '../test/support/control-plane.js';
import { loadClientNode } from './support/client-node.js';
import { emit, peakRssMiB, stdinLines, wallMs } from './support/proc.js';

export interface IngestSample {
  mode: string;
  events: number;
  /** Events per second between the first and the last event. */
  eventsPerSec: number;
  /** CPU (user + system) per 1,000 events, ms, from synced to the last event. */
  cpuMsPer1000: number;
  /** Wall clock of the last event received. */
  lastAt: number;
  peakRssMiB: number;
}

const [mode, dir, namespace] = process.argv.slice(2);
const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ControlPlaneState;

let events = 0;
let firstAt = 0;
let lastAt = 0;
let cpuAtLast: NodeJS.CpuUsage | undefined;
let expected = Infinity;
let cpuStart: NodeJS.CpuUsage = process.cpuUsage();
let onEnough: (() => void) | undefined;

function count(): void {
  const now = wallMs();
  if (events === 0) firstAt = now;
  events++;
  lastAt = now;
  if (events >= expected) {
    cpuAtLast ??= process.cpuUsage(cpuStart);
    onEnough?.();
  }
}

let stop: () => Promise<void>;
if (mode === 'reflex') {
  keepYoungGenerationSmall(); // as `reflex run` does
  const client = await createClient({ config: loadConfig({ kubeconfig: state.adminKubeconfig }), qps: 0 });
  const factory = new SharedInformerFactory(client);
  const informer = factory.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace });
  informer.addHandler({ add: (_o, initial) => void (initial || count()), update: count, delete: count });
  factory.start();
  await factory.waitForSync();
  stop = async () => {
    await factory.shutdown();
    await client.close();
  };
} else if (mode === 'client-node') {
  const k8s = await loadClientNode();
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(state.adminKubeconfig);
  const api = kc.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${namespace}/configmaps`, () => api.listNamespacedConfigMap({ namespace }));
  let synced = false;
  informer.on('add', () => void (synced && count()));
  informer.on('update', count);
  informer.on('delete', count);
  await informer.start();
  synced = true;
  stop = () => informer.stop();
} else {
  throw new Error(`unknown mode ${mode}`);
}

cpuStart = process.cpuUsage();
emit({ ready: true });
stdinLines((line) => {
  const m = /^expect (\d+) (\d+)$/.exec(line);
  if (!m) return;
  expected = Number(m[1]);
  const quietMs = Number(m[2]);
  const finish = async () => {
    const cpu = cpuAtLast ?? process.cpuUsage(cpuStart);
    const seconds = (lastAt - firstAt) / 1000;
    const sample: IngestSample = {
      mode,
      events,
      eventsPerSec: seconds > 0 ? events / seconds : 0,
      cpuMsPer1000: ((cpu.user + cpu.system) / 1000 / Math.max(1, events)) * 1000,
      lastAt,
      peakRssMiB: peakRssMiB(),
    };
    emit(sample);
    await stop();
    process.exit(0);
  };
  if (events >= expected) return void finish();
  // Wait for the rest; give up once no event came for `quietMs`.
  let seen = events;
  const timer = setInterval(() => {
    if (events === seen) {
      clearInterval(timer);
      void finish();
    }
    seen = events;
  }, quietMs);
  onEnough = () => {
    clearInterval(timer);
    onEnough = undefined;
    void finish();
  };
});
