import { expect } from 'chai';
import { FakeClock, type KubeObject } from '../../src/core/index.js';
import { CacheBarrier, cacheId, compareResourceVersions, type WatchedCache } from '../../src/daemon/shard-barrier.js';
import type { InformerTarget } from '../../src/informers/index.js';

/** A cache as the barrier reads it: objects by key and the resourceVersion its watch reached. */
class FakeCache implements WatchedCache {
  readonly objects = new Map<string, KubeObject>();
  /** The resourceVersion its watch reached. */
  readonly at = { rv: '100' };
  readonly informer: WatchedCache['informer'];
  constructor(readonly target: InformerTarget) {
    const { objects, at } = this;
    this.informer = {
      store: {
        get: (k: string) => objects.get(k),
        keys: () => [...objects.keys()],
        get resourceVersion() {
          return at.rv;
        },
      },
    } as unknown as WatchedCache['informer'];
  }
  put(name: string, rv: string, labels: Record<string, string> = { app: 'trigger' }): void {
    this.objects.set(`ns/${name}`, cm(name, rv, labels));
    this.at.rv = rv;
  }
}

function cm(name: string, rv: string, labels: Record<string, string> = { app: 'trigger' }): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'ns', name, resourceVersion: rv, labels } };
}

/** The server as the barrier asks it: its current resourceVersion and a listing. */
function fakeServer(state: { rv: string; items: KubeObject[] }) {
  const calls: { limit?: number; labelSelector?: string }[] = [];
  return {
    calls,
    client: {
      list: async (_r: unknown, o: { limit?: number; labelSelector?: string }) => {
        calls.push(o);
        return { metadata: { resourceVersion: state.rv }, items: o.limit === 1 ? state.items.slice(0, 1) : state.items };
      },
    } as never,
  };
}

/** Runs `p` while advancing the fake clock in steps; returns its value and the time it took. */
async function drive<T>(clock: FakeClock, p: Promise<T>, stepMs = 50, onStep?: (elapsed: number) => void): Promise<{ value: T; ms: number }> {
  const start = clock.now();
  let done = false;
  let value!: T;
  void p.then((v) => ((done = true), (value = v)));
  for (let i = 0; i < 10_000 && !done; i++) {
    await new Promise((r) => setImmediate(r));
    if (done) break;
    clock.advance(stepMs);
    onStep?.(clock.now() - start);
  }
  return { value, ms: clock.now() - start };
}

