/**
 * recheckAt end to end: the shipped ttl-cleanup rule run by the daemon as a child process against
 * the real control plane, with no resync. Deletions are timed by a watch of the namespace.
 */
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { createClient, type KubeClient } from '../../src/client/index.js';
import type { KubeObject } from '../../src/core/index.js';
import { SharedInformerFactory } from '../../src/informers/index.js';
import { useCluster, type ClusterFixture } from '../support/cluster.js';
import { repoRoot } from '../support/control-plane.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { runReflex } from '../support/reflex-cli.js';
import { metricValue, writeConfig } from './daemon-support.js';

/** The shipped rule, its watches narrowed to `ns` (the control plane is shared with other tests). */
function ttlRuleIn(ns: string): string {
  const doc = load(readFileSync(join(repoRoot, 'rules', 'ttl-cleanup.yaml'), 'utf8')) as { spec: { watch: Record<string, unknown>[] } };
  doc.spec.watch = doc.spec.watch.map((w) => ({ ...w, namespaces: [ns] }));
  const config = writeConfig(''); // a fresh directory
  const file = join(config, '..', 'ttl-cleanup.yaml');
  writeFileSync(file, dump(doc));
  return file;
}

/** Times of DELETED events per `Kind/name`, from a watch of the namespace's kinds. */
class Deletions {
  readonly at = new Map<string, number>();
  private readonly ac = new AbortController();
  private constructor(private readonly client: KubeClient, private readonly factory: SharedInformerFactory) {}

  static async watch(fx: ClusterFixture, kinds: { apiVersion: string; kind: string }[]): Promise<Deletions> {
    const client = await createClient({ kubeconfig: fx.cp.kubeconfig });
    const factory = new SharedInformerFactory(client);
    const d = new Deletions(client, factory);
    for (const k of kinds) {
      const inf = factory.informerFor({ ...k, namespace: fx.ns });
      inf.addHandler({ delete: (o: KubeObject) => d.at.set(`${o.kind}/${o.metadata?.name}`, Date.now()) });
    }
    factory.start(d.ac.signal);
    for (const inf of factory.list()) await inf.waitForSync(d.ac.signal);
    return d;
  }

  async close(): Promise<void> {
    this.ac.abort();
    await this.factory.shutdown();
    await this.client.close();
  }
}

