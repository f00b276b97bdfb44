/**
 * Benchmark of generate rules (not a test), on a control plane started here: a rule generating
 * one Secret per ConfigMap (copying a source Secret it reads with `$get`), run by an in-process
 * RuleController as the daemon runs it.
 *
 *   npm run build && node --expose-gc dist/bench/generate.js [--triggers 10000] [--copies 1000]
 *
 * Measures: time from start to every object generated, writes sent (one per object; zero on a
 * second start over the same cluster), heap of the dependency index per trigger, and the latency
 * from a change of the source to each copy updated (p50/p99 over `--copies` copies).
 */
import { ControlPlane } from '../test/support/control-plane.js';
import { createClient, loadConfig, type KubeClient } from '../src/client/index.js';
import { SharedInformerFactory } from '../src/informers/index.js';
import { loadRules, type CompiledRule } from '../src/engine/index.js';
import { RuleController } from '../src/daemon/controller.js';
import { DependencyIndex, RecordingLister } from '../src/daemon/dependency-index.js';
import { Loader } from './support/load.js';
import { percentile, wallMs } from './support/proc.js';

const argv = process.argv.slice(2);
const num = (name: string, fallback: number) => (argv.includes(`--${name}`) ? Number(argv[argv.indexOf(`--${name}`) + 1]) : fallback);
const cfg = { triggers: num('triggers', 10_000), copies: num('copies', 1000) };
const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rule(ns: string): CompiledRule {
  const { rules, errors } = loadRules([
    {
      file: 'bench.yaml',
      text: `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: copy-per-trigger}
spec:
  watch: {apiVersion: v1, kind: ConfigMap, namespaces: [${ns}]}
  when: "$exists($get('v1', 'Secret', '${ns}-src', 'source'))"
  generate:
    objects:
      - apiVersion: v1
        kind: Secret
        metadata: {name: "copy-{{ metadata.name }}"}
        data: "{{ $get('v1', 'Secret', '${ns}-src', 'source').data }}"
`,
    },
  ]);
  if (errors.length) throw new Error(errors.map(String).join('\n'));
  return rules[0];
}

