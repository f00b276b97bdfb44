/**
 * The benchmark suite (not a test): Reflex next to @kubernetes/client-node and client-go,
 * on one real control plane started here, in one run. Prints a table of figures and
 * ratios (Reflex over the peer) and writes its section of bench/RESULTS.md.
 *
 *   npm run bench               full: 100k objects for sync, 10k for the rules, 3 sync runs, 30 s phases
 *   npm run bench -- --quick    under 5 minutes: 20k for sync, 10k for the rules, 3 sync runs, 10 s phases
 *   options: --sync-objects N --runs N --rules-objects N --seconds S --no-write
 *            --workers N (of the RuleController, default 32 as the daemon's) --only startup,sync,server,ingest,rules (phases to run) --profile DIR (--cpu-prof of every Node.js child into DIR)
 */
import { availableParallelism, cpus, totalmem } from 'node:os';
import { ControlPlane } from '../test/support/control-plane.js';
import { clientGoBinary, goVersion } from './support/client-go.js';
import { Loader } from './support/load.js';
import { execChild, killChildren, nodeChild } from './support/proc.js';
import { int, median, mib, ratio, secs, writeSection } from './support/results.js';
import { ingestPhase, rulesPhase, type IngestFigures, type RulesFigures } from './suite-phases.js';
import { startupPhase, STARTUP_RULES, type StartupFigures } from './startup.js';
import type { ServerSample, SyncSample } from './sync-child.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const num = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const cfg = {
  syncObjects: num('sync-objects', quick ? 20_000 : 100_000),
  runs: num('runs', 3),
  rulesObjects: num('rules-objects', 10_000),
  seconds: num('seconds', quick ? 10 : 30),
  rates: [50, 100, 200],
  workers: num('workers', 32),
  only: (argv[argv.indexOf('--only') + 1] ?? '').split(','),
};
const runs = (phase: string) => !argv.includes('--only') || cfg.only.includes(phase);
const profile = argv.indexOf('--profile') >= 0 ? argv[argv.indexOf('--profile') + 1] : undefined;
if (profile) process.env.BENCH_NODE_FLAGS = `--cpu-prof --cpu-prof-dir=${profile}`;
const log = (line: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

type Mode = 'floor' | 'floor-cache' | 'floor-cache-proto' | 'reflex' | 'reflex-json' | 'client-node' | 'client-go' | 'reflex-keep' | 'reflex-storage' | 'reflex-list' | 'reflex-stream';

async function syncPhase(cp: ControlPlane, loader: Loader, goBin: string): Promise<Record<Mode, SyncSample>> {
  const ns = 'bench-sync';
  await loader.namespace(ns);
  const t = performance.now();
  await loader.seed(ns, 0, cfg.syncObjects);
  log(`seeded ${int(cfg.syncObjects)} ConfigMaps in ${secs(performance.now() - t)}`);
  const modes: Mode[] = ['floor', 'floor-cache', 'floor-cache-proto', 'reflex', 'reflex-json', 'client-node', 'client-go', 'reflex-keep', 'reflex-storage', 'reflex-list', 'reflex-stream'];
  const all: Record<string, SyncSample[]> = {};
  for (let r = 0; r < cfg.runs; r++) {
    for (const mode of modes) {
      const child =
        mode === 'client-go'
          ? execChild('client-go', goBin, ['--kubeconfig', cp.kubeconfig, '--namespace', ns])
          : nodeChild('sync-child', [mode, cp.dir, ns], ['--expose-gc']);
      const s = await child.next<SyncSample>();
      await child.close();
      if (s.objects !== cfg.syncObjects) throw new Error(`${mode} synced ${s.objects} objects, expected ${cfg.syncObjects}`);
      (all[mode] ??= []).push(s);
      log(`sync ${mode}: ${secs(s.ms)}${s.syncedMs === undefined ? '' : ` (synced at ${secs(s.syncedMs)})`}, peak ${mib(s.peakRssMiB)}, steady ${mib(s.steadyRssMiB)}${s.heapPerObject ? `, heap ${int(s.heapPerObject)} B/object` : ''}`);
    }
  }
  const pick = (mode: Mode): SyncSample => {
    const ss = all[mode];
    return { ...ss[0], ms: median(ss.map((s) => s.ms)), syncedMs: ss[0].syncedMs === undefined ? undefined : median(ss.map((s) => s.syncedMs ?? 0)), peakRssMiB: median(ss.map((s) => s.peakRssMiB)), steadyRssMiB: median(ss.map((s) => s.steadyRssMiB)), heapPerObject: ss[0].heapPerObject === undefined ? undefined : median(ss.map((s) => s.heapPerObject ?? 0)) };
  };
  return Object.fromEntries(modes.map((m) => [m, pick(m)])) as Record<Mode, SyncSample>;
}

type ServerFigures = Record<'list' | 'stream', ServerSample>;

/**
 * The API server's side of LIST against streaming lists: on a fresh control plane for each
 * path (a Go process keeps memory it once needed), 10 informers of the seeded namespace sync at
 * once while the control plane's RSS is sampled.
 */
async function serverPhase(log: (line: string) => void): Promise<ServerFigures> {
  const out: Partial<ServerFigures> = {};
  for (const path of ['list', 'stream'] as const) {
    out[path] = await onFreshControlPlane(`server (${path})`, async (cp, loader) => {
      const ns = 'bench-server';
      await loader.namespace(ns);
      await loader.seed(ns, 0, cfg.syncObjects);
      const child = nodeChild('sync-child', [`server-${path}`, cp.dir, ns]);
      const s = await child.next<ServerSample>();
      await child.close();
      if (s.objects !== cfg.syncObjects) throw new Error(`server-${path}: an informer synced ${s.objects} objects, expected ${cfg.syncObjects}`);
      log(`server ${path}: 10 informers synced in ${secs(s.ms)}; control plane RSS ${mib(s.baseRssMiB)} before, peak ${mib(s.peakRssMiB)} (+${mib(s.peakRssMiB - s.baseRssMiB)})`);
      return s;
    });
  }
  return out as ServerFigures;
}

/** The lines of the start-up phase. */
function startupLines(s: StartupFigures): string[] {
  const { reflex } = s;
  const cg = s['client-go'];
  const cn = s['client-node'];
  return [
    `start-up to ready, ${STARTUP_RULES.length} rules: reflex ${secs(reflex.readyMs)}, client-go ${secs(cg.readyMs)} ${ratio(reflex.readyMs, cg.readyMs)}, client-node ${secs(cn.readyMs)} ${ratio(reflex.readyMs, cn.readyMs)}`,
    `idle RSS: reflex ${mib(reflex.idleRssMiB)}, client-go ${mib(cg.idleRssMiB)} ${ratio(reflex.idleRssMiB, cg.idleRssMiB)}, client-node ${mib(cn.idleRssMiB)} ${ratio(reflex.idleRssMiB, cn.idleRssMiB)}`,
  ];
}

/** The lines of the server phase. */
function serverLines(server: ServerFigures): string[] {
  const k = `${Math.round(cfg.syncObjects / 1000)}k`;
  const { list, stream } = server;
  const growth = (s: ServerSample) => s.peakRssMiB - s.baseRssMiB;
  return [
    `control plane RSS while 10 informers sync ${k} each: LIST +${mib(growth(list))} (peak ${mib(list.peakRssMiB)}, ${secs(list.ms)}), streaming list +${mib(growth(stream))} (peak ${mib(stream.peakRssMiB)}, ${secs(stream.ms)}) ${ratio(growth(stream), growth(list))}`,
  ];
}

function verdict(ok: boolean): string {
  return ok ? 'met' : 'NOT met';
}

function table(sync: Record<Mode, SyncSample>, ingest: IngestFigures, rules: RulesFigures): { lines: string[]; targets: string[] } {
  const k = `${Math.round(cfg.syncObjects / 1000)}k`;
  const { reflex, floor } = sync;
  const cn = sync['client-node'];
  const cg = sync['client-go'];
  const keep = sync['reflex-keep'];
  const storage = sync['reflex-storage'];
  const floorCache = sync['floor-cache'];
  const listed = sync['reflex-list'];
  const streamed = sync['reflex-stream'];
  const lines = [
    `sync ${k}: reflex ${secs(reflex.ms)}, client-node ${secs(cn.ms)} ${ratio(reflex.ms, cn.ms)}, client-go ${secs(cg.ms)} ${ratio(reflex.ms, cg.ms)} (its informer synced at ${secs(cg.syncedMs ?? cg.ms)} ${ratio(reflex.ms, cg.syncedMs ?? cg.ms)}; WaitForCacheSync looks every 100 ms), floor ${secs(floor.ms)} (paginated), ${secs(floorCache.ms)} (one LIST from the watch cache)`,
    `peak RSS ${k}: reflex ${mib(reflex.peakRssMiB)}, client-node ${mib(cn.peakRssMiB)} ${ratio(reflex.peakRssMiB, cn.peakRssMiB)}, client-go ${mib(cg.peakRssMiB)} ${ratio(reflex.peakRssMiB, cg.peakRssMiB)}, floor ${mib(floor.peakRssMiB)}`,
    `steady RSS ${k}: reflex ${mib(reflex.steadyRssMiB)}, client-node ${mib(cn.steadyRssMiB)} ${ratio(reflex.steadyRssMiB, cn.steadyRssMiB)}, client-go ${mib(cg.steadyRssMiB)} ${ratio(reflex.steadyRssMiB, cg.steadyRssMiB)}, floor ${mib(floor.steadyRssMiB)}`,
    `sync ${k}, protobuf against JSON: reflex in protobuf (the default) ${secs(reflex.ms)}, in JSON ${secs(sync['reflex-json'].ms)} ${ratio(reflex.ms, sync['reflex-json'].ms)} (${ratio(sync['reflex-json'].ms, cg.ms)} of client-go); one LIST from the watch cache, discarded: JSON ${secs(floorCache.ms)}, protobuf ${secs(sync['floor-cache-proto'].ms)}; reflex ${ratio(reflex.ms, floorCache.ms)} of the JSON floor, ${ratio(reflex.ms, sync['floor-cache-proto'].ms)} of the protobuf floor`,
    `sync ${k}, Reflex reading every page of 500 from storage (as a relist after 410 does): ${secs(storage.ms)} ${ratio(storage.ms, cn.ms)} of client-node, ${ratio(storage.ms, cg.ms)} of client-go; peak RSS ${mib(storage.peakRssMiB)} ${ratio(storage.peakRssMiB, cn.peakRssMiB)} of client-node`,
    `sync ${k}, LIST against streaming list: LIST ${secs(listed.ms)}, peak RSS ${mib(listed.peakRssMiB)}; streaming list ${secs(streamed.ms)} ${ratio(streamed.ms, listed.ms)}, peak RSS ${mib(streamed.peakRssMiB)} ${ratio(streamed.peakRssMiB, listed.peakRssMiB)}; client-go (streaming list) ${secs(cg.ms)}`,
    `heap per cached object: reflex ${int(reflex.heapPerObject ?? 0)} B (managedFields dropped), ${int(keep.heapPerObject ?? 0)} B (kept) ${ratio(reflex.heapPerObject ?? 0, keep.heapPerObject ?? 1)}, client-node ${int(cn.heapPerObject ?? 0)} B ${ratio(reflex.heapPerObject ?? 0, cn.heapPerObject ?? 1)}`,
    `watch ingest, no rules (${int(ingest.writes)} writes in ${secs(ingest.loadMs)}): reflex ${int(ingest.reflex.eventsPerSec)} events/s, ${ingest.reflex.cpuMsPer1000.toFixed(0)} ms CPU/1k events; client-node ${int(ingest.clientNode.eventsPerSec)} events/s, ${ingest.clientNode.cpuMsPer1000.toFixed(0)} ms CPU/1k events ${ratio(ingest.reflex.cpuMsPer1000, ingest.clientNode.cpuMsPer1000)}`,
    `rules, sync sweep of ${int(rules.sync.events)} objects × 50 rules: ${int(rules.sync.eventsPerSec)} events/s, ${int(rules.sync.actionsPerSec)} actions/s (${int(rules.sync.actions)} patches, ${secs(rules.sync.ms)} from start to the last patch; ${int(rules.sync.cpuMsPer1k)} ms CPU per 1k events)`,
    `rules, live at the loader's full speed (${int(rules.live.offeredPerSec ?? 0)} writes/s offered): ${int(rules.live.eventsPerSec)} events/s, ${int(rules.live.actionsPerSec)} actions/s (${int(rules.live.events)} events, ${int(rules.live.actions)} patches, ${rules.live.failed} failed; ${int(rules.live.cpuMsPer1k)} ms CPU per 1k events)`,
    ...rules.latency.map(
      (l) => `latency at ${l.rate} changes/s over ${int(cfg.rulesObjects)} objects (${int(l.samples)} actions): end to end p50 ${l.e2eP50.toFixed(0)} ms, p99 ${l.e2eP99.toFixed(0)} ms; internal p50 ${l.intP50.toFixed(1)} ms, p99 ${l.intP99.toFixed(1)} ms`,
    ),
  ];
  const at100 = rules.latency.find((l) => l.rate === 100);
  const intP99 = Math.max(...rules.latency.map((l) => l.intP99));
  const targets = [
    `sync time at most client-node's: ${(reflex.ms / cn.ms).toFixed(2)}× — ${verdict(reflex.ms <= cn.ms)}`,
    `sync time within 1.5× of client-go's: ${(reflex.ms / cg.ms).toFixed(2)}× — ${verdict(reflex.ms <= 1.5 * cg.ms)}`,
    ...(cfg.syncObjects >= 100_000
      ? [
          `sync time at ${k} at most 0.9× client-go's: ${(reflex.ms / cg.ms).toFixed(2)}× — ${verdict(reflex.ms <= 0.9 * cg.ms)}`,
          `peak RSS at ${k} at most 0.7× client-go's: ${(reflex.peakRssMiB / cg.peakRssMiB).toFixed(2)}× — ${verdict(reflex.peakRssMiB <= 0.7 * cg.peakRssMiB)}`,
        ]
      : [
          `sync time at ${k} at most client-go's: ${(reflex.ms / cg.ms).toFixed(2)}× — ${verdict(reflex.ms <= cg.ms)}`,
          `sync time at ${k} at most 1.4× one LIST from the watch cache: ${(reflex.ms / floorCache.ms).toFixed(2)}× — ${verdict(reflex.ms <= 1.4 * floorCache.ms)}`,
          `peak RSS at ${k} at most client-go's: ${(reflex.peakRssMiB / cg.peakRssMiB).toFixed(2)}× — ${verdict(reflex.peakRssMiB <= cg.peakRssMiB)}`,
        ]),
    `peak RSS at most 0.6× client-node's: ${(reflex.peakRssMiB / cn.peakRssMiB).toFixed(2)}× — ${verdict(reflex.peakRssMiB <= 0.6 * cn.peakRssMiB)}`,
    `at least 2,000 events/s with 50 rules: ${int(rules.sync.eventsPerSec)} (sync sweep), ${int(rules.live.eventsPerSec)} (live, loader at full speed) — ${verdict(Math.max(rules.sync.eventsPerSec, rules.live.eventsPerSec) >= 2000)}`,
    `internal p99 (event received → request sent) at most 20 ms: ${intP99.toFixed(1)} ms (worst rate) — ${verdict(intP99 <= 20)}`,
    `end-to-end p99 at most 1 s at 100 changes/s: ${at100 ? `${at100.e2eP99.toFixed(0)} ms — ${verdict(at100.e2eP99 <= 1000)}` : 'not measured'}`,
  ];
  return { lines, targets };
}

/**
 * Runs one phase on a control plane of its own, so no phase measures a server loaded with
 * another phase's objects (the sync phase leaves 100,000 ConfigMaps behind).
 */
let version = '';

async function onFreshControlPlane<R>(phase: string, fn: (cp: ControlPlane, loader: Loader) => Promise<R>): Promise<R> {
  log(`${phase}: starting a control plane`);
  const cp = await ControlPlane.start();
  const loader = new Loader(cp);
  try {
    version = (JSON.parse((await loader.call('GET', '/version')).text) as { gitVersion: string }).gitVersion;
    return await fn(cp, loader);
  } finally {
    killChildren();
    await loader.close();
    await cp.stop();
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const goBin = clientGoBinary(log);
  log(`${quick ? 'quick' : 'full'} suite`);
  const startup = runs('startup') ? await onFreshControlPlane('startup', (cp, loader) => startupPhase(cp, loader, goBin, cfg.runs, log)) : undefined;
  if (startup) for (const line of startupLines(startup)) log(line);
  const sync = runs('sync') ? await onFreshControlPlane('sync', (cp, loader) => syncPhase(cp, loader, goBin)) : undefined;
  const server = runs('server') ? await serverPhase(log) : undefined;
  if (server) for (const line of serverLines(server)) log(line);
  const ingest = runs('ingest') ? await onFreshControlPlane('ingest', (cp, loader) => ingestPhase(cp, loader, cfg.seconds * 2, log)) : undefined;
  const rules = runs('rules') ? await onFreshControlPlane('rules', (cp, loader) => rulesPhase(cp, loader, cfg, log)) : undefined;
  if (!startup || !sync || !server || !ingest || !rules) {
    log('a partial run (--only): figures are in the log above; no table, RESULTS.md left alone');
    return;
  }
  const { lines: all, targets } = table(sync, ingest, rules);
  const lines = [...startupLines(startup), ...all.slice(0, 5), ...serverLines(server), ...all.slice(5)];
  const total = performance.now() - started;
  const body = [
    `Produced by \`npm run bench${quick ? ' -- --quick' : ''}\` (bench/suite.ts) in ${secs(total)}. Ratios are Reflex's figure over the peer's, measured in the same run on the same control plane (each phase starts a fresh one).`,
    '',
    '```',
    ...lines,
    '```',
    '',
    'Targets of the issue (reported, not asserted):',
    '',
    ...targets.map((t) => `- ${t}`),
    '',
    `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `- Machine: ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, shared with other work (figures are noisy; ratios within one run are what count)`,
    `- Node.js ${process.version}; Kubernetes ${version} (kube-apiserver with embedded etcd, on the same machine; each phase on a fresh one); @kubernetes/client-node 2.0.1; client-go v0.35.4 built with ${goVersion()}`,
    '- client-node 2.0.1 ships undici 8, which needs Node.js ≥ 22.19; on older Node.js the suite resolves its `undici` import to this project\'s undici 7 (same Agent, ProxyAgent and fetch; bench/support/client-node-hooks.ts).',
    `- Start-up: \`reflex run\` with ${STARTUP_RULES.length} shipped rules (${STARTUP_RULES.join(', ')}), leader election off, from spawn to /readyz answering 200 (polled every 10 ms); the peers are minimal informer programs of the same kinds (Namespaces, Jobs, Deployments, StatefulSets, the namespace's ConfigMaps), from spawn to all synced. Idle RSS: VmRSS 5 s later, no forced GC. Median of ${cfg.runs}, interleaved.`,
    `- Server: on a fresh control plane per path (kube-apiserver, etcd and kube-controller-manager are one process), 10 clients with one informer each sync the ${int(cfg.syncObjects)} ConfigMaps at once; the process's VmRSS is sampled every 50 ms; the growth over its RSS before the sync is the figure.`,
    `- Sync: ${int(cfg.syncObjects)} ConfigMaps of ~1 KB, each client in a fresh process, median of ${cfg.runs} run(s); RSS read from /proc/self/status (VmHWM, VmRSS after a GC and 1.5 s); Reflex's time includes its discovery (a new client's first list goes out while discovery loads); client-go's is when WaitForCacheSync returned (it looks every 100 ms), with the time its informer synced (polled every millisecond) beside it.`,
    '- Reflex: SharedInformerFactory with its defaults (first LIST with resourceVersion=0 and pages of 500: the API server answers from its watch cache, whole; items decoded as they stream); client-node: makeInformer (one unpaginated LIST, its usual use); client-go: SharedInformerFactory with its defaults; floor: paginated LIST, 500 a page, bodies discarded unparsed, and one LIST from the watch cache, discarded.',
    `- Rules: in-process RuleController, ${cfg.workers} workers, client-side rate limit off (the daemon's default is 50 requests/s), 50 rules with \`when\` on a label, 1 merge patch each; ${int(cfg.rulesObjects)} objects, 20% matching. End to end: from the trigger write's response to the patch's response; internal: from the watch event's arrival to the patch being sent.`,
  ].join('\n');
  process.stdout.write(`\n${lines.join('\n')}\n\nTargets:\n${targets.map((t) => `  ${t}`).join('\n')}\n`);
  if (!argv.includes('--no-write')) log(`wrote ${writeSection(body)}`);
}

await main();
