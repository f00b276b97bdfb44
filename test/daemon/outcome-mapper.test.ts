import { expect } from 'chai';
import { FakeClock, MemoryLogger, type KubeObject } from '../../src/core/index.js';
import { RateLimitingWorkQueue, defaultControllerRateLimiter } from '../../src/queue/index.js';
import type { PendingChange } from '../../src/daemon/coalesce.js';
import { FailureBook } from '../../src/daemon/failure-book.js';
import { Intake } from '../../src/daemon/intake.js';
import { OutcomeMapper, REPORT_TRANSIENT_AFTER } from '../../src/daemon/outcome-mapper.js';
import type { Failure, ReconcileOutcome } from '../../src/daemon/outcome.js';

const KEY = 'r|ns/a';
const obj: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'ns', name: 'a', resourceVersion: '1' } };
const change: PendingChange = { event: 'update', old: obj, last: obj, lane: 'live' };
const failure = (reason: string, action = 'patch'): Failure => ({ reason, message: `patch configmaps "a" on https://s: ${reason}`, action, cause: new Error(reason) });
const MAX_DELAY = 60_000;

function setup(options: { maxRetries?: number } = {}) {
  const clock = new FakeClock(1_000_000);
  const queue = new RateLimitingWorkQueue({ clock, rateLimiter: defaultControllerRateLimiter({ clock, jitter: 0, maxDelayMs: MAX_DELAY, qps: 1000, burst: 1000 }) });
  const intake = new Intake({ queue, clock });
  const book = new FailureBook();
  const events: string[] = [];
  const counted: string[] = [];
  const mapper = new OutcomeMapper({
    queue,
    intake,
    book,
    clock,
    logger: new MemoryLogger(),
    hooks: { failure: (rule, outcome, reason) => counted.push(`${rule} ${outcome} ${reason}`), retriesExhausted: (rule) => counted.push(`${rule} exhausted`) },
    warn: (rule, _obj, reason, message) => events.push(`${reason}: ${message}`),
    maxRetries: options.maxRetries,
  });
  /** Hands the key to a worker, applies `outcome` to it (as the controller does), and marks it done. */
  const settle = async (outcome: ReconcileOutcome) => {
    intake.putBack(KEY, change);
    queue.add(KEY);
    expect(await queue.get()).to.equal(KEY);
    const taken = intake.take(KEY);
    mapper.apply(KEY, outcome, { rule: 'r', trigger: obj, change: taken });
    queue.done(KEY);
  };
  /** Milliseconds until the key is queued again (advancing the fake clock), or undefined within `horizon`. */
  const requeuedAfter = (horizon = 10 * MAX_DELAY): number | undefined => {
    const start = clock.now();
    for (let t = 0; t <= horizon; t += 1) {
      if (queue.len() > 0) return clock.now() - start;
      const due = queue.dueAt(KEY);
      if (due === undefined) return undefined;
      clock.set(Math.max(clock.now() + 1, due));
    }
    return undefined;
  };
  return { clock, queue, intake, book, events, counted, settle, requeuedAfter };
}