/** The client, counting the writes it sends. */
function counting(client: KubeClient, counts: { writes: number }): KubeClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'patch' || prop === 'create' || prop === 'delete' || prop === 'update') {
        return (...args: unknown[]) => {
          counts.writes++;
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Runs a controller with the rule until `done` holds (polled); returns the figures of that run. */
async function runController(cp: ControlPlane, r: CompiledRule, done: (c: RuleController, counts: { writes: number }) => Promise<boolean>) {
  const counts = { writes: 0 };
  const client = counting(await createClient({ config: loadConfig({ kubeconfig: cp.state.adminKubeconfig }), qps: 0 }), counts);
  const factory = new SharedInformerFactory(client);
  const controller = new RuleController({ client, factory, workers: 32 });
  const stop = new AbortController();
  factory.start(stop.signal);
  const t0 = wallMs();
  await controller.setRules(new Map([[r.name, r]]));
  const running = controller.run(stop.signal, { drainMs: 5000 });
  while (!(await done(controller, counts))) await sleep(250);
  const ms = wallMs() - t0;
  return {
    ms,
    counts,
    controller,
    stop: async () => {
      stop.abort();
      await running;
      await factory.shutdown();
      await client.close();
    },
  };
}

async function countGenerated(loader: Loader, ns: string): Promise<number> {
  // (A labelled list has no remainingItemCount: the whole list is read.)
  const r = await loader.call('GET', `/api/v1/namespaces/${ns}/secrets?labelSelector=reflex.dev/rule=copy-per-trigger`);
  return (JSON.parse(r.text) as { items: unknown[] }).items.length;
}

/** Heap of the dependency index per key: N keys each reading one shared source and one object of its own. */
async function dependencyHeapPerKey(n: number): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const none = { get: () => undefined, list: () => [] };
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const index = new DependencyIndex();
  for (let i = 0; i < n; i++) {
    const l = new RecordingLister(none);
    l.get('v1', 'Secret', 'platform', 'source');
    l.get('v1', 'Namespace', undefined, `team-${i}`);
    index.record(`copy-per-trigger|bench/cm-${String(i).padStart(6, '0')}`, l.reads());
  }
  gc?.();
  const after = process.memoryUsage().heapUsed;
  if (index.stats().keys !== n) throw new Error('index lost keys');
  return (after - before) / n;
}

async function main(): Promise<void> {
  const cp = await ControlPlane.start();
  const loader = new Loader(cp);
  const ns = 'bench-gen';
  try {
    await loader.namespace(ns);
    await loader.namespace(`${ns}-src`);
    await loader.ok('POST', `/api/v1/namespaces/${ns}-src/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'source' }, data: { token: Buffer.from('v0').toString('base64') } });
    let t = wallMs();
    await loader.seed(ns, 0, cfg.triggers);
    log(`seeded ${cfg.triggers} trigger ConfigMaps in ${((wallMs() - t) / 1000).toFixed(1)} s`);
    const r = rule(ns);

    // 1. Convergence from start.
    const first = await runController(cp, r, async (_c, counts) => counts.writes >= cfg.triggers && (await countGenerated(loader, ns)) >= cfg.triggers);
    log(`first start: ${cfg.triggers} objects generated in ${(first.ms / 1000).toFixed(1)} s, ${first.counts.writes} writes, dependency entries ${first.controller.dependencyEntries()}`);
    const firstFigures = { ms: first.ms, writes: first.counts.writes, entries: first.controller.dependencyEntries(), heapMiB: process.memoryUsage().heapUsed / 2 ** 20 };
    await first.stop();

    // 2. A second start over the converged cluster: every trigger evaluated, nothing written.
    // Each evaluation records its reads (one entry per trigger): all are in once every trigger was evaluated.
    const second = await runController(cp, r, async (c) => c.dependencyEntries() >= cfg.triggers);
    const idle = () => {
      const q = second.controller.queue.stats();
      return q.processing === 0 && Object.values(q.depth).every((d) => d === 0);
    };
    while (!idle()) await sleep(100);
    await sleep(1000);
    const secondWrites = second.counts.writes;
    log(`second start: ${secondWrites} writes after the sync sweep`);

    // 3. Source change → copies: the latency of each of the first `copies` copies.
    const watchFrom = (await loader.call('GET', `/api/v1/namespaces/${ns}/secrets?limit=1`)).text.match(/"resourceVersion":"(\d+)"/)?.[1] ?? '0';
    const seen = new Map<string, number>();
    const ac = new AbortController();
    const watching = (async () => {
      const client = await createClient({ config: loadConfig({ kubeconfig: cp.state.adminKubeconfig }), qps: 0 });
      try {
        for await (const ev of client.watch({ apiVersion: 'v1', kind: 'Secret', namespace: ns }, { resourceVersion: watchFrom, labelSelector: 'reflex.dev/rule=copy-per-trigger', signal: ac.signal })) {
          const o = ev.object as { metadata?: { name?: string }; data?: Record<string, string> };
          if (ev.type === 'MODIFIED' && o.data?.token === Buffer.from('v1').toString('base64') && !seen.has(o.metadata!.name!)) seen.set(o.metadata!.name!, wallMs());
        }
      } catch {
        /* aborted */
      } finally {
        await client.close();
      }
    })();
    await sleep(500);
    t = wallMs();
    await loader.ok('PATCH', `/api/v1/namespaces/${ns}-src/secrets/source`, { data: { token: Buffer.from('v1').toString('base64') } }, 'application/merge-patch+json');
    while (seen.size < cfg.triggers && wallMs() - t < 600_000) await sleep(100);
    const latencies = [...seen.values()].map((at) => at - t).sort((a, b) => a - b);
    const firstCopies = latencies.slice(0, cfg.copies);
    ac.abort();
    await watching;
    await second.stop();
    const heapPerKey = await dependencyHeapPerKey(cfg.triggers);
    const out = {
      triggers: cfg.triggers,
      convergeMs: Math.round(firstFigures.ms),
      writesFirstStart: firstFigures.writes,
      writesSecondStart: secondWrites,
      dependencyEntries: firstFigures.entries,
      dependencyHeapBytesPerKey: Math.round(heapPerKey),
      sourceChange: {
        copiesUpdated: latencies.length,
        allMs: Math.round(latencies.at(-1) ?? -1),
        [`first${cfg.copies}P50Ms`]: Math.round(percentile(firstCopies, 50)),
        [`first${cfg.copies}P99Ms`]: Math.round(percentile(firstCopies, 99)),
        p50Ms: Math.round(percentile(latencies, 50)),
        p99Ms: Math.round(percentile(latencies, 99)),
      },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await loader.close();
    await cp.stop();
  }
}

await main();