describe('CacheBarrier', () => {
  const triggers: InformerTarget = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', labelSelector: 'app=trigger' };
  const secrets: InformerTarget = { apiVersion: 'v1', kind: 'Secret', namespace: 'ns' };

  it('compares resourceVersions only when both are decimal integers', () => {
    expect(compareResourceVersions('9', '10')).to.equal(-1);
    expect(compareResourceVersions('123456789012345678901', '123456789012345678900')).to.equal(1);
    expect(compareResourceVersions('a1', '10')).to.equal(undefined);
  });

  it('marks, per cache, the newest write the cache watches, and leaves them for the next holder', () => {
    const clock = new FakeClock(0);
    const t = new FakeCache(triggers);
    const s = new FakeCache(secrets);
    t.put('held', '50', { app: 'other' }); // held but no longer selected: its write arrives as a delete
    const b = new CacheBarrier({ caches: () => [t, s], client: fakeServer({ rv: '1', items: [] }).client, clock, maxWaitMs: 10_000, settleMs: 1000 });
    b.written(3, cm('t-1', '120'));
    b.written(3, cm('t-2', '110'));
    b.written(3, cm('copy-x', '130', {})); // not selected, not held: the trigger cache never sees it
    b.written(3, cm('held', '140', { app: 'other' }));
    b.written(4, cm('t-3', '150'));
    expect(JSON.parse(b.marksOf(3))).to.deep.equal({ [cacheId(triggers)]: '140' });
    expect(JSON.parse(b.marksOf(4))).to.deep.equal({ [cacheId(triggers)]: '150' });
    expect(JSON.parse(b.marksOf(5))).to.deep.equal({});
  });

  it('waits until each cache reached the previous holder’s marks, and carries them on', async () => {
    const clock = new FakeClock(0);
    const t = new FakeCache(triggers);
    const b = new CacheBarrier({ caches: () => [t], client: fakeServer({ rv: '1', items: [] }).client, clock, maxWaitMs: 10_000, settleMs: 1000 });
    const note = JSON.stringify({ [cacheId(triggers)]: '140', unknown: '999' });
    const r = await drive(clock, b.wait([{ bucket: 7, previous: note }]), 50, (ms) => ms >= 500 && t.put('t-1', '141'));
    expect(r.value).to.equal('caught-up');
    expect(r.ms).to.be.within(500, 600);
    expect(JSON.parse(b.marksOf(7))[cacheId(triggers)]).to.equal('140');
    // A cache that never gets there: the wait is bounded.
    const late = await drive(clock, b.wait([{ bucket: 8, previous: JSON.stringify({ [cacheId(triggers)]: '900' }) }]), 100);
    expect(late.value).to.equal('timed-out');
    expect(late.ms).to.be.within(10_000, 10_200);
  });

  it('without marks, compares each cache with the server: at once when it is at the current resourceVersion', async () => {
    const clock = new FakeClock(0);
    const t = new FakeCache(triggers);
    t.put('t-1', '200');
    const server = fakeServer({ rv: '200', items: [cm('t-1', '200')] });
    const b = new CacheBarrier({ caches: () => [t], client: server.client, clock, maxWaitMs: 10_000, settleMs: 1000 });
    const r = await drive(clock, b.wait([{ bucket: 1, previous: undefined }]));
    expect(r.value).to.equal('caught-up');
    expect(r.ms).to.be.at.most(50);
    expect(server.calls).to.deep.include({ limit: 1, metadataOnly: true, signal: undefined });
  });

  it('without marks, an idle cache behind the server is compared object by object', async () => {
    const clock = new FakeClock(0);
    const t = new FakeCache(triggers);
    t.put('t-1', '200');
    t.put('t-2', '210');
    // The server moved on (other kinds were written): this cache's objects are all current.
    const server = fakeServer({ rv: '500', items: [cm('t-1', '200'), cm('t-2', '210')] });
    const b = new CacheBarrier({ caches: () => [t], client: server.client, clock, maxWaitMs: 10_000, settleMs: 1000 });
    const idle = await drive(clock, b.wait([{ bucket: 1, previous: undefined }]));
    expect(idle.value).to.equal('caught-up');
    expect(idle.ms).to.be.within(1000, 1100); // the cheap check's short wait, then one listing
    expect(server.calls.some((c) => c.labelSelector === 'app=trigger' && c.limit === 500)).to.equal(true);

    // One object changed and one deleted on the server that the cache has not seen yet: it waits for both.
    const moved = fakeServer({ rv: '600', items: [cm('t-1', '550')] });
    const b2 = new CacheBarrier({ caches: () => [t], client: moved.client, clock, maxWaitMs: 10_000, settleMs: 1000 });
    const r = await drive(clock, b2.wait([{ bucket: 1, previous: undefined }]), 50, (ms) => {
      if (ms === 2000) t.put('t-1', '550');
      if (ms === 3000) t.objects.delete('ns/t-2');
    });
    expect(r.value).to.equal('caught-up');
    expect(r.ms).to.be.within(3000, 3100);
  });

  it('falls back to the settling time when resourceVersions are not integers', async () => {
    const clock = new FakeClock(0);
    const t = new FakeCache(triggers);
    t.at.rv = 'opaque-1';
    const b = new CacheBarrier({ caches: () => [t], client: fakeServer({ rv: 'opaque-2', items: [] }).client, clock, maxWaitMs: 10_000, settleMs: 1000 });
    const r = await drive(clock, b.wait([{ bucket: 1, previous: JSON.stringify({ [cacheId(triggers)]: 'opaque-0' }) }]));
    expect(r.value).to.equal('settled');
    expect(r.ms).to.be.within(1000, 1050);
  });
});
