import { expect } from 'chai';
import { FakeClock } from '../../src/core/index.js';
import { WorkQueue } from '../../src/queue/index.js';
import { flush, peek, RecordingMetrics } from './helpers.js';

describe('WorkQueue', () => {
  it('hands keys out in the order they were added', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    for (const k of ['a', 'b', 'c']) q.add(k);
    expect([await q.get(), await q.get(), await q.get()]).to.deep.equal(['a', 'b', 'c']);
  });

  it('hands a key added twice while pending to exactly one worker', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('a');
    expect(q.len()).to.equal(1);
    expect(await q.get()).to.equal('a');
    expect(await peek(q.get())).to.equal('pending');
  });

  it('never hands one key to two workers at once', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    expect(await q.get()).to.equal('a');
    q.add('a');
    q.add('b');
    const second = q.get();
    expect(await peek(second)).to.equal('b');
    expect(await peek(q.get())).to.equal('pending');
  });

  it('processes a key added during its processing again after done', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    const key = await q.get();
    q.add('a');
    const waiting = q.get();
    expect(await peek(waiting)).to.equal('pending');
    q.done(key!);
    expect(await peek(waiting)).to.equal('a');
  });

  it('wakes waiting workers in the order they started waiting', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const first = q.get();
    const second = q.get();
    q.add('x');
    q.add('y');
    expect([await first, await second]).to.deep.equal(['x', 'y']);
  });

  it('resolves get to undefined after shutdown, for waiting and later callers', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).to.equal(undefined);
    q.add('late');
    expect(await q.get()).to.equal(undefined);
    expect(q.shuttingDown).to.equal(true);
  });

  it('drops pending keys on shutdown', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.shutdown();
    expect(q.len()).to.equal(0);
    expect(await q.get()).to.equal(undefined);
  });

  it('resolves get to undefined when its signal aborts, leaving the key for the next worker', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const ac = new AbortController();
    const waiting = q.get(ac.signal);
    ac.abort();
    expect(await waiting).to.equal(undefined);
    q.add('a');
    expect(await q.get()).to.equal('a');
  });

  it('drains on shutdown: waits for keys in flight until they are done', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('b');
    const a = (await q.get())!;
    const b = (await q.get())!;
    const drained = q.shutdownWithDrain({ timeoutMs: 1000 });
    q.done(a);
    expect(await peek(drained)).to.equal('pending');
    q.done(b);
    expect(await drained).to.equal(true);
  });

  it('gives up draining after its bound on the queue clock and says so', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.add('stuck');
    await q.get();
    const drained = q.shutdownWithDrain({ timeoutMs: 5000 });
    clock.advance(4999);
    expect(await peek(drained)).to.equal('pending');
    clock.advance(1);
    expect(await drained).to.equal(false);
    expect(clock.pendingTimers()).to.equal(0);
  });

  it('drains at once when nothing is in flight', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    expect(await q.shutdownWithDrain()).to.equal(true);
  });

  it('serves many producers and consumers without ever running one key twice at once or losing an add', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const inFlight = new Set<string>();
    const processedAfterLastAdd = new Map<string, boolean>();
    let overlaps = 0;
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const worker = async () => {
      for (let key = await q.get(); key !== undefined; key = await q.get()) {
        if (inFlight.has(key)) overlaps++;
        inFlight.add(key);
        processedAfterLastAdd.set(key, true);
        for (let i = Math.floor(random() * 3); i > 0; i--) await flush();
        inFlight.delete(key);
        q.done(key);
      }
    };
    const producer = async (id: number) => {
      for (let i = 0; i < 300; i++) {
        const key = `k${Math.floor(random() * 20)}`;
        processedAfterLastAdd.set(key, false);
        q.add(key, { lane: id % 2 ? 'live' : 'sweep' });
        if (random() < 0.3) await flush();
      }
    };
    const workers = Array.from({ length: 5 }, worker);
    await Promise.all([0, 1, 2].map(producer));
    for (let i = 0; i < 50 && (q.len() > 0 || inFlight.size > 0); i++) await flush();
    q.shutdown();
    await Promise.all(workers);
    expect(overlaps).to.equal(0);
    expect([...processedAfterLastAdd].filter(([, done]) => !done)).to.deep.equal([]);
  });

  describe('lanes', () => {
    it('hands out live keys before sweep keys', async () => {
      const q = new WorkQueue({ clock: new FakeClock() });
      q.add('s1', { lane: 'sweep' });
      q.add('s2', { lane: 'sweep' });
      q.add('l1');
      expect([await q.get(), await q.get(), await q.get()]).to.deep.equal(['l1', 's1', 's2']);
    });

    it('makes a live key wait for at most one in-flight item per worker under a flood of sweep keys', async () => {
      const q = new WorkQueue({ clock: new FakeClock() });
      const workers = 4;
      for (let i = 0; i < 10_000; i++) q.add(`sweep-${i}`, { lane: 'sweep' });
      const inFlight: string[] = [];
      for (let w = 0; w < workers; w++) inFlight.push((await q.get())!);
      q.add('live');
      // Each worker finishes its one item and asks again: the first to ask gets the live key.
      q.done(inFlight[0]);
      expect(await q.get()).to.equal('live');
      expect(q.len()).to.equal(10_000 - workers);
    });

    it('moves a pending sweep key to the live lane when it is added as live', async () => {
      const q = new WorkQueue({ clock: new FakeClock() });
      q.add('s1', { lane: 'sweep' });
      q.add('x', { lane: 'sweep' });
      q.add('x', { lane: 'live' });
      expect(q.stats().depth).to.deep.equal({ live: 1, sweep: 1 });
      expect([await q.get(), await q.get()]).to.deep.equal(['x', 's1']);
      expect(await peek(q.get())).to.equal('pending');
    });

    it('keeps a pending live key live when it is added again as sweep', async () => {
      const q = new WorkQueue({ clock: new FakeClock() });
      q.add('s1', { lane: 'sweep' });
      q.add('x');
      q.add('x', { lane: 'sweep' });
      expect(q.stats().depth).to.deep.equal({ live: 1, sweep: 1 });
      expect(await q.get()).to.equal('x');
    });
  });

  describe('metrics', () => {
    it('reports adds, depth, queue latency and work duration per lane', async () => {
      const clock = new FakeClock();
      const metrics = new RecordingMetrics();
      const q = new WorkQueue({ clock, metrics });
      q.add('a', { lane: 'sweep' });
      q.add('a', { lane: 'sweep' });
      clock.advance(250);
      const key = (await q.get())!;
      clock.advance(1500);
      q.done(key);
      expect(metrics.adds).to.deep.equal(['sweep', 'sweep']);
      expect(metrics.depths).to.deep.equal([
        ['sweep', 1],
        ['sweep', 0],
      ]);
      expect(metrics.latencies).to.deep.equal([['sweep', 0.25]]);
      expect(metrics.durations).to.deep.equal([['sweep', 1.5]]);
    });

    it('reports the longest-running item and the unfinished work', async () => {
      const clock = new FakeClock();
      const q = new WorkQueue({ clock });
      q.add('old');
      await q.get();
      clock.advance(3000);
      q.add('new');
      await q.get();
      clock.advance(1000);
      const s = q.stats();
      expect(s.processing).to.equal(2);
      expect(s.longestRunningSeconds).to.equal(4);
      expect(s.unfinishedWorkSeconds).to.equal(5);
      q.done('old');
      q.done('new');
      expect(q.stats().longestRunningSeconds).to.equal(0);
    });
  });
});
