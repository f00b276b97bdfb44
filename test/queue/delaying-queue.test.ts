import { expect } from 'chai';
import { FakeClock } from '../../src/core/index.js';
import { DelayingWorkQueue } from '../../src/queue/index.js';
import { peek } from './helpers.js';

describe('DelayingWorkQueue', () => {
  it('adds a key only once its delay has passed on the injected clock', async () => {
    const clock = new FakeClock();
    const q = new DelayingWorkQueue({ clock });
    q.addAfter('a', 1000);
    expect(q.len()).to.equal(0);
    expect(q.waitingLen()).to.equal(1);
    clock.advance(999);
    expect(q.len()).to.equal(0);
    clock.advance(1);
    expect(q.len()).to.equal(1);
    expect(await q.get()).to.equal('a');
  });

  it('adds keys in the order they fall due, whatever the order they were scheduled', async () => {
    const clock = new FakeClock();
    const q = new DelayingWorkQueue({ clock });
    q.addAfter('late', 300);
    q.addAfter('early', 100);
    q.addAfter('middle', 200);
    clock.advance(1000);
    expect([await q.get(), await q.get(), await q.get()]).to.deep.equal(['early', 'middle', 'late']);
  });

  it('keeps the earlier due time of a key scheduled twice', async () => {
    const clock = new FakeClock();
    const q = new DelayingWorkQueue({ clock });
    q.addAfter('a', 500);
    q.addAfter('a', 100);
    q.addAfter('a', 900);
    expect(q.waitingLen()).to.equal(1);
    clock.advance(100);
    expect(q.len()).to.equal(1);
    await q.get();
    q.done('a');
    clock.advance(1000);
    expect(q.len()).to.equal(0);
  });

  it('replaces a waiting key\'s due time when asked, later or earlier', () => {
    const clock = new FakeClock();
    const q = new DelayingWorkQueue({ clock });
    q.addAfter('a', 100);
    q.addAfter('a', 900, { replace: true });
    expect(q.waitingLen()).to.equal(1);
    expect(q.dueAt('a')).to.equal(900);
    clock.advance(899);
    expect(q.len()).to.equal(0);
    clock.advance(1);
    expect(q.len()).to.equal(1);
  });

  it('cancels a waiting key, leaving others and keys already queued alone', () => {
    const clock = new FakeClock();
    const q = new DelayingWorkQueue({ clock });
    q.addAfter('a', 100);
    q.addAfter('b', 100);
    q.add('c');
    q.cancelAfter('a');
    q.cancelAfter('c');
    expect(q.waitingLen()).to.equal(1);
    clock.advance(1000);
    expect(q.len()).to.equal(2);
    expect(q.dueAt('a')).to.equal(undefined);
  });

  it('wakes a waiting worker when a delayed key falls due', async () => {
    const clock = new FakeClock();
    const q = new DelayingWorkQueue({ clock });
    const waiting = q.get();
    q.addAfter('a', 50);
    expect(await peek(waiting)).to.equal('pending');
    clock.advance(50);
    expect(await waiting).to.equal('a');
  });

  it('adds at once when the delay is zero or negative', () => {
    const q = new DelayingWorkQueue({ clock: new FakeClock() });
    q.addAfter('a', 0);
    q.addAfter('b', -5);
    expect(q.len()).to.equal(2);
  });

  it('keeps one clock timer however many keys wait', () => {
    const clock = new FakeClock();
    const q = new DelayingWorkQueue({ clock });
    for (let i = 0; i < 1000; i++) q.addAfter(`k${i}`, 1000 - i);
    expect(clock.pendingTimers()).to.equal(1);
    clock.advance(1000);
    expect(q.len()).to.equal(1000);
    expect(clock.pendingTimers()).to.equal(0);
  });

  it('honours the lane of a delayed key', async () => {
    const clock = new FakeClock();
    const q = new DelayingWorkQueue({ clock });
    q.add('s', { lane: 'sweep' });
    q.addAfter('l', 10, { lane: 'live' });
    clock.advance(10);
    expect(await q.get()).to.equal('l');
  });

  it('cancels its timer and forgets waiting keys on shutdown', () => {
    const clock = new FakeClock();
    const q = new DelayingWorkQueue({ clock });
    q.addAfter('a', 100);
    q.shutdown();
    expect(clock.pendingTimers()).to.equal(0);
    q.addAfter('b', 100);
    expect(q.waitingLen()).to.equal(0);
  });
});
