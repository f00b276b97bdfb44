import { expect } from 'chai';
import { WebSocket } from 'ws';
import { DaemonProcess } from '../support/daemon-process.js';
import { useCluster, type ClusterFixture } from '../support/cluster.js';
import { kubectlApply, metricSum, metricValue, ruleConfigMap, writeConfig } from './daemon-support.js';

// Generous for a loaded machine: a renewal slower than the renew deadline moves buckets needlessly.
const LEASE_SECONDS = 10;

describe('reflex run with sharding (replicas as daemon processes, end to end)', function () {
  this.timeout(900_000);
  const fx = useCluster();
  let daemons: DaemonProcess[] = [];
  afterEach(async () => {
    await Promise.all(daemons.map((d) => d.stop('SIGKILL')));
    daemons = [];
  });

  const config = () =>
    writeConfig(`namespace: ${fx.ns}
rules: { configMaps: { namespaces: [${fx.ns}] } }
leaderElection: { enabled: true, leaseName: reflex-lead, leaseNamespace: ${fx.ns}, leaseDurationSeconds: ${LEASE_SECONDS}, renewDeadlineSeconds: 7, retryPeriodSeconds: 0.5 }
sharding: { enabled: true, ringName: ring, leaseDurationSeconds: ${LEASE_SECONDS}, renewDeadlineSeconds: 7, retryPeriodSeconds: 0.5 }
client: { qps: 100, burst: 200 }
shutdown: { gracePeriodSeconds: 5 }
`);
  /** Every evaluation each replica traced: which key, by whom, from when to when. */
  const spans: Span[] = [];
  const sockets: WebSocket[] = [];
  afterEach(() => {
    for (const ws of sockets.splice(0)) ws.terminate();
    spans.length = 0;
  });
  const start = async (options: { traced?: boolean } = {}) => {
    const d = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', config(), '--log-level', 'warn'] });
    daemons.push(d);
    if (options.traced) sockets.push(await traceSpans(d, `replica-${daemons.length}`, spans));
    return d;
  };
  const metrics = async (d: DaemonProcess) => (await d.get('/metrics', 'metrics')).text;
  /** What each replica is at, for a failure's message. */
  const diagnose = async (ds: DaemonProcess[]) => {
    const t = await Promise.all(ds.map((d) => metrics(d).catch(() => '')));
    const figures = t.map((x) => ({
      evaluations: metricSum(x, 'reflex_rule_evaluations_total'),
      held: metricValue(x, 'reflex_shard_buckets_held'),
      waiting: metricValue(x, 'reflex_shard_buckets_waiting'),
      done: metricSum(x, 'reflex_actions_total', 'outcome="done"'),
      failed: metricSum(x, 'reflex_actions_total', 'outcome="failed"'),
      depth: metricSum(x, 'reflex_queue_depth'),
      barrier: metricSum(x, 'reflex_shard_cache_barrier_seconds_count'),
    }));
    const warnings = ds.map((d) => d.lines.filter((l) => l.level !== 'info' && l.level !== 'debug').slice(-4).map((l) => JSON.stringify(l).slice(0, 400)));
    return `${JSON.stringify(figures)}; ${JSON.stringify(warnings)}`;
  };
  const held = async (d: DaemonProcess) => metricValue(await metrics(d), 'reflex_shard_buckets_held') ?? 0;
  /** Waits until the replicas hold every bucket between them, each within [min, max]. */
  const balanced = async (ds: DaemonProcess[], min: number, max: number, timeoutMs: number) => {
    let last: number[] = [];
    try {
      return await fx.admin.eventually(async () => {
        const h = (last = await Promise.all(ds.map((d) => held(d).catch(() => -1))));
        return h.reduce((a, b) => a + b, 0) === 64 && h.every((n) => n >= min && n <= max) ? h : undefined;
      }, timeoutMs, `64 buckets split ${min}–${max} per replica`);
    } catch (err) {
      const warnings = ds.map((d) => d.lines.filter((l) => l.level !== 'info' && l.level !== 'debug').slice(-5).map((l) => l.message));
      throw new Error(`${(err as Error).message}; held ${JSON.stringify(last)}; warnings ${JSON.stringify(warnings)}`, { cause: err });
    }
  };

  /** The ring's bucket Leases: bucket name → holder identity ('' when released). */
  const bucketHolders = async () => {
    const list = await fx.admin.ok<{ items: { metadata: { name: string; labels: Record<string, string> }; spec: { holderIdentity?: string } }[] }>(
      'GET', `/apis/coordination.k8s.io/v1/namespaces/${fx.ns}/leases?labelSelector=reflex.dev%2Fshard-ring%3Dring`);
    return new Map(list.items.filter((l) => l.metadata.labels['reflex.dev/shard-role'] === 'bucket').map((l) => [l.metadata.name, l.spec.holderIdentity ?? '']));
  };
  /** A replica's identity is `HOST_PID-RANDOM`. */
  const isOf = (d: DaemonProcess, holder: string) => holder.includes(`_${d.pid}-`);

  /** Waits until no held bucket waits for the cache barrier any more; returns how long that took. */
  const caughtUp = async (ds: DaemonProcess[], timeoutMs: number) => {
    const t = Date.now();
    await fx.admin.eventually(async () => (await Promise.all(ds.map(async (d) => metricValue(await metrics(d), 'reflex_shard_buckets_waiting') ?? 1))).every((n) => n === 0), timeoutMs, 'taken buckets past the cache barrier');
    return Date.now() - t;
  };

  it('splits 64 buckets over 3 replicas and evaluates each of 10,000 objects × 10 rules on exactly one of them', async () => {
    const rules = Array.from(
      { length: 9 },
      (_, i) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: note-${i} }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: app=load }
  on: [sync, create]
  actions:
    - log: { level: debug, message: "seen {{ metadata.name }}" }
`,
    ).join('---\n');
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-notes', `${rules}---\n${stampRule(fx)}`));
    const ds = [await start(), await start(), await start()];
    const split = await balanced(ds, 19, 24, 30_000);
    for (const n of split) expect(n).to.be.within(21, 22);

    const N = 10_000;
    const t0 = Date.now();
    await createMany(fx, N, (i) => ({ metadata: { name: `load-${i}`, labels: { app: 'load' } } }));
    const created = Date.now();
    // Every trigger stamped once (the tenth rule), then the counts of all ten rules add up exactly.
    let stamped = 0;
    await fx.admin.eventually(async () => {
      const list = await fx.admin.ok<{ items: { metadata: { annotations?: Record<string, string> } }[] }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps?labelSelector=app%3Dload`);
      stamped = list.items.filter((c) => c.metadata.annotations?.stamp === 'yes').length;
      return stamped === N;
    }, 600_000, 'every ConfigMap stamped').catch(async (err: Error) => {
      throw new Error(`${err.message}: ${stamped} stamped; ${await diagnose(ds)}`, { cause: err });
    });
    const texts = await fx.admin.eventually(async () => {
      const t = await Promise.all(ds.map(metrics));
      return t.reduce((n, x) => n + metricSum(x, 'reflex_rule_evaluations_total'), 0) >= 10 * N ? t : undefined;
    }, 300_000, '100,000 evaluations');
    console.log(`      (${N} objects created in ${((created - t0) / 1000).toFixed(0)} s; all ${10 * N} keys evaluated ${((Date.now() - created) / 1000).toFixed(0)} s later)`);
    const evaluations = texts.map((t) => metricSum(t, 'reflex_rule_evaluations_total'));
    expect(evaluations.reduce((a, b) => a + b, 0), 'each (rule, object) key evaluated once, on one replica').to.equal(10 * N);
    for (const n of evaluations) expect(n, 'every replica took its share').to.be.greaterThan(2 * N);
    const done = texts.reduce((n, t) => n + metricSum(t, 'reflex_actions_total', 'outcome="done"'), 0);
    expect(done, 'every action done exactly once').to.equal(10 * N);
  });

  it('rebalances on 3 → 4 within 10 s and 4 → 3 by SIGTERM within 5 s, losing no trigger; after SIGKILL the buckets move once the leases expire', async () => {
    // Besides the copy, a rule that evaluates every trigger on every sweep (its condition is
    // always true, its action only logs): a taken bucket's keys are evaluated by the new owner, so
    // per-key traces show the same keys on the old owner and then on the new one.
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-copy', `${copyOnceRule(fx)}---\n${noteRule(fx)}`));
    const ds = [await start({ traced: true }), await start({ traced: true }), await start({ traced: true })];
    await balanced(ds, 21, 22, 30_000);
    let created = 0;
    const wave = async (n: number) => {
      await createMany(fx, n, (i) => ({ metadata: { name: `t-${created + i}`, labels: { app: 'trigger' } } }));
      created += n;
    };
    await wave(100);

    const fourth = await start({ traced: true });
    const joinedAt = Date.now();
    const creating = wave(200); // triggers keep coming while buckets move
    await balanced([...ds, fourth], 16, 16, 10_000);
    expect(Date.now() - joinedAt).to.be.at.most(10_000);
    const barrierJoin = await caughtUp([...ds, fourth], LEASE_SECONDS * 1000 + 5000);
    await creating;

    const leaving = ds.shift()!;
    const leavingName = `replica-${daemons.indexOf(leaving) + 1}`;
    const leavers = [...(await bucketHolders())].filter(([, h]) => isOf(leaving, h)).map(([b]) => b);
    expect(leavers.length, 'the leaving replica holds its share').to.be.within(15, 17);
    const creating2 = wave(200);
    await leaving.stop('SIGTERM');
    const exitedAt = Date.now();
    daemons.splice(daemons.indexOf(leaving), 1);
    const remaining = [...ds, fourth];
    // Its buckets are taken (by a live replica) within 5 s of it exiting.
    await fx.admin.eventually(async () => {
      const h = await bucketHolders();
      return leavers.every((b) => remaining.some((d) => isOf(d, h.get(b) ?? '')));
    }, 5_000, 'the leaving replica’s buckets taken by the others');
    const takenMs = Date.now() - exitedAt;
    // The survivors may move a few buckets among themselves to even the loads: balanced soon after.
    await balanced(remaining, 21, 22, 30_000);
    const barrierLeave = await caughtUp(remaining, LEASE_SECONDS * 1000 + 5000);
    await creating2;

    // No key was evaluated by two replicas at once: per key, the spans of different replicas
    // (start and end of each evaluation, by the traces' timestamps) never overlap.
    const overlaps = overlapping(spans);
    expect(overlaps, `keys evaluated by two replicas at once: ${JSON.stringify(overlaps.slice(0, 3))}`).to.deep.equal([]);
    const handedKeys = keysOnTwo(spans, leavingName);
    const perReplica = spans.reduce<Record<string, number>>((m, x) => ((m[x.replica] = (m[x.replica] ?? 0) + 1), m), {});
    expect(handedKeys, `keys the leaving replica evaluated were evaluated again by their new owner (the check saw handovers); spans ${JSON.stringify(perReplica)}, leaving ${leavingName}`).to.be.greaterThan(0);

    // The kill comes between actions (every trigger copied so far): an action in flight at a
    // SIGKILL may run again on the new owner (see docs/daemon.md, "Exactly once").
    await fx.admin.eventually(async () => {
      const list = await fx.admin.ok<{ items: unknown[] }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps?labelSelector=copied-from`);
      return list.items.length >= created;
    }, 90_000, 'the copies so far').catch(async (err: Error) => {
      throw new Error(`${err.message}: ${await diagnose(remaining)}`, { cause: err });
    });
    const killed = remaining.shift()!;
    await killed.stop('SIGKILL');
    daemons.splice(daemons.indexOf(killed), 1);
    const killedAt = Date.now();
    await wave(100); // created while the killed replica's buckets have no owner
    await balanced(remaining, 32, 32, (LEASE_SECONDS + 10) * 1000);
    expect(Date.now() - killedAt, 'moved after lease expiry plus a few rounds').to.be.at.least((LEASE_SECONDS - 1) * 1000);
    const barrierKill = await caughtUp(remaining, LEASE_SECONDS * 1000 + 5000);

    // Every trigger copied: none was lost while buckets moved.
    let found = 0;
    await fx.admin.eventually(async () => {
      const list = await fx.admin.ok<{ items: unknown[] }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps?labelSelector=copied-from`);
      found = list.items.length;
      return found >= created;
    }, 90_000, `${created} copies`).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${found} found; ${await diagnose(remaining)}`, { cause: err });
    });
    const copies = await fx.admin.ok<{ items: { metadata: { labels: Record<string, string> } }[] }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps?labelSelector=copied-from`);
    const per = new Map<string, number>();
    for (const c of copies.items) per.set(c.metadata.labels['copied-from']!, (per.get(c.metadata.labels['copied-from']!) ?? 0) + 1);
    expect(per.size, 'every trigger copied: none lost through the handovers').to.equal(created);
    // And none twice: each new owner waited for its caches to hold what the previous owner wrote.
    const repeated = [...per].filter(([, n]) => n > 1).map(([t]) => t);
    expect(repeated, `triggers copied more than once (of ${created})`).to.deep.equal([]);
    expect(overlapping(spans), 'after the SIGKILL too, no key on two replicas at once').to.deep.equal([]);
    const barrier = await Promise.all(remaining.map(async (d) => metricSum(await metrics(d), 'reflex_shard_cache_barrier_seconds_count', 'outcome="timed-out"')));
    console.log(`      (the leaving replica's ${leavers.length} buckets were taken ${takenMs} ms after it exited; ${spans.length} evaluations traced; ${handedKeys} keys evaluated before and after the SIGTERM handover; cache barrier passed ${barrierJoin} / ${barrierLeave} / ${barrierKill} ms after the buckets were taken (join, SIGTERM, SIGKILL); barrier time-outs per replica ${JSON.stringify(barrier)})`);
  });
});

