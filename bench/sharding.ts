/**
 * Benchmark of sharding (not a test): daemon processes on one control plane started here, all on
 * this machine's cores. Two workloads, each run by the single leader-elected daemon and by 1, 2
 * and 3 sharded replicas in the same run:
 * - CPU-bound: 50 audit-mode rules whose `when` does real work (about 0.7 ms each), over `--objects` ConfigMaps;
 *   every rule changes at once (a new rules ConfigMap), so every key is evaluated again.
 *   Figures: evaluations/s, and per replica its CPU share (CPU seconds over wall seconds) and
 *   peak RSS.
 * - Write-bound: one rule patching every ConfigMap, client qps 50 (burst 50) per replica;
 *   figures: writes/s.
 *
 *   npm run bench:sharding [-- --objects 400 --write-objects 750]
 *
 * Writes its section of bench/RESULTS.md.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { ControlPlane } from '../test/support/control-plane.js';
import { DaemonProcess } from '../test/support/daemon-process.js';
import { metricSum, writeConfig } from '../test/daemon/daemon-support.js';
import { Loader } from './support/load.js';
import { int, mib, ratio, secs, writeSection } from './support/results.js';

const argv = process.argv.slice(2);
const num = (name: string, fallback: number) => (argv.includes(`--${name}`) ? Number(argv[argv.indexOf(`--${name}`) + 1]) : fallback);
const cfg = { objects: num('objects', 400), writeObjects: num('write-objects', 750), rules: 50 };
const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NS = 'bench-shard';
const TICK_S = 100; // clock ticks per second of /proc/PID/stat (USER_HZ)

type Setup = { name: string; replicas: number; sharded: boolean };
const SETUPS: Setup[] = [
  { name: 'leader-elected (1 active)', replicas: 1, sharded: false },
  { name: 'sharded ×1', replicas: 1, sharded: true },
  { name: 'sharded ×2', replicas: 2, sharded: true },
  { name: 'sharded ×3', replicas: 3, sharded: true },
];

interface Figures {
  setup: Setup;
  perSecond: number;
  wallMs: number;
  cpuShare: number[];
  rssMiB: number[];
  load: number;
}

/** The CPU-bound rules: `when` walks a few hundred strings per evaluation; audit mode writes nothing. */
function cpuRules(gen: number): string {
  return Array.from({ length: cfg.rules }, (_, i) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: cpu-${i}}
spec:
  mode: audit
  limits: {maxActionsPerRun: 1000000}
  watch: {apiVersion: v1, kind: ConfigMap, namespaces: [${NS}], labelSelector: app=bench}
  on: [sync, create, update]
  when: "'gen-${gen}' != '' and $count($filter([1..30], function($v) { $contains(metadata.name, $string(($v + ${i}) % 9)) })) > ${i % 5}"
  actions:
    - patch: {patch: {metadata: {annotations: {audited: "yes"}}}}
`).join('---\n');
}

function writeRule(gen: number): string {
  return `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: stamp}
spec:
  limits: {maxActionsPerRun: 1000000, actionsPerObjectPerMinute: 1000}
  watch: {apiVersion: v1, kind: ConfigMap, namespaces: [${NS}], labelSelector: app=write}
  on: [sync, create, update]
  when: "$not(metadata.annotations.gen = '${gen}')"
  actions:
    - patch: {patch: {metadata: {annotations: {gen: "${gen}"}}}}
`;
}

async function putRules(loader: Loader, text: string): Promise<void> {
  const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bench-rules', namespace: NS, labels: { 'reflex.dev/rules': 'true' } }, data: { 'rules.yaml': text } };
  const r = await loader.call('PATCH', `/api/v1/namespaces/${NS}/configmaps/bench-rules`, { data: body.data }, 'application/merge-patch+json');
  if (r.status === 404) await loader.ok('POST', `/api/v1/namespaces/${NS}/configmaps`, body);
  else if (r.status >= 300) throw new Error(`PATCH rules: HTTP ${r.status} ${r.text.slice(0, 200)}`);
}

const cpuTicks = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime
};
const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

async function sum(ds: DaemonProcess[], metric: string, labels = ''): Promise<number> {
  const texts = await Promise.all(ds.map((d) => d.get('/metrics', 'metrics').then((r) => r.text)));
  return texts.reduce((n, t) => n + metricSum(t, metric, labels), 0);
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(200);
  }
}

/** Starts a setup's daemons, waits for their first pass, then has every key done again and measures that. */
async function measure(cp: ControlPlane, loader: Loader, setup: Setup, work: 'cpu' | 'write', run: number): Promise<Figures> {
  const keys = work === 'cpu' ? cfg.objects * cfg.rules : cfg.writeObjects;
  const metric = work === 'cpu' ? 'reflex_rule_evaluations_total' : 'reflex_actions_total';
  const labels = work === 'cpu' ? '' : 'outcome="done"';
  const gen = run * 2;
  await putRules(loader, work === 'cpu' ? cpuRules(gen) : writeRule(gen));
  const config = writeConfig(`namespace: ${NS}
