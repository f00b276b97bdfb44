import { expect } from 'chai';
import type { KubeClient } from '../../src/client/index.js';
import { SharedInformer, WatchdogTimeoutError, listWatcherFor, type SharedInformerOptions } from '../../src/informers/index.js';
import { useCluster, type ClusterFixture } from '../support/cluster.js';
import { HandlerModel, adminClient, compactEtcd, configMap, expectConverged, inParallel } from './cluster-helpers.js';
import { LoopbackProxy } from './tcp-proxy.js';

/** Waits until the API server answers /readyz again (after a stop or restart). */
async function serverReady(fx: ClusterFixture): Promise<void> {
  await fx.admin.eventually(async () => (await fx.admin.call('GET', '/readyz').catch(() => ({ status: 0 }))).status === 200, 60_000, 'API server ready');
}

/** The two ways an informer lists: every fault test runs on both. */
const listPaths = [
  { path: 'LIST', streamingList: false },
  { path: 'streaming list', streamingList: true },
] as const;

for (const { path, streamingList } of listPaths) describe(`shared informer faults, listing by ${path} (control plane)`, function () {
  this.timeout(240_000);
  const fx = useCluster();
  const cleanups: Array<() => Promise<void>> = [];

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** Starts an informer on this test's ConfigMaps with a recording handler. */
  async function start(options: SharedInformerOptions = {}, via?: string) {
    const client: KubeClient = await adminClient(fx, via);
    const informer = new SharedInformer(listWatcherFor(client, { apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns }), { streamingList, ...options });
    const model = new HandlerModel();
    informer.addHandler(model.handler);
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    cleanups.push(async () => {
      ac.abort();
      await running;
      await client.close();
    });
    expect(await informer.waitForSync(AbortSignal.timeout(60_000))).to.equal(true);
    expect(informer.stats().streamedLists, `listed by ${path}`).to.equal(streamingList ? 1 : 0);
    return { informer, model };
  }

  const cmPath = () => `/api/v1/namespaces/${fx.ns}/configmaps`;
  const patch = (name: string, data: Record<string, string>) =>
    fx.admin.ok('PATCH', `${cmPath()}/${name}`, { data }, 'application/merge-patch+json');

  it('recovers by itself when the control plane stops and comes back, and catches up with later changes', async () => {
    for (const n of ['a', 'b', 'c']) await fx.admin.ok('POST', cmPath(), configMap(n, { v: '0' }));
    const { informer, model } = await start();
    model.since();
    try {
      await fx.cp.pause();
      await fx.admin.eventually(async () => informer.stats().errors >= 1, 60_000, 'the informer to notice the outage');
    } finally {
      await fx.cp.resume();
    }
    await serverReady(fx);
    await fx.admin.ok('POST', cmPath(), configMap('d', { v: '0' }));
    await patch('a', { v: '1' });
    await fx.admin.ok('DELETE', `${cmPath()}/b`);
    await expectConverged(fx, informer, model, fx.ns, 90_000);
    expect(model.since().sort()).to.deep.equal([`add ${fx.ns}/d`, `delete ${fx.ns}/b`, `update ${fx.ns}/a {"v":"1"}`]);
  });

  it('relists after a 410 and reports exactly the adds, updates and deletes made during the gap', async () => {
    const proxy = await LoopbackProxy.start(fx.cp.state.server);
    cleanups.push(() => proxy.close());
    for (const n of ['keep', 'change', 'gone']) await fx.admin.ok('POST', cmPath(), configMap(n, { v: '0' }));
    const { informer, model } = await start({}, proxy.url());
    expect(model.since()).to.have.length(3);

    proxy.partition();
    await fx.admin.eventually(async () => informer.stats().errors >= 1, 30_000, 'the informer to lose its watch');
    await fx.admin.ok('POST', cmPath(), configMap('fresh', { v: '0' }));
    await patch('change', { v: '1' });
    await fx.admin.ok('DELETE', `${cmPath()}/gone`);
    await compactEtcd(fx);
    // A restarted API server builds its watch cache after the compaction: the informer's resourceVersion is now too old.
    await fx.cp.restart();
    await serverReady(fx);
    const listsBefore = informer.stats().lists;
    proxy.heal();

    await expectConverged(fx, informer, model, fx.ns, 90_000);
    expect(informer.stats().lists).to.equal(listsBefore + 1);
    expect(informer.stats().streamedLists, `relisted by ${path}`).to.equal(streamingList ? listsBefore + 1 : 0);
    expect(model.since().sort()).to.deep.equal([`add ${fx.ns}/fresh`, `delete ${fx.ns}/gone`, `update ${fx.ns}/change {"v":"1"}`]);
  });

  it('sees each of 5,000 objects created in bursts exactly once as an add', async () => {
    const { informer, model } = await start();
    const total = 5000;
    const burst = 500;
    for (let start = 0; start < total; start += burst) {
      const names = Array.from({ length: burst }, (_, i) => `burst-${String(start + i).padStart(4, '0')}`);
      await inParallel(names, 24, (n) => fx.admin.ok('POST', cmPath(), configMap(n, { i: n })));
    }
    await expectConverged(fx, informer, model, fx.ns, 120_000);
    expect(model.adds.size).to.equal(total);
    expect([...model.adds.values()].every((n) => n === 1)).to.equal(true);
    expect(model.log.filter((l) => !l.startsWith('add '))).to.deep.equal([]);
  });

  it('detects a watch stalled by the network and restarts it within the watchdog interval', async () => {
    const watchdogMs = 4000;
    const proxy = await LoopbackProxy.start(fx.cp.state.server);
    cleanups.push(() => proxy.close());
    await fx.admin.ok('POST', cmPath(), configMap('before'));
    const { informer, model } = await start({ watchdogMs }, proxy.url());
    // A change seen through the watch proves the stream is flowing before it is stalled.
    await fx.admin.ok('POST', cmPath(), configMap('watched'));
    await fx.admin.eventually(async () => informer.store.get(`${fx.ns}/watched`) !== undefined, 30_000, 'a watched change');
    const acceptedBefore = proxy.accepted;
    const errorsBefore = informer.stats().errors;

    const stalledAt = Date.now();
    proxy.stallOpen();
    await fx.admin.ok('POST', cmPath(), configMap('after'));
    await fx.admin.eventually(async () => informer.store.get(`${fx.ns}/after`) !== undefined, 30_000, 'the change made after the stall');
    const seenAfter = Date.now() - stalledAt;
    const stats = informer.stats();

    expect(stats.lastError, 'the recorded failure').to.be.instanceOf(WatchdogTimeoutError);
    expect(stats.errors - errorsBefore, 'failures since the stall').to.equal(1);
    expect(seenAfter, 'ms until the change got through (the stall was real)').to.be.at.least(watchdogMs - 1000);
    expect(seenAfter, 'ms until the stalled watch was replaced').to.be.below(watchdogMs + 2000);
    expect(proxy.accepted, 'a new connection was opened').to.be.above(acceptedBefore);
    await expectConverged(fx, informer, model, fx.ns);
  });
});
