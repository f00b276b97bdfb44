import { expect } from 'chai';
import { MAX_TIMER_MS, realClock } from '../../src/core/index.js';

describe('realClock', () => {
  it('waits a delay longer than Node timers can hold instead of firing at once', async () => {
    let fired = false;
    const h = realClock.setTimer(() => (fired = true), 31 * 24 * 3600_000);
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).to.equal(false);
    realClock.clearTimer(h);
    expect(MAX_TIMER_MS).to.equal(2 ** 31 - 1);
  });

  it('fires a short delay on time, and never after clearTimer', async () => {
    const order: string[] = [];
    realClock.setTimer(() => order.push('a'), 5);
    const b = realClock.setTimer(() => order.push('b'), 5);
    realClock.clearTimer(b);
    await new Promise((r) => setTimeout(r, 40));
    expect(order).to.deep.equal(['a']);
  });
});
