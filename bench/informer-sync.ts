/**
 * Benchmark (not a test): time to synced and peak RSS of a SharedInformer over
 * 20,000 ConfigMaps of ~1 KB, next to a raw paginated LIST that keeps nothing.
 * Starts its own control plane; each measurement runs in a fresh child process
 * so its peak RSS is its own. Writes the "Informer sync" section of bench/RESULTS.md.
 *
 *   npm run build && node dist/bench/informer-sync.js [--objects 20000] [--runs 3]
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, loadConfig } from '../src/client/index.js';
import { SharedInformer, listWatcherFor } from '../src/informers/index.js';
import { AdminRest } from '../test/support/admin-rest.js';
import { ControlPlane, KUBERNETES_VERSION, repoRoot } from '../test/support/control-plane.js';

const PAGE = 500;

interface Sample {
  mode: string;
  ms: number;
  objects: number;
  maxRssMiB: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/** Child: measures one mode and prints a Sample as JSON. */
async function child(mode: string, kubeconfig: string, namespace: string): Promise<void> {
  const client = await createClient({ config: loadConfig({ kubeconfig }), qps: 0 });
  const started = performance.now();
  let objects = 0;
  if (mode === 'informer') {
    const informer = new SharedInformer(listWatcherFor(client, { apiVersion: 'v1', kind: 'ConfigMap', namespace }), { pageSize: PAGE });
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    await informer.waitForSync();
    objects = informer.store.size;
    const ms = performance.now() - started;
    ac.abort();
    await running;
    report({ mode, ms, objects });
  } else if (mode === 'raw-list') {
    let cont: string | undefined;
    do {
      const page = await client.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace }, { limit: PAGE, continue: cont });
      objects += page.items.length;
      cont = page.metadata.continue || undefined;
    } while (cont);
    report({ mode, ms: performance.now() - started, objects });
  } else {
    await client.resolve('v1', 'ConfigMap');
    report({ mode, ms: performance.now() - started, objects });
  }
  await client.close();
}

function report(s: Omit<Sample, 'maxRssMiB'>): void {
  const maxRssMiB = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
  process.stdout.write(`${JSON.stringify({ ...s, maxRssMiB })}\n`);
}

function runChild(mode: string, kubeconfig: string, namespace: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, kubeconfig, namespace], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as Sample) : reject(new Error(`${mode} child exited ${code}`))));
  });
}

async function seed(admin: AdminRest, namespace: string, count: number): Promise<void> {
  await admin.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const payload = 'x'.repeat(850); // with metadata, ~1 KB per object as served
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < count) {
        const i = next++;
        await admin.ok('POST', `/api/v1/namespaces/${namespace}/configmaps`, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `cm-${String(i).padStart(5, '0')}`, labels: { app: 'bench', shard: String(i % 16) } },
          data: { payload },
        });
      }
    }),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function writeResults(section: string): void {
  const file = join(repoRoot, 'bench', 'RESULTS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf('## Informer sync');
  let next: string;
  if (start < 0) next = `${current.trimEnd()}\n\n${section}`;
  else {
    const end = current.indexOf('\n## ', start + 1);
    next = current.slice(0, start) + section + (end < 0 ? '' : current.slice(end + 1));
  }
  writeFileSync(file, `${next.trimEnd()}\n`);
}

async function main(): Promise<void> {
  const count = arg('objects', 20_000);
  const runs = arg('runs', 3);
  const cp = await ControlPlane.start();
  try {
    const admin = AdminRest.fromState(cp.dir, cp.state);
    const version = (await admin.ok<{ gitVersion: string }>('GET', '/version')).gitVersion;
    const namespace = 'bench-informer-sync';
    const seedStart = performance.now();
    await seed(admin, namespace, count);
    const seedMs = performance.now() - seedStart;
    const sample = await admin.ok<{ items: unknown[] }>('GET', `/api/v1/namespaces/${namespace}/configmaps?limit=1`);
    const objectBytes = Buffer.byteLength(JSON.stringify(sample.items[0]));
    await admin.close();
    process.stderr.write(`seeded ${count} ConfigMaps (${objectBytes} bytes each as JSON) in ${(seedMs / 1000).toFixed(1)} s\n`);

    const samples: Record<string, Sample[]> = { baseline: [], 'raw-list': [], informer: [] };
    for (let r = 0; r < runs; r++) {
      for (const mode of Object.keys(samples)) {
        const s = await runChild(mode, cp.kubeconfig, namespace);
        if (mode !== 'baseline' && s.objects !== count) throw new Error(`${mode} saw ${s.objects} objects, expected ${count}`);
        samples[mode].push(s);
        process.stderr.write(`run ${r + 1} ${mode}: ${Math.round(s.ms)} ms, peak RSS ${s.maxRssMiB.toFixed(0)} MiB\n`);
      }
    }
    const row = (label: string, mode: string) => {
      const ss = samples[mode];
      return `| ${label} | ${Math.round(median(ss.map((s) => s.ms)))} | ${median(ss.map((s) => s.maxRssMiB)).toFixed(0)} | ${ss.map((s) => Math.round(s.ms)).join(', ')} |`;
    };
    const section = [
      '## Informer sync',
      '',
      `Syncing ${count.toLocaleString('en-US')} ConfigMaps (~${objectBytes} bytes each as JSON) from the test control plane,`,
      `pages of ${PAGE}, each measurement in a fresh Node.js process (median of ${runs} runs).`,
      'Produced by `node dist/bench/informer-sync.js` (not part of `npm test`).',
      '',
      '| measurement | time (ms) | peak RSS (MiB) | all runs (ms) |',
      '|---|---|---|---|',
      row('process with a client, no list (baseline)', 'baseline'),
      row('raw paginated LIST, nothing kept', 'raw-list'),
      row('SharedInformer: list into the store until synced', 'informer'),
      '',
      `- Date: ${new Date().toISOString().slice(0, 10)}`,
      `- Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, shared with other work`,
      `- Node.js ${process.version}; Kubernetes ${version} (test control plane pinned to ${KUBERNETES_VERSION}: kube-apiserver with embedded etcd, on the same machine)`,
      '- The store drops `metadata.managedFields` (the default transform); the raw LIST decodes each page and drops it.',
      `- Seeding ${count.toLocaleString('en-US')} objects took ${(seedMs / 1000).toFixed(1)} s (32 concurrent POSTs).`,
      '',
    ].join('\n');
    writeResults(section);
    process.stderr.write(`${section}\n`);
  } finally {
    await cp.stop();
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], process.argv[5]);
} else {
  await main();
}
