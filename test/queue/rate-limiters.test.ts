import { expect } from 'chai';
import { FakeClock } from '../../src/core/index.js';
import {
  ItemExponentialRateLimiter,
  MaxOfRateLimiter,
  RateLimitingWorkQueue,
  TokenBucketRateLimiter,
  defaultControllerRateLimiter,
} from '../../src/queue/index.js';
import { RecordingMetrics } from './helpers.js';

describe('rate limiters', () => {
  describe('ItemExponentialRateLimiter', () => {
    it('doubles each key’s delay from 5 ms up to a 1000 s ceiling by default', () => {
      const l = new ItemExponentialRateLimiter();
      const delays = Array.from({ length: 30 }, () => l.when('k'));
      expect(delays.slice(0, 4)).to.deep.equal([5, 10, 20, 40]);
      expect(delays[27]).to.equal(1_000_000);
      expect(Math.max(...delays)).to.equal(1_000_000);
      expect(l.when('other')).to.equal(5);
    });

    it('counts retries per key and forgets them', () => {
      const l = new ItemExponentialRateLimiter({ baseDelayMs: 1, maxDelayMs: 8 });
      l.when('k');
      l.when('k');
      expect(l.retries('k')).to.equal(2);
      l.forget('k');
      expect(l.retries('k')).to.equal(0);
      expect(l.when('k')).to.equal(1);
    });

    it('stays finite after thousands of failures', () => {
      const l = new ItemExponentialRateLimiter();
      for (let i = 0; i < 5000; i++) l.when('k');
      expect(l.when('k')).to.equal(1_000_000);
    });
  });

  describe('TokenBucketRateLimiter', () => {
    it('lets a burst of 100 through, then spaces retries at 10 per second', () => {
      const l = new TokenBucketRateLimiter({ clock: new FakeClock() });
      for (let i = 0; i < 100; i++) expect(l.when(`k${i}`)).to.equal(0);
      expect(l.when('a')).to.equal(100);
      expect(l.when('b')).to.equal(200);
    });

    it('refills with time on its clock, up to the burst', () => {
      const clock = new FakeClock();
      const l = new TokenBucketRateLimiter({ qps: 1, burst: 2, clock });
      l.when('a');
      l.when('b');
      expect(l.when('c')).to.equal(1000);
      clock.advance(60_000);
      expect([l.when('d'), l.when('e'), l.when('f')]).to.deep.equal([0, 0, 1000]);
    });
  });

  describe('MaxOfRateLimiter', () => {
    it('returns the longest delay and counts the call in every limiter', () => {
      const clock = new FakeClock();
      const exp = new ItemExponentialRateLimiter({ baseDelayMs: 1 });
      const bucket = new TokenBucketRateLimiter({ qps: 1, burst: 1, clock });
      const l = new MaxOfRateLimiter(exp, bucket);
      expect(l.when('k')).to.equal(1);
      expect(l.when('k')).to.equal(1000);
      expect(exp.retries('k')).to.equal(2);
      expect(l.retries('k')).to.equal(2);
      l.forget('k');
      expect(exp.retries('k')).to.equal(0);
    });
  });

  it('composes the controller default from the per-key and overall limits', () => {
    const l = defaultControllerRateLimiter({ clock: new FakeClock() });
    expect([l.when('k'), l.when('k'), l.when('k')]).to.deep.equal([5, 10, 20]);
  });
});

describe('RateLimitingWorkQueue', () => {
  it('re-adds a failed key after its rate-limited delay and counts the retries', async () => {
    const clock = new FakeClock();
    const metrics = new RecordingMetrics();
    const q = new RateLimitingWorkQueue({ clock, metrics });
    q.add('k');
    await q.get();
    q.addRateLimited('k');
    q.done('k');
    expect(q.numRequeues('k')).to.equal(1);
    expect(metrics.retries).to.equal(1);
    clock.advance(4);
    expect(q.len()).to.equal(0);
    clock.advance(1);
    expect(await q.get()).to.equal('k');
    q.addRateLimited('k');
    q.done('k');
    clock.advance(9);
    expect(q.len()).to.equal(0);
    clock.advance(1);
    expect(q.len()).to.equal(1);
  });

  it('starts from the shortest delay again after forget', () => {
    const clock = new FakeClock();
    const q = new RateLimitingWorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter({ baseDelayMs: 100 }) });
    q.addRateLimited('k');
    q.addRateLimited('k');
    q.forget('k');
    expect(q.numRequeues('k')).to.equal(0);
    clock.advance(100);
    expect(q.len()).to.equal(1);
  });
});
