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
    it('doubles each key’s delay from 5 ms up to a 5 min ceiling by default (without jitter)', () => {
      const l = new ItemExponentialRateLimiter({ random: () => 0 });
      const delays = Array.from({ length: 30 }, () => l.when('k'));
      expect(delays.slice(0, 4)).to.deep.equal([5, 10, 20, 40]);
      expect(delays[16]).to.equal(300_000);
      expect(Math.max(...delays)).to.equal(300_000);
      expect(l.when('other')).to.equal(5);
    });

    it('adds up to 10 % jitter to every delay, at the ceiling too', () => {
      const high = new ItemExponentialRateLimiter({ random: () => 0.999 });
      expect(high.when('k')).to.be.closeTo(5 * 1.0999, 1e-9);
      for (let i = 0; i < 40; i++) high.when('k');
      const atCap = high.when('k');
      expect(atCap).to.be.greaterThan(300_000).and.at.most(330_000);
      const draws = [0, 0.25, 0.5, 0.75];
      const l = new ItemExponentialRateLimiter({ baseDelayMs: 300_000, random: () => draws.shift() ?? 0 });
      const capped = [l.when('a'), l.when('b'), l.when('c'), l.when('d')];
      expect(capped).to.deep.equal([300_000, 307_500, 315_000, 322_500]);
    });

    it('gives the ceiling (with jitter) whatever the count when asked for the slowest delay, and counts it', () => {
      const l = new ItemExponentialRateLimiter({ maxDelayMs: 60_000, random: () => 0.5 });
      expect(l.when('k', { slowest: true })).to.equal(63_000);
      expect(l.retries('k')).to.equal(1);
      expect(l.when('k')).to.equal(10 * 1.05);
    });

    it('counts retries per key and forgets them', () => {
      const l = new ItemExponentialRateLimiter({ baseDelayMs: 1, maxDelayMs: 8, jitter: 0 });
      l.when('k');
      l.when('k');
      expect(l.retries('k')).to.equal(2);
      l.forget('k');
      expect(l.retries('k')).to.equal(0);
      expect(l.when('k')).to.equal(1);
    });

    it('stays finite after thousands of failures', () => {
      const l = new ItemExponentialRateLimiter({ random: () => 0.5 });
      for (let i = 0; i < 5000; i++) l.when('k');
      expect(l.when('k')).to.equal(315_000);
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
      const exp = new ItemExponentialRateLimiter({ baseDelayMs: 1, jitter: 0 });
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
    const l = defaultControllerRateLimiter({ clock: new FakeClock(), random: () => 0 });
    expect([l.when('k'), l.when('k'), l.when('k')]).to.deep.equal([5, 10, 20]);
  });
});

describe('RateLimitingWorkQueue', () => {
  it('re-adds a failed key after its rate-limited delay and counts the retries', async () => {
    const clock = new FakeClock();
    const metrics = new RecordingMetrics();
    const q = new RateLimitingWorkQueue({ clock, metrics, rateLimiter: defaultControllerRateLimiter({ clock, jitter: 0 }) });
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
    const q = new RateLimitingWorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter({ baseDelayMs: 100, jitter: 0 }) });
    q.addRateLimited('k');
    q.forget('k');
    expect(q.numRequeues('k')).to.equal(0);
    clock.advance(100);
    expect(q.len()).to.equal(1);
  });

  it('retries a key failing through a long outage at the ceiling plus jitter, never giving up, on the fake clock', async () => {
    const clock = new FakeClock();
    const draws = [0.9, 0.1, 0.5];
    let n = 0;
    const q = new RateLimitingWorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter({ maxDelayMs: 60_000, random: () => draws[n++ % 3] }) });
    const gaps: number[] = [];
    let last = clock.now();
    for (let attempt = 0; attempt < 30; attempt++) {
      q.addRateLimited('k');
      const due = q.dueAt('k') ?? Number.NaN;
      clock.set(due);
      expect(await q.get()).to.equal('k');
      q.done('k');
      gaps.push(clock.now() - last);
      last = clock.now();
    }
    const atCap = gaps.slice(-12);
    expect(Math.min(...atCap)).to.be.greaterThan(60_000);
    expect(Math.max(...atCap)).to.be.at.most(66_000);
    expect(new Set(atCap.map((g) => Math.round(g))).size, 'jitter at the cap spreads the retries').to.be.greaterThan(1);
  });

  it('waits at least a server\'s Retry-After, and the slowest delay when asked', () => {
    const clock = new FakeClock();
    const q = new RateLimitingWorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter({ maxDelayMs: 8_000, jitter: 0 }) });
    q.addRateLimited('after', { atLeastMs: 3000 });
    q.addRateLimited('slow', { slowest: true });
    clock.advance(2999);
    expect(q.len()).to.equal(0);
    clock.advance(1);
    expect(q.len()).to.equal(1);
    clock.advance(5000);
    expect(q.len()).to.equal(2);
  });

  it('replaces a retry still waiting with the newest one (one delayed add per key)', () => {
    const clock = new FakeClock();
    const q = new RateLimitingWorkQueue({ clock, rateLimiter: new ItemExponentialRateLimiter({ baseDelayMs: 10, jitter: 0 }) });
    q.addRateLimited('k');
    q.addRateLimited('k', { atLeastMs: 1000 });
    clock.advance(999);
    expect(q.len()).to.equal(0);
    clock.advance(1);
    expect(q.len()).to.equal(1);
  });
});
