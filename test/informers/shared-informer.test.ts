import { expect } from 'chai';
import { FakeClock, type KubeObject } from '../../src/core/index.js';
import { SharedInformer, reflectorBackoff } from '../../src/informers/index.js';
import { Recorder, flush, startInformer, until } from './harness.js';
import { MemoryListerWatcher, cm } from './memory-lister-watcher.js';

function seeded(n: number): MemoryListerWatcher {
  const lw = new MemoryListerWatcher();
  for (let i = 0; i < n; i++) lw.upsert(cm('ns', `o${i}`, { v: '0' }));
  return lw;
}

const rvOf = (o: KubeObject | undefined) => o?.metadata?.resourceVersion;

describe('SharedInformer', () => {
  it('lists in pages, then watches from the list’s resourceVersion with bookmarks and a randomized timeout', async () => {
    const t = startInformer({}, seeded(5));
    await until(() => t.informer.hasSynced() && t.lw.watchCalls.length === 1, 'synced and watching');
    expect(t.lw.listCalls.map((c) => c.limit)).to.deep.equal([2, 2, 2]);
    expect(t.lw.listCalls[0].continue).to.equal(undefined);
    const w = t.lw.watchCalls[0];
    expect(w.resourceVersion).to.equal('105');
    expect(w.allowWatchBookmarks).to.equal(true);
    expect(w.timeoutSeconds).to.equal(450); // random 0.5 between 300 and 600
    await t.stop();
  });

  it('fills the store and hands every listed object to handlers as an initial add', async () => {
    const t = startInformer({}, seeded(3));
    expect(await t.informer.waitForSync()).to.equal(true);
    expect(t.informer.store.size).to.equal(3);
    expect(t.informer.store.get('ns/o1')?.kind).to.equal('ConfigMap');
    expect(t.rec.take()).to.deep.equal(['add ns/o0@101 initial', 'add ns/o1@102 initial', 'add ns/o2@103 initial']);
    await t.stop();
  });

  it('applies watched adds, updates and deletes to the store and to handlers', async () => {
    const t = startInformer({}, seeded(1));
    await until(() => t.lw.openStreams === 1, 'watching');
    t.rec.take();
    t.lw.upsert(cm('ns', 'new'));
    t.lw.upsert(cm('ns', 'o0', { v: '1' }));
    t.lw.remove('ns', 'new');
    await until(() => t.rec.calls.length === 3, 'three changes');
    expect(t.rec.take()).to.deep.equal(['add ns/new@102', 'update ns/o0@101->103', 'delete ns/new']);
    expect(t.informer.store.keys()).to.deep.equal(['ns/o0']);
    expect(t.informer.store.resourceVersion).to.equal('104');
    await t.stop();
  });

  it('moves the resourceVersion on a bookmark without calling handlers', async () => {
    const t = startInformer({}, seeded(1));
    await until(() => t.lw.openStreams === 1, 'watching');
    t.rec.take();
    t.lw.rv = 500;
    t.lw.bookmark();
    await until(() => t.informer.store.resourceVersion === '500', 'bookmark applied');
    expect(t.rec.take()).to.deep.equal([]);
    await t.stop();
  });

  it('watches again from the last resourceVersion when the server closes the stream, without relisting', async () => {
    const t = startInformer({}, seeded(1));
    await until(() => t.lw.openStreams === 1, 'watching');
    t.lw.upsert(cm('ns', 'a'));
    await until(() => t.informer.store.size === 2, 'add seen');
    t.clock.advance(5000);
    t.lw.closeStreams();
    await until(() => t.lw.watchCalls.length === 2 && t.lw.openStreams === 1, 'watching again');
    expect(t.lw.watchCalls[1].resourceVersion).to.equal('102');
    expect(t.lw.listCalls).to.have.length(1);
    expect(t.informer.stats().errors).to.equal(0);
    await t.stop();
  });

  describe('on 410 Expired', () => {
    it('relists and reports only real differences: updates, reconstructed deletes and new adds', async () => {
      const t = startInformer({}, seeded(3));
      await until(() => t.lw.openStreams === 1, 'watching');
      t.rec.take();
      t.lw.silently(() => {
        t.lw.upsert(cm('ns', 'o1', { v: 'changed' }));
        t.lw.remove('ns', 'o2');
        t.lw.upsert(cm('ns', 'fresh'));
      });
      t.lw.error(410, 'Expired');
      await until(() => t.informer.stats().errors === 1, 'error seen');
      await t.advanceWhenWaiting(800); // backoff
      await until(() => t.informer.stats().lists === 2, 'relisted');
      expect(t.rec.take().sort()).to.deep.equal(['add ns/fresh@106', 'delete ns/o2', 'update ns/o1@102->104']);
      expect(t.informer.store.keys().sort()).to.deep.equal(['ns/fresh', 'ns/o0', 'ns/o1']);
      await t.stop();
    });

    it('relists when a watch is refused because its resourceVersion was compacted', async () => {
      const t = startInformer({}, seeded(2));
      await until(() => t.lw.openStreams === 1, 'watching');
      t.lw.closeStreams();
      t.lw.upsert(cm('ns', 'x'));
      t.lw.compact();
      t.clock.advance(5000);
      await until(() => t.informer.stats().errors === 1, 'refused');
      await t.advanceWhenWaiting(800);
      await until(() => t.informer.stats().lists === 2 && t.lw.openStreams === 1, 'relisted and watching');
      expect(t.informer.store.size).to.equal(3);
      expect(t.informer.stats().lastError?.message).to.match(/too old resource version.*410 Expired/);
      await t.stop();
    });

    it('keeps serving the old cache until the whole relist is in, then swaps it at once', async () => {
      const t = startInformer({}, seeded(6));
      await until(() => t.lw.openStreams === 1, 'watching');
      let open!: () => void;
      t.lw.pageGate = new Promise((resolve) => (open = resolve));
      t.lw.silently(() => {
        t.lw.remove('ns', 'o0');
        t.lw.remove('ns', 'o3');
      });
      t.lw.error(410, 'Expired');
      await until(() => t.informer.stats().errors === 1, 'error seen');
      await t.advanceWhenWaiting(800);
      await until(() => t.lw.listCalls.length === 5, 'second page of the relist requested');
      expect(t.informer.store.size).to.equal(6);
      open();
      await until(() => t.informer.stats().lists === 2, 'relisted');
      expect(t.informer.store.keys().sort()).to.deep.equal(['ns/o1', 'ns/o2', 'ns/o4', 'ns/o5']);
      await t.stop();
    });

    it('starts the list over when its continue token expires between pages', async () => {
      const lw = seeded(5);
      let open!: () => void;
      lw.pageGate = new Promise((resolve) => (open = resolve));
      const t = startInformer({}, lw);
      await until(() => lw.listCalls.length === 2, 'second page asked');
      lw.expireContinueTokens();
      lw.pageGate = undefined;
      open();
      await until(() => t.informer.stats().errors === 1, 'expired token seen');
      await t.advanceWhenWaiting(800);
      await until(() => t.informer.hasSynced(), 'synced');
      expect(lw.listCalls.filter((c) => !c.continue)).to.have.length(2);
      expect(t.informer.store.size).to.equal(5);
      await t.stop();
    });
  });

  describe('on errors', () => {
    it('backs off exponentially from 800 ms and never gives up', async () => {
      const lw = seeded(1);
      const failure = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      lw.listErrors = [failure, failure, failure, failure];
      const t = startInformer({}, lw);
      const waits: number[] = [];
      for (const delay of [800, 1600, 3200, 6400]) {
        await until(() => t.informer.stats().errors === waits.length + 1, `failure ${waits.length + 1}`);
        await t.advanceWhenWaiting(delay - 1);
        await flush();
        expect(lw.listCalls).to.have.length(waits.length + 1);
        t.clock.advance(1);
        waits.push(delay);
      }
      await until(() => t.informer.hasSynced(), 'synced after failures');
      expect(t.informer.stats().lastError?.message).to.match(/list of v1 ConfigMap \(memory\) failed: connect ECONNREFUSED/);
      await t.stop();
    });

    it('caps the backoff at 30 s', async () => {
      const lw = seeded(1);
      lw.listErrors = Array.from({ length: 8 }, () => new Error('boom'));
      const t = startInformer({}, lw);
      for (let i = 1; i <= 7; i++) {
        await until(() => t.informer.stats().errors === i, `failure ${i}`);
        await t.advanceWhenWaiting(30_000);
      }
      await until(() => t.informer.stats().errors === 8, 'failure 8');
      await t.advanceWhenWaiting(29_999);
      await flush();
      expect(lw.listCalls).to.have.length(8);
      t.clock.advance(1);
      await until(() => t.informer.hasSynced(), 'synced');
      await t.stop();
    });

    it('by default jitters the delay at the 30 s ceiling as well, up to twice the ceiling', async () => {
      const lw = seeded(1);
      lw.listErrors = Array.from({ length: 8 }, () => new Error('boom'));
      const t = startInformer({ backoff: reflectorBackoff(() => 0.5) }, lw);
      const waits = [1200, 2400, 4800, 9600, 19_200, 38_400, 45_000];
      for (let i = 1; i <= waits.length; i++) {
        await until(() => t.informer.stats().errors === i, `failure ${i}`);
        await t.advanceWhenWaiting(waits[i - 1]);
      }
      await until(() => t.informer.stats().errors === 8, 'failure 8');
      await t.advanceWhenWaiting(44_999);
      await flush();
      expect(lw.listCalls, 'no list before 45 s at the ceiling').to.have.length(8);
      t.clock.advance(1);
      await until(() => t.informer.hasSynced(), 'synced');
      await t.stop();
    });

    it('starts the backoff over after two minutes without errors', async () => {
      const lw = seeded(1);
      lw.watchErrors = [new Error('reset'), new Error('reset')];
      const t = startInformer({}, lw);
      await until(() => t.informer.stats().errors === 1, 'first');
      await t.advanceWhenWaiting(800);
      await until(() => t.informer.stats().errors === 2, 'second');
      t.clock.advance(1600);
      await until(() => lw.openStreams === 1, 'watching');
      t.clock.advance(120_000);
      lw.watchErrors = [new Error('reset')];
      lw.closeStreams();
      await until(() => t.informer.stats().errors === 3, 'third');
      await t.advanceWhenWaiting(799);
      await flush();
      expect(lw.watchCalls).to.have.length(4);
      t.clock.advance(1);
      await until(() => lw.watchCalls.length === 5, 're-watched after 800 ms');
      await t.stop();
    });

    it('treats a watch the server closes at once without events as a failure, so it is backed off', async () => {
      const t = startInformer({}, seeded(1));
      await until(() => t.lw.openStreams === 1, 'watching');
      t.lw.closeStreams();
      await until(() => t.informer.stats().errors === 1, 'early close');
      expect(t.informer.stats().lastError?.name).to.equal('WatchClosedEarlyError');
      await t.stop();
    });

    it('restarts a silent stream as soon as the watchdog fires, from the last resourceVersion', async () => {
      const t = startInformer({ watchdogMs: 10_000 }, seeded(1));
      await until(() => t.lw.openStreams === 1, 'watching');
      t.lw.stalled = true;
      t.lw.upsert(cm('ns', 'during-stall'));
      t.clock.advance(9_999);
      await flush();
      expect(t.informer.stats().errors).to.equal(0);
      t.clock.advance(1);
      await until(() => t.informer.stats().errors === 1, 'stall detected');
      expect(t.informer.stats().lastError?.name).to.equal('WatchdogTimeoutError');
      await until(() => t.lw.watchCalls.length === 2, 'watch reopened');
      expect(t.lw.openStreams).to.equal(1);
      t.lw.unstall();
      await until(() => t.informer.store.size === 2, 'caught up without a backoff delay');
      expect(t.lw.watchCalls.map((w) => w.resourceVersion)).to.deep.equal(['101', '101']);
      await t.stop();
    });

    it('counts the watchdog interval from the last event, not from the opening of the watch', async () => {
      const t = startInformer({ watchdogMs: 10_000 }, seeded(1));
      await until(() => t.lw.openStreams === 1, 'watching');
      t.clock.advance(8_000);
      t.lw.upsert(cm('ns', 'late'));
      await until(() => t.informer.store.size === 2, 'event seen');
      t.clock.advance(8_000); // 16 s since the watch opened, 8 s since its last event
      await flush();
      expect(t.informer.stats().errors).to.equal(0);
      t.clock.advance(2_000);
      await until(() => t.informer.stats().errors === 1, 'stall detected 10 s after the last event');
      expect(t.informer.stats().lastError?.name).to.equal('WatchdogTimeoutError');
      await t.stop();
    });
  });

  describe('handlers', () => {
    it('gives a late handler an initial add for every cached object', async () => {
      const t = startInformer({}, seeded(2));
      await t.informer.waitForSync();
      const late = new Recorder();
      t.informer.addHandler(late.handler);
      expect(late.take()).to.deep.equal(['add ns/o0@101 initial', 'add ns/o1@102 initial']);
      t.lw.upsert(cm('ns', 'later'));
      await until(() => late.calls.length === 1, 'live add');
      expect(late.take()).to.deep.equal(['add ns/later@103']);
      await t.stop();
    });

    it('stops calling a handler once it is removed', async () => {
      const t = startInformer({}, seeded(1));
      await until(() => t.lw.openStreams === 1, 'watching');
      const other = new Recorder();
      const remove = t.informer.addHandler(other.handler);
      remove();
      t.lw.upsert(cm('ns', 'a'));
      await until(() => t.rec.calls.length === 2, 'seen by the first handler');
      expect(other.take()).to.deep.equal(['add ns/o0@101 initial']);
      await t.stop();
    });

    it('keeps calling the other handlers when one throws', async () => {
      const t = startInformer({}, seeded(0));
      t.informer.addHandler({
        add() {
          throw new Error('handler bug');
        },
      });
      await until(() => t.lw.openStreams === 1, 'watching');
      t.lw.upsert(cm('ns', 'a'));
      t.lw.upsert(cm('ns', 'b'));
      await until(() => t.rec.calls.length === 2, 'both seen');
      await t.stop();
    });

    it('re-delivers cached objects to a handler at its own resync period, without listing again', async () => {
      const t = startInformer({}, seeded(2));
      await until(() => t.lw.openStreams === 1, 'watching');
      const resynced = new Recorder();
      t.informer.addHandler(resynced.handler, { resyncPeriodMs: 60_000 });
      resynced.take();
      t.rec.take();
      t.clock.advance(60_000);
      expect(resynced.take()).to.deep.equal(['update ns/o0@101->101', 'update ns/o1@102->102']);
      expect(t.rec.take()).to.deep.equal([]);
      t.clock.advance(60_000);
      expect(resynced.take()).to.have.length(2);
      expect(t.lw.listCalls).to.have.length(1);
      await t.stop();
    });
  });

  it('survives a custom index function that throws: it logs, backs off, relists and carries on', async () => {
    let failures = 1;
    const t = startInformer(
      {
        indexers: {
          flaky: (o) => {
            if (o.metadata?.name === 'bad' && failures-- > 0) throw new Error('index bug');
            return [];
          },
        },
      },
      seeded(1),
    );
    await until(() => t.lw.openStreams === 1, 'watching');
    t.lw.upsert(cm('ns', 'bad'));
    await until(() => t.informer.stats().errors === 1, 'failure seen');
    expect(t.informer.stats().lastError?.message).to.equal('index bug');
    await t.advanceWhenWaiting(800);
    await until(() => t.informer.stats().lists === 2 && t.informer.store.size === 2, 'relisted');
    t.lw.upsert(cm('ns', 'later'));
    await until(() => t.informer.store.size === 3, 'watching again');
    await t.stop();
  });

  it('resolves waitForSync to false when its signal aborts before the first list', async () => {
    const lw = new MemoryListerWatcher();
    lw.listErrors = [new Error('down')];
    const informer = new SharedInformer(lw, { clock: new FakeClock(), streamingList: false });
    const ac = new AbortController();
    const run = informer.run(ac.signal);
    const waiting = informer.waitForSync(ac.signal);
    await flush();
    ac.abort();
    expect(await waiting).to.equal(false);
    await run;
  });

  it('stores objects without managedFields by default', async () => {
    const lw = new MemoryListerWatcher();
    lw.upsert({ ...cm('ns', 'm'), metadata: { namespace: 'ns', name: 'm', managedFields: [{ manager: 'kubectl' }] } });
    const t = startInformer({}, lw);
    await t.informer.waitForSync();
    const stored = t.informer.store.get('ns/m');
    expect(stored?.metadata).to.not.have.property('managedFields');
    expect(rvOf(stored)).to.equal('101');
    await t.stop();
  });

  it('ends run and closes its watch when the signal aborts', async () => {
    const t = startInformer({}, seeded(1));
    await until(() => t.lw.openStreams === 1, 'watching');
    await t.stop();
    expect(t.lw.openStreams).to.equal(0);
  });
});

