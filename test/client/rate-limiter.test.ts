import { expect } from 'chai';
import { FakeClock } from '../../src/core/index.js';
import { TokenBucket } from '../../src/client/index.js';

describe('TokenBucket', () => {
  it('lets a burst through at once, then one request per 1/qps seconds', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(5, 3, clock);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).to.deep.equal([0, 0, 0]);
    expect(bucket.reserve()).to.equal(200);
    expect(bucket.reserve()).to.equal(400);
  });

  it('refills over time up to the burst', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 2, clock);
    bucket.reserve();
    bucket.reserve();
    clock.advance(10_000);
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).to.deep.equal([0, 0, 100]);
  });

  it('makes a waiter wait on the injected clock and gives its token back when aborted', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(1, 1, clock);
    await bucket.wait();
    let passed = false;
    const waiting = bucket.wait().then(() => (passed = true));
    await Promise.resolve();
    clock.advance(999);
    await Promise.resolve();
    expect(passed).to.equal(false);
    clock.advance(1);
    await waiting;
    expect(passed).to.equal(true);
    const ac = new AbortController();
    const aborted = bucket.wait(ac.signal).catch((e: unknown) => e);
    ac.abort(new Error('stop'));
    expect(((await aborted) as Error).message).to.equal('stop');
    clock.advance(1000);
    expect(bucket.reserve()).to.equal(0);
  });
});
