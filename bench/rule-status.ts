/**
 * Benchmark of rule objects' status (not a test): what keeping and writing the status of
 * ClusterRules costs, next to the same rules without status, in one run.
 *
 *   npm run build && node dist/bench/rule-status.js [--rules 100] [--objects 1000] [--seconds 30] [--evaluations 2000000] [--no-cluster]
 *
 * 1. Bookkeeping, in process: the status writer's hooks per evaluation (count, mark, arm one
 *    timer per rule) next to the metric hooks the daemon calls per evaluation anyway, over
 *    `--rules` rules; and the cost of one look at a rule's status (build it, compare it).
 * 2. On a control plane started here: the daemon with `--rules` ClusterRules over `--objects`
 *    ConfigMaps that all keep changing for `--seconds`, next to the daemon with the same rules
 *    from a ConfigMap (no status): status writes per second and per rule, and the daemon's CPU
 *    seconds per 1,000 evaluations in each run.
 */
import { dump } from 'js-yaml';
import { FakeClock, nullLogger, type KubeObject } from '../src/core/index.js';
import type { KubeClient } from '../src/client/index.js';
import { DaemonMetrics } from '../src/daemon/metrics.js';
import { RuleStatusWriter } from '../src/daemon/rule-status.js';
import { ControlPlane } from '../test/support/control-plane.js';
import { DaemonProcess } from '../test/support/daemon-process.js';
import { writeConfig } from '../test/daemon/daemon-support.js';
import { shippedCrds } from '../test/daemon/crd-support.js';
import { Loader, cmName } from './support/load.js';

const argv = process.argv.slice(2);
const num = (name: string, fallback: number) => (argv.includes(`--${name}`) ? Number(argv[argv.indexOf(`--${name}`) + 1]) : fallback);
const cfg = { rules: num('rules', 100), objects: num('objects', 1000), seconds: num('seconds', 30), evaluations: num('evaluations', 2_000_000) };
const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ns per evaluation of the status hooks and of the metric hooks, best of 5 runs each. */
function bookkeeping(): { statusNs: number; metricsNs: number; lookUs: number } {
  const clock = new FakeClock();
  const objects = new Map<string, KubeObject>();
  const ids = Array.from({ length: cfg.rules }, (_, i) => `ClusterRule/r-${i}`);
  for (const [i, id] of ids.entries()) objects.set(id, { apiVersion: 'reflex.dev/v1alpha1', kind: 'ClusterRule', metadata: { name: `r-${i}`, uid: `u${i}`, generation: 1 } });
  const client = { patch: async () => ({}) } as unknown as KubeClient;
  const writer = new RuleStatusWriter({ client, clock, logger: nullLogger, isLeader: () => true, object: (id) => objects.get(id), ruleState: () => ({ state: 'active', synced: true, objects: 10 }) });
  writer.loaded(objects, [], [], new Map(ids.map((id) => [id, { text: '{}', generation: 1 }])));
  const keys = ids.map((id) => `${id}|bench/${cmName(0)}`);
  const done = { kind: 'done' } as const;
  const metrics = new DaemonMetrics({ processMetrics: false });
  const time = (fn: (i: number) => void) => {
    let best = Infinity;
    for (let run = 0; run < 5; run++) {
      const t = performance.now();
      for (let i = 0; i < cfg.evaluations; i++) fn(i);
      best = Math.min(best, ((performance.now() - t) * 1e6) / cfg.evaluations);
    }
    return best;
  };
  const metricsNs = time((i) => {
    const id = ids[i % ids.length];
    metrics.ruleEvaluated(id, 'match');
    metrics.actionExecuted(id, 'log', 'done');
  });
  const statusNs = time((i) => {
    const n = i % ids.length;
    writer.evaluated(ids[n]);
    writer.action(ids[n], 'done');
    writer.settled(keys[n], done);
  });
  const t = performance.now();
  const looks = 200;
  for (let i = 0; i < looks; i++) for (const id of ids) writer.desired(id);
  const lookUs = ((performance.now() - t) * 1000) / (looks * ids.length);
  writer.stop();
  return { statusNs, metricsNs, lookUs };
}

interface Run {
  evaluations: number;
  cpuSeconds: number;
  statusWrites: number;
  seconds: number;
}

const sum = (text: string, name: string) =>
  text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

const ruleDoc = (kind: 'ClusterRule' | 'Rule', i: number, ns: string) => ({
  apiVersion: 'reflex.dev/v1alpha1',
  kind,
  metadata: { name: `r-${i}` },
  spec: { watch: { apiVersion: 'v1', kind: 'ConfigMap', namespaces: [ns], labelSelector: `rule=${i}` }, when: 'true', actions: [{ log: { level: 'debug', message: '{{ metadata.name }} at {{ data.gen }}' } }] },
});