/** Creates `n` ConfigMaps, 25 requests at a time. */
async function createMany(fx: ClusterFixture, n: number, body: (i: number) => { metadata: Record<string, unknown> }): Promise<void> {
  let next = 0;
  const one = async (): Promise<void> => {
    for (let i = next++; i < n; i = next++) await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', ...body(i) });
  };
  await Promise.all(Array.from({ length: 25 }, one));
}

/** One evaluation of one key on one replica, from a decision trace. */
interface Span {
  replica: string;
  key: string;
  start: number;
  end: number;
}

/** Subscribes to a replica's decision traces (loopback: no token) and records each as a span. */
async function traceSpans(d: DaemonProcess, replica: string, into: Span[]): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${d.tracesPort}/traces`);
  ws.on('message', (data) => {
    const t = JSON.parse(String(data)) as { time: string; durationMs: number; rule: string; object: { namespace?: string; name: string } };
    const start = Date.parse(t.time);
    into.push({ replica, key: `${t.rule}|${t.object.namespace ?? ''}/${t.object.name}`, start, end: start + t.durationMs });
  });
  ws.on('error', () => undefined); // the replica going away closes it
  await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
  return ws;
}

/** Pairs of spans of one key on two replicas that overlap in time. */
function overlapping(spans: Span[]): [Span, Span][] {
  const byKey = new Map<string, Span[]>();
  for (const s of spans) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
  const out: [Span, Span][] = [];
  for (const list of byKey.values()) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length && list[j]!.start < list[i]!.end; j++) if (list[j]!.replica !== list[i]!.replica) out.push([list[i]!, list[j]!]);
    }
  }
  return out;
}

/** Keys evaluated by `replica` and by another one. */
function keysOnTwo(spans: Span[], replica: string): number {
  const by = new Map<string, Set<string>>();
  for (const s of spans) by.set(s.key, (by.get(s.key) ?? new Set()).add(s.replica));
  return [...by.values()].filter((r) => r.has(replica) && r.size > 1).length;
}

function stampRule(fx: ClusterFixture): string {
  return `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: stamp }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: app=load }
  on: [sync, create]
  actions:
    - patch: { patch: { metadata: { annotations: { stamp: "yes" } } } }
`;
}

/** Evaluates every trigger on every event and sweep; only logs. */
function noteRule(fx: ClusterFixture): string {
  return `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: note }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: app=trigger }
  on: [sync, create, update]
  actions:
    - log: { level: debug, message: "saw {{ metadata.name }}" }
`;
}

/** Creates one copy per trigger (generateName: a second run would make a second copy) and marks the trigger. */
function copyOnceRule(fx: ClusterFixture): string {
  return `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: copy-once }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: app=trigger }
  on: [sync, create, update]
  limits: { maxActionsPerRun: 10000 }
  when: "$not(metadata.annotations.copied = 'yes')"
  actions:
    - create:
        object:
          apiVersion: v1
          kind: ConfigMap
          metadata: { generateName: copy-, namespace: ${fx.ns}, labels: { copied-from: "{{ metadata.name }}" } }
    - patch: { patch: { metadata: { annotations: { copied: "yes" } } } }
`;
}
