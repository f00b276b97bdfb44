/** Phases of the benchmark suite that run clients side by side with a loader: watch ingest, rule throughput, latency. */
import type { ControlPlane } from '../test/support/control-plane.js';
import { cmName, type Loader } from './support/load.js';
import { nodeChild, percentile } from './support/proc.js';
import { matches, RULES } from './support/rules.js';
import type { IngestSample } from './ingest-child.js';
import type { RulesReport } from './rules-child.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface IngestFigures {
  writes: number;
  loadMs: number;
  reflex: IngestSample;
  clientNode: IngestSample;
}

/**
 * Watch ingest with no rules: Reflex's and client-node's caches run side by side while a
 * loader creates, then updates, ConfigMaps as fast as the server accepts (32 at a time).
 */
export async function ingestPhase(cp: ControlPlane, loader: Loader, seconds: number, log: (l: string) => void): Promise<IngestFigures> {
  const ns = 'bench-ingest';
  await loader.namespace(ns);
  const reflex = nodeChild('ingest-child', ['reflex', cp.dir, ns]);
  const clientNode = nodeChild('ingest-child', ['client-node', cp.dir, ns]);
  await Promise.all([reflex.next(), clientNode.next()]);
  const distinct = 5000;
  let writes = 0;
  let next = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (performance.now() < end) {
        const k = next++;
        if (k < distinct) await loader.seed(ns, k, k + 1, { concurrency: 1 });
        else await loader.bump(ns, k % distinct, k);
        writes++;
      }
    }),
  );
  const loadMs = performance.now() - started;
  log(`ingest: ${writes} writes in ${(loadMs / 1000).toFixed(1)} s`);
  reflex.send(`expect ${writes} 3000`);
  clientNode.send(`expect ${writes} 3000`);
  const [r, c] = await Promise.all([reflex.next<IngestSample>(), clientNode.next<IngestSample>()]);
  await Promise.all([reflex.close(), clientNode.close()]);
  for (const s of [r, c]) log(`ingest ${s.mode}: ${s.events} events, ${Math.round(s.eventsPerSec)}/s, ${s.cpuMsPer1000.toFixed(0)} ms CPU per 1k`);
  return { writes, loadMs, reflex: r, clientNode: c };
}

export interface Throughput {
  events: number;
  actions: number;
  failed: number;
  ms: number;
  eventsPerSec: number;
  actionsPerSec: number;
  /** CPU of the Reflex process per 1,000 events, ms. */
  cpuMsPer1k: number;
  /** Live only: the loader's writes per second over the phase (the events offered). */
  offeredPerSec?: number;
}

export interface Latency {
  rate: number;
  samples: number;
  e2eP50: number;
  e2eP99: number;
  intP50: number;
  intP99: number;
  /** The patch's own round trip (sent → answered), ms. */
  rttP50: number;
  rttP99: number;
}

export interface RulesFigures {
  sync: Throughput;
  live: Throughput;
  latency: Latency[];
}

const throughput = (r: RulesReport): Throughput => ({
  events: r.events,
  actions: r.actions,
  failed: r.failed,
  ms: r.ms,
  eventsPerSec: r.events / (r.ms / 1000),
  actionsPerSec: r.actions / (r.ms / 1000),
  cpuMsPer1k: (r.cpuMs / Math.max(1, r.events)) * 1000,
});

/** 50 rules in an in-process RuleController: the sync sweep, live load at full speed, then paced load for latency. */
export async function rulesPhase(
  cp: ControlPlane,
  loader: Loader,
  cfg: { rulesObjects: number; seconds: number; rates: number[]; workers: number },
  log: (l: string) => void,
): Promise<RulesFigures> {
  const ns = 'bench-rules';
  const n = cfg.rulesObjects;
  await loader.namespace(ns);
  await loader.seed(ns, 0, n);
  const matching = Array.from({ length: n }, (_, i) => i).filter(matches);
  const child = nodeChild('rules-child', [cp.dir, ns, String(n), String(matching.length), String(cfg.workers)]);
  try {
    const syncReport = await child.next<RulesReport>();
    const sync = throughput(syncReport);
    log(`rules sync: ${sync.events} objects × ${RULES} rules, ${sync.actions} actions in ${(sync.ms / 1000).toFixed(2)} s (${syncReport.evaluations} evaluations, ${Math.round(syncReport.cpuMs)} ms CPU)`);
    let gen = 1;

    // Live, at the loader's full speed over every object.
    child.send('begin');
    await child.next();
    let expected = 0;
    let k = 0;
    const liveStarted = performance.now();
    const end = liveStarted + cfg.seconds * 1000;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (performance.now() < end) {
          const i = k++ % n;
          if (matches(i)) expected++;
          await loader.bump(ns, i, gen++);
        }
      }),
    );
    const offeredPerSec = k / ((performance.now() - liveStarted) / 1000);
    child.send(`end live ${expected}`);
    const liveReport = await child.next<RulesReport>(120_000);
    const live = { ...throughput(liveReport), offeredPerSec };
    log(`rules live: ${live.events} events, ${live.actions}/${expected} actions in ${(live.ms / 1000).toFixed(2)} s, ${live.failed} failed`);
    await sleep(2000);

    // Paced changes of matching objects, for latency.
    const latency: Latency[] = [];
    for (const rate of cfg.rates) {
      child.send('begin');
      await child.next();
      const committed = new Map<string, number>();
      const total = rate * cfg.seconds;
      const writes: Promise<void>[] = [];
      const t0 = performance.now();
      for (let j = 0; j < total; j++) {
        const wait = t0 + (j * 1000) / rate - performance.now();
        if (wait > 1) await sleep(wait);
        const i = matching[j % matching.length];
        const g = gen++;
        writes.push(loader.bump(ns, i, g).then((w) => void committed.set(`${cmName(i)}@${g}`, w.at)));
      }
      await Promise.all(writes);
      child.send(`end lat${rate} ${total}`);
      const report = await child.next<RulesReport>(120_000);
      const e2e: number[] = [];
      const internal: number[] = [];
      const rtt = report.patches.map((p) => p.doneAt - p.sentAt);
      for (const p of report.patches) {
        const at = committed.get(`${p.name}@${p.gen}`);
        if (at !== undefined) e2e.push(p.doneAt - at);
        internal.push(p.sentAt - p.receivedAt);
      }
      const l: Latency = { rate, samples: e2e.length, e2eP50: percentile(e2e, 50), e2eP99: percentile(e2e, 99), intP50: percentile(internal, 50), intP99: percentile(internal, 99), rttP50: percentile(rtt, 50), rttP99: percentile(rtt, 99) };
      log(`latency ${rate}/s: ${l.samples}/${total} actions matched, e2e p50 ${l.e2eP50.toFixed(0)} ms p99 ${l.e2eP99.toFixed(0)} ms, internal p50 ${l.intP50.toFixed(1)} p99 ${l.intP99.toFixed(1)} ms, patch round trip p50 ${l.rttP50.toFixed(1)} p99 ${l.rttP99.toFixed(1)} ms (${report.failed} failed, ${Math.round(report.cpuMs)} ms CPU)`);
      latency.push(l);
    }
    return { sync, live, latency };
  } finally {
    child.send('quit');
    await child.close();
  }
}
