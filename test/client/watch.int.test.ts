import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { createClient, type DynamicClient, type WatchEvent } from '../../src/client/index.js';
import { useCluster } from '../support/cluster.js';

describe('client watch against the control plane', function () {
  this.timeout(60_000);
  const fx = useCluster();
  let client: DynamicClient;
  beforeEach(async () => {
    client = await createClient({ kubeconfig: fx.cp.kubeconfig, qps: 0 });
  });
  afterEach(() => client.close());

  const CM = () => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns });
  const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: fx.ns }, data });

  it('receives exactly the changes made after the resourceVersion it starts from', async () => {
    await client.create(cm('before'));
    const rv = (await client.list(CM())).metadata.resourceVersion;
    await client.create(cm('added'));
    const before = await client.get<KubeObject>({ ...CM(), name: 'before' });
    await client.update({ ...before, data: { changed: 'yes' } });
    await client.delete({ ...CM(), name: 'added' });
    await client.create(cm('end-marker'));
    const seen: string[] = [];
    for await (const ev of client.watch(CM(), { resourceVersion: rv, timeoutSeconds: 30 })) {
      seen.push(`${ev.type} ${ev.object.metadata?.name}`);
      if (ev.object.metadata?.name === 'end-marker') break;
    }
    expect(seen).to.deep.equal(['ADDED added', 'MODIFIED before', 'DELETED added', 'ADDED end-marker']);
  });

  it('streams the initial state and then a bookmark when bookmarks and initial events are asked for', async () => {
    await client.create(cm('a'));
    await client.create(cm('b'));
    const events: WatchEvent[] = [];
    for await (const ev of client.watch(CM(), { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true, timeoutSeconds: 30 })) {
      events.push(ev);
      if (ev.type === 'BOOKMARK') break;
    }
    expect(events.map((e) => e.type)).to.deep.equal(['ADDED', 'ADDED', 'BOOKMARK']);
    const bookmark = events[2].object;
    expect(bookmark.metadata?.annotations?.['k8s.io/initial-events-end']).to.equal('true');
    expect(Number(bookmark.metadata?.resourceVersion)).to.be.greaterThan(0);
  });

  it('releases the watch connection when the watch is aborted, as the pool statistics show', async () => {
    await client.list(CM()); // warm up discovery on the ordinary pool
    const ac = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const ev of client.watch(CM(), { signal: ac.signal })) seen.push(`${ev.type} ${ev.object.metadata?.name}`);
    })();
    await fx.admin.eventually(async () => client.poolStats().watches.running === 1, 10_000, 'the watch to start');
    await client.create(cm('during'));
    await fx.admin.eventually(async () => seen.length === 1, 10_000, 'the ADDED event');
    expect(client.poolStats().watches).to.deep.include({ connected: 1, running: 1 });
    ac.abort();
    await done;
    const stats = await fx.admin.eventually(async () => {
      const w = client.poolStats().watches;
      return w.connected === 0 && w.running === 0 && w.size === 0 ? w : undefined;
    }, 5_000, 'the watch connection to be released');
    expect(stats).to.deep.equal({ connected: 0, free: 0, pending: 0, queued: 0, running: 0, size: 0 });
    expect(seen).to.deep.equal(['ADDED during']);
  });
});