describe('OutcomeMapper (one outcome per evaluation, mapped in one place)', () => {
  it('done: forgets the key\'s retries, drops the change and cancels a pending re-check', async () => {
    const s = setup();
    await s.settle({ kind: 'transient', failure: failure('ServiceUnavailable') });
    s.intake.recheck(KEY, s.clock.now() + 5000, obj);
    await s.settle({ kind: 'done' });
    expect(s.queue.numRequeues(KEY)).to.equal(0);
    expect(s.intake.hasPending(KEY)).to.equal(false);
    expect(s.intake.recheckAt(KEY)).to.equal(undefined);
    expect(s.requeuedAfter()).to.equal(undefined);
    expect(s.book.inRetry()).to.deep.equal({});
  });

  it('recheck at T: forgets, and queues the key exactly at T with event recheck; each evaluation replaces the re-check', async () => {
    const s = setup();
    const t0 = s.clock.now();
    await s.settle({ kind: 'recheck', at: t0 + 90_000 });
    await s.settle({ kind: 'recheck', at: t0 + 30_000 });
    expect(s.queue.numRequeues(KEY)).to.equal(0);
    s.clock.set(t0 + 29_999);
    expect(s.queue.len()).to.equal(0);
    s.clock.set(t0 + 30_000);
    expect(s.queue.len()).to.equal(1);
    expect(await s.queue.get()).to.equal(KEY);
    expect(s.intake.take(KEY)).to.deep.include({ event: 'recheck', last: obj, lane: 'live' });
    s.queue.done(KEY);
    s.clock.set(t0 + 90_000);
    expect(s.queue.len(), 'the replaced re-check never fires').to.equal(0);
    // A later re-check, then a newer evaluation that is done: nothing fires.
    await s.settle({ kind: 'recheck', at: s.clock.now() + 1000 });
    await s.settle({ kind: 'done' });
    s.clock.advance(5000);
    expect(s.queue.len()).to.equal(0);
  });

  it('transient: keeps the change and retries with the key\'s backoff, counted in the gauge with the last error', async () => {
    const s = setup();
    await s.settle({ kind: 'transient', failure: failure('ServiceUnavailable') });
    expect(s.intake.peek(KEY)).to.deep.equal(change);
    expect(s.book.inRetry()).to.deep.equal({ r: 1 });
    expect(s.book.lastError('r')).to.include({ reason: 'ServiceUnavailable' });
    expect(s.requeuedAfter()).to.equal(5);
    await s.settle({ kind: 'transient', failure: failure('ServiceUnavailable') });
    expect(s.requeuedAfter()).to.equal(10);
    expect(s.counted).to.deep.equal(['r transient ServiceUnavailable', 'r transient ServiceUnavailable']);
  });

  it('transient with Retry-After: waits at least as long as the server asked', async () => {
    const s = setup();
    await s.settle({ kind: 'transient', failure: failure('TooManyRequests'), retryAfterMs: 3000 });
    expect(s.requeuedAfter()).to.equal(3000);
  });

  it('transient, however long: never gives up by default, retrying at the ceiling; reported once after a few retries', async () => {
    const s = setup();
    const gaps: number[] = [];
    for (let i = 0; i < 40; i++) {
      await s.settle({ kind: 'transient', failure: failure('NetworkError') });
      gaps.push(s.requeuedAfter() ?? -1);
    }
    expect(gaps.slice(-10)).to.deep.equal(Array(10).fill(MAX_DELAY));
    expect(s.events).to.have.length(1);
    expect(s.events[0]).to.match(/^ReflexRetrying: rule r: patch configmaps "a" on https:\/\/s: NetworkError \(still failing after 8 attempts/);
    expect(REPORT_TRANSIENT_AFTER).to.equal(8);
    expect(s.intake.hasPending(KEY)).to.equal(true);
  });

  it('transient with maxRetries: gives up after that many retries, drops the change, reports it', async () => {
    const s = setup({ maxRetries: 3 });
    for (let i = 0; i < 3; i++) {
      await s.settle({ kind: 'transient', failure: failure('Conflict') });
      expect(s.requeuedAfter()).to.be.a('number');
    }
    await s.settle({ kind: 'transient', failure: failure('Conflict') });
    expect(s.requeuedAfter()).to.equal(undefined);
    expect(s.intake.hasPending(KEY)).to.equal(false);
    expect(s.queue.numRequeues(KEY)).to.equal(0);
    expect(s.events.filter((e) => e.startsWith('ReflexRetriesExhausted'))).to.have.length(1);
    expect(s.events[0]).to.contain('failed 4 times');
    expect(s.counted).to.include('r exhausted');
    expect(s.book.inRetry()).to.deep.equal({});
  });

  it('forbidden: retries only at the slowest backoff, reported once until it clears', async () => {
    const s = setup();
    for (let i = 0; i < 4; i++) {
      await s.settle({ kind: 'forbidden', failure: failure('Forbidden') });
      expect(s.requeuedAfter()).to.equal(MAX_DELAY);
    }
    expect(s.events).to.have.length(1);
    expect(s.events[0]).to.match(/^ReflexForbidden: rule r: .*Forbidden \(forbidden; retried at the slowest backoff/);
    expect(s.book.inRetry()).to.deep.equal({ r: 1 });
    await s.settle({ kind: 'done' });
    await s.settle({ kind: 'forbidden', failure: failure('Forbidden') });
    expect(s.events, 'reported again after it cleared').to.have.length(2);
  });

  it('terminal: forgets the key, drops the change, no retry; one Warning Event per reason', async () => {
    const s = setup();
    await s.settle({ kind: 'terminal', failure: failure('Invalid') });
    expect(s.requeuedAfter()).to.equal(undefined);
    expect(s.intake.hasPending(KEY)).to.equal(false);
    await s.settle({ kind: 'terminal', failure: failure('Invalid') });
    await s.settle({ kind: 'terminal', failure: failure('KindNotServed') });
    expect(s.events.map((e) => e.split(':')[0])).to.deep.equal(['ReflexActionFailed', 'ReflexActionFailed']);
    expect(s.events[0]).to.equal('ReflexActionFailed: rule r: patch configmaps "a" on https://s: Invalid (not retried until the object or the rule changes)');
    expect(s.book.inRetry()).to.deep.equal({});
    expect(s.book.lastError('r')).to.include({ reason: 'KindNotServed' });
    expect(s.counted).to.deep.equal(['r terminal Invalid', 'r terminal Invalid', 'r terminal KindNotServed']);
  });

  it('terminal evaluation failures are reported as such', async () => {
    const s = setup();
    await s.settle({ kind: 'terminal', failure: { reason: 'EvaluationFailed', message: 'rule "r": when "x": boom', cause: new Error('boom') } });
    expect(s.events).to.deep.equal(['ReflexEvaluationFailed: rule r: rule "r": when "x": boom (not retried until the object or the rule changes)']);
  });

  it('skipped by a limit: forgets the key and drops the change, without a retry', async () => {
    const s = setup();
    await s.settle({ kind: 'transient', failure: failure('Conflict') });
    await s.settle({ kind: 'skipped', limit: 'loop-guard' });
    expect(s.requeuedAfter()).to.equal(undefined);
    expect(s.intake.hasPending(KEY)).to.equal(false);
    expect(s.queue.numRequeues(KEY)).to.equal(0);
    expect(s.book.inRetry()).to.deep.equal({});
  });
});