rules: { configMaps: { namespaces: [${NS}] } }
leaderElection: { enabled: true, leaseName: lead-${run}, leaseNamespace: ${NS}, leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 1 }
sharding: { enabled: ${setup.sharded}, ringName: ring-${run}, leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 1 }
client: { qps: ${work === 'write' ? 50 : 200}, burst: ${work === 'write' ? 50 : 400} }
`);
  const ds = await Promise.all(Array.from({ length: setup.replicas }, () => DaemonProcess.start({ kubeconfig: cp.kubeconfig, args: ['--config', config, '--log-level', 'warn'], readyTimeoutMs: 120_000 })));
  try {
    // The first pass (caches filled, buckets taken, every key done at least once: a bucket moved
    // while replicas join is swept again), then quiet: the count unchanged for 3 s.
    await until('the first pass', async () => (await sum(ds, metric, labels)) >= keys, 600_000);
    if (setup.sharded) await until('buckets split', async () => (await sum(ds, 'reflex_shard_buckets_held')) === 64 && (await sum(ds, 'reflex_shard_buckets_waiting')) === 0, 60_000);
    let before = -1;
    for (let stable = 0; stable < 3; ) {
      const n = await sum(ds, metric, labels);
      stable = n === before ? stable + 1 : 0;
      before = n;
      await sleep(1000);
    }
    const ticks = ds.map((d) => cpuTicks(d.pid));
    const peak = ds.map((d) => rssMiB(d.pid));
    const t0 = Date.now();
    await putRules(loader, work === 'cpu' ? cpuRules(gen + 1) : writeRule(gen + 1));
    await until('the second pass', async () => {
      ds.forEach((d, i) => (peak[i] = Math.max(peak[i]!, rssMiB(d.pid))));
      return (await sum(ds, metric, labels)) >= before + keys;
    }, 900_000);
    const wallMs = Date.now() - t0;
    const cpuShare = ds.map((d, i) => (cpuTicks(d.pid) - ticks[i]!) / TICK_S / (wallMs / 1000));
    const f: Figures = { setup, perSecond: keys / (wallMs / 1000), wallMs, cpuShare, rssMiB: peak, load: loadavg()[0]! };
    log(`${work} ${setup.name}: ${int(f.perSecond)}/s over ${secs(wallMs)}, CPU ${cpuShare.map((c) => c.toFixed(2)).join('/')}, RSS ${peak.map(mib).join('/')}, load ${f.load.toFixed(1)}`);
    return f;
  } finally {
    await Promise.all(ds.map((d) => d.stop('SIGTERM')));
  }
}

function table(title: string, unit: string, figures: Figures[]): string {
  const peer = figures[0]!.perSecond;
  const rows = figures.map(
    (f) => `| ${f.setup.name} | ${int(f.perSecond)} ${f === figures[0] ? '' : ratio(f.perSecond, peer)} | ${secs(f.wallMs)} | ${f.cpuShare.map((c) => c.toFixed(2)).join(' / ')} | ${f.rssMiB.map(mib).join(' / ')} | ${f.load.toFixed(1)} |`,
  );
  return `${title}\n\n| setup | ${unit} (ratio to leader-elected) | wall | CPU share per replica (cores) | peak RSS per replica | load avg (1 min) at end |\n|---|---|---|---|---|---|\n${rows.join('\n')}`;
}

async function main(): Promise<void> {
  const load0 = loadavg();
  const cp = await ControlPlane.start();
  const loader = new Loader(cp);
  try {
    await loader.namespace(NS);
    log(`seeding ${int(cfg.objects)} + ${int(cfg.writeObjects)} ConfigMaps`);
    await loader.seed(NS, 0, cfg.objects);
    let next = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      for (let i = next++; i < cfg.writeObjects; i = next++) await loader.ok('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `w-${i}`, labels: { app: 'write' } } });
    }));
    const cpu: Figures[] = [];
    const write: Figures[] = [];
    let run = 0;
    for (const s of SETUPS) cpu.push(await measure(cp, loader, s, 'cpu', ++run));
    for (const s of SETUPS) write.push(await measure(cp, loader, s, 'write', ++run));
    const body = `Sharding (\`npm run bench:sharding\`, bench/sharding.ts): daemon processes on one control
plane, everything (API server, etcd, every replica) on the same 2 cores, next to the single
leader-elected daemon in the same run. CPU-bound: ${cfg.rules} audit-mode rules whose \`when\` filters
a 30-element array with a function per evaluation (about 0.7 ms of JSONata on this machine), over ${int(cfg.objects)} ConfigMaps (${int(cfg.objects * cfg.rules)} keys);
every rule is changed at once and the time until every key was evaluated again is measured.
Write-bound: one rule patching ${int(cfg.writeObjects)} ConfigMaps, client qps 50 and burst 50 per replica.
CPU share: CPU seconds of the replica's process over the measured wall time (1.00 = one core).

${table('CPU-bound', 'evaluations/s', cpu)}

${table('Write-bound', 'writes/s', write)}

- The machine's caveat: two cores shared by the API server, etcd and all replicas (and, during
  the run, by other work: load average ${load0.map((l) => l.toFixed(1)).join(' / ')} before it started),
  so CPU-bound throughput cannot scale past what two cores give; the per-replica CPU shares say
  how the work was split. The write-bound case is paced by each replica's own client budget,
  so its writes/s grow with the replicas until the API server is the limit.
- Date: ${new Date().toISOString().slice(0, 10)}. Node.js ${process.version}.`;
    console.log(body);
    log(`wrote ${writeSection(body, '## Sharding: replicas splitting the work')}`);
  } finally {
    await loader.close();
    await cp.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
