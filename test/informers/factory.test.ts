import { expect } from 'chai';
import { FakeClock, type KubeList } from '../../src/core/index.js';
import { KubeApiError, type KubeClient, type ListOptions, type ResourceTarget, type WatchEvent, type WatchOptions } from '../../src/client/index.js';
import { SharedInformerFactory } from '../../src/informers/index.js';
import { until } from './harness.js';

/** A KubeClient that records list and watch calls and serves an empty resource; `refuse` answers streaming lists 422. */
function recordingClient(refuse = false) {
  const lists: Array<[ResourceTarget, ListOptions | undefined]> = [];
  const watches: Array<[ResourceTarget, WatchOptions | undefined]> = [];
  const client = {
    server: 'https://memory',
    namespace: 'default',
    async list(target: ResourceTarget, options?: ListOptions): Promise<KubeList> {
      lists.push([target, options]);
      return { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '7' }, items: [] };
    },
    async *watch(target: ResourceTarget, options?: WatchOptions): AsyncIterable<WatchEvent> {
      watches.push([target, options]);
      if (options?.sendInitialEvents && refuse) {
        throw new KubeApiError({ verb: 'watch', resource: target.kind, server: 'https://memory' }, 422, { kind: 'Status', code: 422, reason: 'Invalid', message: 'sendInitialEvents is forbidden' });
      }
      if (options?.sendInitialEvents) {
        yield { type: 'BOOKMARK', object: { apiVersion: 'v1', kind: target.kind, metadata: { resourceVersion: '9', annotations: { 'k8s.io/initial-events-end': 'true' } } } };
      }
      await new Promise<void>((resolve) => options?.signal?.addEventListener('abort', () => resolve(), { once: true }));
      yield* [] as WatchEvent[]; // a quiet watch: no events until aborted
    },
  } as unknown as KubeClient;
  return { client, lists, watches };
}

describe('SharedInformerFactory', () => {
  it('shares one informer per resource, namespace, label selector, field selector and metadata-only flag', () => {
    const f = new SharedInformerFactory(recordingClient().client);
    const a = f.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'x' });
    expect(f.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'x' })).to.equal(a);
    const others = [
      { apiVersion: 'v1', kind: 'ConfigMap' },
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'y' },
      { apiVersion: 'v1', kind: 'Secret', namespace: 'x' },
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'x', labelSelector: 'app=web' },
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'x', fieldSelector: 'metadata.name=a' },
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'x', metadataOnly: true },
    ];
    for (const t of others) expect(f.informerFor(t)).to.not.equal(a);
    expect(f.list()).to.have.length(7);
  });

  it('starts informers asked for after start, syncs them, and closes their watches on shutdown', async () => {
    const { client, lists, watches } = recordingClient();
    const f = new SharedInformerFactory(client, { clock: new FakeClock(), streamingList: false });
    f.start();
    const inf = f.informerFor({ apiVersion: 'v1', kind: 'Pod', namespace: 'ns', labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1' });
    expect(await f.waitForSync()).to.equal(true);
    expect(inf.hasSynced()).to.equal(true);
    expect(lists[0][0]).to.deep.equal({ apiVersion: 'v1', kind: 'Pod', namespace: 'ns' });
    expect(lists[0][1]).to.include({ labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1', limit: 500 });
    await until(() => watches.length === 1, 'watching');
    expect(watches[0][1]).to.include({ resourceVersion: '7', allowWatchBookmarks: true, labelSelector: 'app=web' });
    await f.shutdown();
    expect(watches[0][1]?.signal?.aborted).to.equal(true);
  });

  it('asks the server for metadata only when the informer is metadata-only', async () => {
    const { client, lists, watches } = recordingClient();
    const f = new SharedInformerFactory(client, { clock: new FakeClock(), streamingList: false });
    f.informerFor({ apiVersion: 'apps/v1', kind: 'Deployment', metadataOnly: true });
    f.start();
    await f.waitForSync();
    await until(() => watches.length === 1, 'watching');
    expect(lists[0][1]).to.include({ metadataOnly: true });
    expect(watches[0][1]).to.include({ metadataOnly: true });
    await f.shutdown();
  });

  it('syncs through a streaming list: initial events, NotOlderThan, the closing bookmark, and the same stream as the watch', async () => {
    const { client, lists, watches } = recordingClient();
    const f = new SharedInformerFactory(client, { clock: new FakeClock(), streamingList: true });
    const inf = f.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', labelSelector: 'app=web' });
    f.start();
    expect(await f.waitForSync()).to.equal(true);
    expect(lists).to.have.length(0);
    expect(watches).to.have.length(1);
    expect(watches[0][1]).to.include({ sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', resourceVersion: '0', allowWatchBookmarks: true, labelSelector: 'app=web' });
    expect(inf.store.resourceVersion).to.equal('9');
    await f.shutdown();
  });

  it('finds out once per server that streaming lists are refused: later informers list with LIST at once', async () => {
    const { client, lists, watches } = recordingClient(true);
    const f = new SharedInformerFactory(client, { clock: new FakeClock(), streamingList: true });
    f.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'a' });
    f.start();
    expect(await f.waitForSync()).to.equal(true);
    f.informerFor({ apiVersion: 'v1', kind: 'Secret', namespace: 'b' });
    expect(await f.waitForSync()).to.equal(true);
    await until(() => watches.length === 3, 'both watching');
    expect(watches.map(([t, o]) => `${t.kind} ${o?.sendInitialEvents ? 'streaming list' : `watch from ${o?.resourceVersion}`}`)).to.deep.equal([
      'ConfigMap streaming list',
      'ConfigMap watch from 7',
      'Secret watch from 7',
    ]);
    expect(lists.map(([t]) => t.kind)).to.deep.equal(['ConfigMap', 'Secret']);
    await f.shutdown();
  });
});