describe('SharedInformer listing', () => {
  it('lists first from the watch cache (resourceVersion "0") and relists after 410 from the latest state', async () => {
    const t = startInformer({}, seeded(3));
    await until(() => t.lw.openStreams === 1, 'watching');
    expect(t.lw.listCalls.map((c) => [c.resourceVersion, c.continue])).to.deep.equal([
      ['0', undefined],
      [undefined, '1:2'],
    ]);
    t.lw.listCalls.length = 0;
    t.lw.error(410, 'Expired');
    await until(() => t.informer.stats().errors === 1, 'error seen');
    await t.advanceWhenWaiting(800);
    await until(() => t.informer.stats().lists === 2, 'relisted');
    expect(t.lw.listCalls.map((c) => c.resourceVersion)).to.deep.equal([undefined, undefined]);
    await t.stop();
  });

  it('lists every time from the latest state when initialListFromCache is off', async () => {
    const t = startInformer({ initialListFromCache: false }, seeded(1));
    await until(() => t.informer.hasSynced(), 'synced');
    expect(t.lw.listCalls.map((c) => c.resourceVersion)).to.deep.equal([undefined]);
    await t.stop();
  });

  it('asks for pages ahead as soon as each one’s continue token is known, at most 1 + listReadAhead at a time', async () => {
    const lw = seeded(10); // 5 pages of 2
    let open!: () => void;
    lw.itemsGate = new Promise((resolve) => (open = resolve));
    const t = startInformer({}, lw);
    // Page 1's items wait; its token is known, so pages 2 and 3 are asked for; page 4 waits for room.
    await until(() => lw.listCalls.length === 3, 'pages read ahead');
    await new Promise((r) => setTimeout(r, 20));
    expect(lw.listCalls.map((c) => c.continue)).to.deep.equal([undefined, '1:2', '1:4']);
    expect(t.informer.store.size).to.equal(0);
    lw.itemsGate = undefined;
    open();
    await until(() => t.informer.hasSynced(), 'synced');
    expect(lw.listCalls.map((c) => c.continue)).to.deep.equal([undefined, '1:2', '1:4', '1:6', '1:8']);
    expect(t.informer.store.size).to.equal(10);
    await t.stop();
  });

  it('asks for one page at a time, after the one before is applied, when listReadAhead is 0', async () => {
    const lw = seeded(6);
    let open!: () => void;
    lw.itemsGate = new Promise((resolve) => (open = resolve));
    const t = startInformer({ listReadAhead: 0 }, lw);
    await until(() => lw.listCalls.length === 1, 'first page asked');
    await new Promise((r) => setTimeout(r, 20));
    expect(lw.listCalls).to.have.length(1);
    lw.itemsGate = undefined;
    open();
    await until(() => t.informer.hasSynced(), 'synced');
    expect(lw.listCalls.map((c) => c.continue)).to.deep.equal([undefined, '1:2', '1:4']);
    await t.stop();
  });

  it('drops the pages read ahead when a page fails, and asks again from the failed page', async () => {
    const lw = seeded(6);
    let fail!: (err: Error) => void;
    lw.itemsGate = new Promise((_, reject) => (fail = reject));
    const t = startInformer({}, lw);
    await until(() => lw.listCalls.length === 3, 'pages read ahead');
    const ahead = lw.listCalls.slice(1);
    fail(new Error('connection reset'));
    await until(() => t.informer.stats().errors === 1, 'failure seen');
    expect(ahead.map((c) => c.signal?.aborted)).to.deep.equal([true, true]);
    lw.itemsGate = undefined;
    await t.advanceWhenWaiting(800);
    await until(() => t.informer.hasSynced(), 'synced');
    expect(lw.listCalls.slice(3).map((c) => [c.resourceVersion, c.continue])).to.deep.equal([['0', undefined], [undefined, '2:2'], [undefined, '2:4']]);
    expect(t.informer.store.size).to.equal(6);
    await t.stop();
  });

  it('transforms each listed object once, as it is decoded', async () => {
    let calls = 0;
    const t = startInformer({ transform: (o) => (calls++, { ...o, metadata: { ...o.metadata, annotations: { t: '1' } } }) }, seeded(5));
    await until(() => t.informer.hasSynced(), 'synced');
    expect(t.lw.listCalls[0].onItem).to.be.a('function');
    expect(calls).to.equal(5);
    expect(t.informer.store.list().map((o) => o.metadata?.annotations?.t)).to.deep.equal(['1', '1', '1', '1', '1']);
    await t.stop();
  });
});