/** One daemon over the churn: rules from ClusterRules (`objects`) or from one ConfigMap. */
async function churnRun(cp: ControlPlane, loader: Loader, ns: string, source: 'objects' | 'configmap'): Promise<Run> {
  const config = writeConfig(`namespace: ${ns}\nrules: { configMaps: { namespaces: [${ns}] } }\nleaderElection: { enabled: false }\n`);
  if (source === 'configmap') {
    const text = Array.from({ length: cfg.rules }, (_, i) => dump(ruleDoc('Rule', i, ns))).join('---\n');
    await loader.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench-rules', labels: { 'reflex.dev/rules': 'true' } }, data: { 'rules.yaml': text } });
  } else {
    for (let i = 0; i < cfg.rules; i++) await loader.ok('POST', '/apis/reflex.dev/v1alpha1/clusterrules', ruleDoc('ClusterRule', i, ns));
  }
  const d = await DaemonProcess.start({ kubeconfig: cp.kubeconfig, args: ['--config', config], readyTimeoutMs: 120_000 });
  try {
    const scrape = async () => (await d.get('/metrics', 'metrics')).text;
    // Settled: every rule active and its first sync evaluated.
    for (let before = -1; ; ) {
      await sleep(3000);
      const now = sum(await scrape(), 'reflex_rule_evaluations_total');
      if (now === before && now >= cfg.objects) break;
      before = now;
    }
    const m0 = await scrape();
    const t0 = performance.now();
    let gen = 0;
    while (performance.now() - t0 < cfg.seconds * 1000) {
      gen++;
      let next = 0;
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < cfg.objects) await loader.bump(ns, next++, gen);
      }));
    }
    await sleep(6000); // the last counters get written
    const m1 = await scrape();
    const seconds = (performance.now() - t0) / 1000;
    const delta = (name: string) => sum(m1, name) - sum(m0, name);
    return { evaluations: delta('reflex_rule_evaluations_total'), cpuSeconds: delta('process_cpu_seconds_total'), statusWrites: delta('reflex_rule_status_writes_total'), seconds };
  } finally {
    await d.stop();
    if (source === 'configmap') await loader.call('DELETE', `/api/v1/namespaces/${ns}/configmaps/bench-rules`);
    else for (let i = 0; i < cfg.rules; i++) await loader.call('DELETE', `/apis/reflex.dev/v1alpha1/clusterrules/r-${i}`);
  }
}

async function main(): Promise<void> {
  const b = bookkeeping();
  log(`bookkeeping over ${cfg.rules} rules: status hooks ${b.statusNs.toFixed(0)} ns/evaluation, metric hooks ${b.metricsNs.toFixed(0)} ns/evaluation (${(b.statusNs / b.metricsNs).toFixed(2)}×); one look at a status ${b.lookUs.toFixed(1)} µs`);
  if (argv.includes('--no-cluster')) return;
  const cp = await ControlPlane.start();
  const loader = new Loader(cp);
  try {
    for (const crd of shippedCrds()) await loader.ok('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    for (let i = 0; i < 100 && (await loader.call('GET', '/apis/reflex.dev/v1alpha1/clusterrules')).status !== 200; i++) await sleep(200);
    const ns = 'bench-status';
    await loader.namespace(ns);
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < cfg.objects) {
        const i = next++;
        await loader.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cmName(i), labels: { rule: String(i % cfg.rules) } }, data: { gen: '0' } });
      }
    }));
    const plain = await churnRun(cp, loader, ns, 'configmap');
    log(`rules from a ConfigMap: ${plain.evaluations} evaluations in ${plain.seconds.toFixed(1)} s, ${plain.cpuSeconds.toFixed(1)} CPU s`);
    const objects = await churnRun(cp, loader, ns, 'objects');
    log(`ClusterRules: ${objects.evaluations} evaluations in ${objects.seconds.toFixed(1)} s, ${objects.cpuSeconds.toFixed(1)} CPU s, ${objects.statusWrites} status writes`);
    const cpuPerK = (r: Run) => (r.cpuSeconds * 1000) / Math.max(1, r.evaluations);
    const lines = [
      `| figure | ${cfg.rules} rules from a ConfigMap | ${cfg.rules} ClusterRules (status) |`,
      '|---|---|---|',
      `| evaluations during the churn | ${plain.evaluations.toLocaleString('en-US')} in ${plain.seconds.toFixed(0)} s | ${objects.evaluations.toLocaleString('en-US')} in ${objects.seconds.toFixed(0)} s |`,
      `| daemon CPU per 1,000 evaluations | ${cpuPerK(plain).toFixed(3)} s | ${cpuPerK(objects).toFixed(3)} s (${(cpuPerK(objects) / cpuPerK(plain)).toFixed(2)}×) |`,
      `| status writes | — | ${objects.statusWrites} (${(objects.statusWrites / objects.seconds).toFixed(1)}/s, ${(objects.statusWrites / objects.seconds / cfg.rules).toFixed(3)}/s per rule; at most 0.2/s per rule) |`,
      `| status hooks per evaluation (in process) | metric hooks: ${b.metricsNs.toFixed(0)} ns | ${b.statusNs.toFixed(0)} ns (${(b.statusNs / b.metricsNs).toFixed(2)}× the metric hooks) |`,
      `| one look at a rule's status (build and compare) | — | ${b.lookUs.toFixed(1)} µs |`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await loader.close();
    await cp.stop();
  }
}

await main();
