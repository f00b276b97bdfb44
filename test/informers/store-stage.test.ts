import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { createStore, reflect, type WatcherEvent, type Writer } from '../../src/informers/index.js';
import { cm } from './memory-lister-watcher.js';

const at = (o: KubeObject, rv: string): KubeObject => ({ ...o, metadata: { ...o.metadata, resourceVersion: rv } });

/** The events as the watcher hands them over: one batch per event (as a watch does). */
async function* events(...evs: WatcherEvent[]): AsyncGenerator<WatcherEvent[]> {
  for (const ev of evs) yield [ev];
}

describe('store: staging a listing', () => {
  it('transforms each staged object once, and replace stores it as staged', () => {
    let calls = 0;
    const [store, writer] = createStore({ transform: (o) => (calls++, { ...o, metadata: { ...o.metadata, labels: { seen: String(calls) } } }) });
    const staged = writer.stage(at(cm('n', 'x'), '1'));
    writer.replace([staged], '1', true);
    expect(calls).to.equal(1);
    expect(store.get('n/x')).to.equal(staged);
    expect(store.get('n/x')?.metadata?.labels).to.deep.equal({ seen: '1' });
  });

  it('still transforms objects given to replace without staging', () => {
    const [store, writer] = createStore();
    const raw = { ...at(cm('n', 'x'), '1'), metadata: { ...at(cm('n', 'x'), '1').metadata, managedFields: [{ manager: 'm' }] } };
    writer.replace([raw], '1');
    expect(store.get('n/x')?.metadata).to.not.have.property('managedFields');
  });

  it('buffers a listing already transformed: no listed object is held with its managedFields', async () => {
    const [store, writer] = createStore();
    const raw = (name: string): KubeObject => ({ ...cm('n', name), metadata: { name, namespace: 'n', resourceVersion: '5', managedFields: [{ manager: 'm' }] } });
    let handed: KubeObject[] = [];
    const spy: Writer = {
      apply: (o) => writer.apply(o),
      delete: (o) => writer.delete(o),
      setResourceVersion: (rv) => writer.setResourceVersion(rv),
      stage: (o) => writer.stage(o),
      replace: (objs, rv, staged) => ((handed = objs), writer.replace(objs, rv, staged)),
    };
    const listing = events({ type: 'Init' }, { type: 'InitApply', object: raw('a') }, { type: 'InitApply', object: raw('b') }, { type: 'InitDone', resourceVersion: '5' });
    const changes = [];
    for await (const batch of reflect(spy, listing)) changes.push(...batch);
    expect(handed.map((o) => o.metadata?.managedFields)).to.deep.equal([undefined, undefined]);
    expect(changes.filter((c) => c.type === 'add')).to.have.length(2);
    expect(store.get('n/a')).to.equal(handed[0]);
  });
});