/** CPU seconds (user + system) the process has used, from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

describe('recheckAt: exact TTLs with the shipped ttl-cleanup rule (daemon as a child process)', function () {
  this.timeout(240_000);
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  let deletions: Deletions | undefined;
  let ruleFile: string;
  const start = async () => {
    const config = writeConfig(`namespace: ${fx.ns}
rules:
  paths: [${ruleFile}]
  configMaps: {enabled: false}
leaderElection: {enabled: false}
`);
    daemon = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', config] });
    return daemon;
  };
  beforeEach(() => {
    ruleFile = ttlRuleIn(fx.ns);
  });
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    await deletions?.close();
    deletions = undefined;
  });

  const base = () => `/api/v1/namespaces/${fx.ns}/configmaps`;
  const configMap = (name: string, annotations: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: fx.ns, annotations } });
  const created = async (path: string, body: unknown) => Date.parse((await fx.admin.ok<{ metadata: { creationTimestamp: string } }>('POST', path, body)).metadata.creationTimestamp);
  const deletedAt = (key: string, timeoutMs: number) => fx.admin.eventually(async () => deletions!.at.get(key), timeoutMs, `${key} deleted`);
  const rechecksPending = async () => metricValue((await daemon!.get('/metrics', 'metrics')).text, 'reflex_rule_rechecks_pending', 'rule="ttl-cleanup"') ?? 0;

  it('deletes a ConfigMap with janitor/ttl: 20s 20–21 s after its creation, and idles while it waits', async () => {
    deletions = await Deletions.watch(fx, [{ apiVersion: 'v1', kind: 'ConfigMap' }]);
    const d = await start();
    const ct = await created(base(), configMap('twenty', { 'janitor/ttl': '20s' }));
    await fx.admin.eventually(async () => (await rechecksPending()) === 1, 10_000, 'one re-check pending');
    const cpu0 = cpuSeconds(d.pid);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 8000)); // the idle window being measured, not a wait for a result
    const idle = { cpu: cpuSeconds(d.pid) - cpu0, wall: (Date.now() - t0) / 1000 };
    const after = (await deletedAt('ConfigMap/twenty', 30_000)) - ct;
    console.log(`      deleted ${after} ms after creation; CPU while waiting: ${idle.cpu.toFixed(2)} s over ${idle.wall.toFixed(1)} s`);
    expect(after).to.be.within(20_000, 21_000);
    expect(idle.cpu / idle.wall).to.be.below(0.05);
    expect(await rechecksPending()).to.equal(0);
  });

  it('moves the deletion when the TTL is edited to a later time, and keeps the time across a restart', async () => {
    deletions = await Deletions.watch(fx, [{ apiVersion: 'v1', kind: 'ConfigMap' }]);
    await start();
    const moved = await created(base(), configMap('moved', { 'janitor/ttl': '8s' }));
    const restarted = await created(base(), configMap('restarted', { 'janitor/ttl': '16s' }));
    await fx.admin.eventually(async () => (await rechecksPending()) === 2, 10_000, 'two re-checks pending');
    await fx.admin.ok('PATCH', `${base()}/moved`, { metadata: { annotations: { 'janitor/ttl': '14s' } } }, 'application/merge-patch+json');
    await daemon!.stop();
    await new Promise((r) => setTimeout(r, 2000)); // the daemon is down for a while
    await start();
    const movedAfter = (await deletedAt('ConfigMap/moved', 30_000)) - moved;
    const restartedAfter = (await deletedAt('ConfigMap/restarted', 30_000)) - restarted;
    expect(movedAfter).to.be.within(14_000, 15_000);
    expect(restartedAfter).to.be.within(16_000, 17_000);
  });

  it('honours janitor/expires in every form, deletes each kind of one rule, and leaves a garbage value alone saying why', async () => {
    const kinds = [
      { apiVersion: 'v1', kind: 'ConfigMap' },
      { apiVersion: 'v1', kind: 'Secret' },
      { apiVersion: 'v1', kind: 'Service' },
    ];
    deletions = await Deletions.watch(fx, kinds);
    await start();
    const soon = new Date(Date.now() + 8000);
    const compact = soon.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '');
    const expiresAt = Date.parse(soon.toISOString().replace(/\.\d+Z$/, 'Z'));
    await fx.admin.ok('POST', base(), configMap('garbage', { 'janitor/ttl': 'forever' }));
    await fx.admin.ok('POST', base(), configMap('janitor-form', { 'janitor/expires': '2019-02-28T20:40' }));
    await fx.admin.ok('POST', base(), configMap('kyverno-form', { 'janitor/expires': '2023-10-04T003000Z' }));
    await fx.admin.ok('POST', base(), configMap('compact-soon', { 'janitor/expires': compact }));
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', annotations: { 'janitor/ttl': '5s' } } });
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc', annotations: { 'janitor/ttl': '5s' } },
      spec: { ports: [{ port: 80 }] },
    });
    await deletedAt('ConfigMap/janitor-form', 10_000);
    await deletedAt('ConfigMap/kyverno-form', 10_000);
    await deletedAt('Secret/s', 15_000);
    await deletedAt('Service/svc', 15_000);
    expect((await deletedAt('ConfigMap/compact-soon', 20_000)) - expiresAt).to.be.within(0, 1000);
    // Created first and evaluated long since: still there.
    expect((await fx.admin.call('GET', `${base()}/garbage`)).status).to.equal(200);
    const explained = await runReflex(['explain', '--rules', ruleFile, '--object', `ConfigMap/${fx.ns}/garbage`, '--kubeconfig', fx.cp.kubeconfig]);
    expect(explained.code, explained.err).to.equal(0);
    expect(explained.out).to.contain('✘ $exists($duration(metadata.annotations."janitor/ttl"))  → false');
    expect(explained.out).to.contain('recheckAt:');
    expect(explained.out).to.contain('no re-check (no time)');
    expect(explained.out).to.contain('verdict: no action, because when is false');
  });

  it('deletes each of 1,000 ConfigMaps with TTLs spread over 60 s within 1 s of its time', async () => {
    deletions = await Deletions.watch(fx, [{ apiVersion: 'v1', kind: 'ConfigMap' }]);
    await start();
    const n = 1000;
    const due = new Map<string, number>();
    const names = Array.from({ length: n }, (_, i) => `many-${i}`);
    for (let i = 0; i < n; i += 25) {
      await Promise.all(
        names.slice(i, i + 25).map(async (name, j) => {
          const ttlMs = 30_000 + ((i + j) * 60_000) / n; // 30 s … 90 s
          const ct = await created(base(), configMap(name, { 'janitor/ttl': `${ttlMs}ms` }));
          due.set(`ConfigMap/${name}`, ct + ttlMs);
        }),
      );
    }
    await fx.admin.eventually(async () => (deletions!.at.size >= n ? true : undefined), 150_000, `${n} deletions`);
    const lags = [...due].map(([key, at]) => deletions!.at.get(key)! - at).sort((a, b) => a - b);
    const pct = (p: number) => lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))];
    console.log(`      deletion lag after the due time: min ${lags[0]} ms, p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${lags.at(-1)} ms`);
    expect(lags[0]).to.be.at.least(0);
    expect(lags.at(-1)).to.be.at.most(1000);
  });
});
