import { expect } from 'chai';
import { FakeClock } from '../../src/core/index.js';
import { formatMicroTime as microTime } from '../../src/core/index.js';
import { LeaderElector, type LeaderElectorOptions } from '../../src/daemon/index.js';
import { MemoryLeases } from './lease-store.js';

const flush = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

describe('LeaderElector (timing, on a fake clock)', () => {
  let clock: FakeClock;
  let leases: MemoryLeases;
  const runs: AbortController[] = [];

  /** Advances the fake clock in 100 ms steps, letting the electors' requests complete in between. */
  async function pass(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 100) {
      clock.advance(Math.min(100, ms - t));
      await flush();
    }
  }

  function candidate(identity: string, extra: Partial<LeaderElectorOptions> = {}) {
    const events: string[] = [];
    let leadSignal: AbortSignal | undefined;
    const elector = new LeaderElector({
      client: leases.client(),
      name: 'reflex',
      namespace: 'ops',
      identity,
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
      clock,
      random: () => 0,
      onStartedLeading: (signal) => {
        leadSignal = signal;
        events.push('started');
      },
      onStoppedLeading: () => events.push('stopped'),
      ...extra,
    });
    const ctl = new AbortController();
    runs.push(ctl);
    const done = elector.run(ctl.signal);
    return { elector, events, ctl, done, leadSignal: () => leadSignal };
  }

  beforeEach(() => {
    clock = new FakeClock(Date.UTC(2026, 0, 1));
    leases = new MemoryLeases();
  });
  afterEach(async () => {
    for (const c of runs.splice(0)) c.abort();
    await flush();
  });

  it('lets exactly one of two candidates lead and records it on the Lease', async () => {
    const a = candidate('a');
    await flush();
    const b = candidate('b');
    await pass(5_000);
    expect([a.elector.isLeader(), b.elector.isLeader()]).to.deep.equal([true, false]);
    expect(a.events).to.deep.equal(['started']);
    expect(b.elector.leader()).to.equal('a');
    const spec = leases.lease('ops', 'reflex')?.spec;
    expect(spec).to.include({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0, acquireTime: microTime(Date.UTC(2026, 0, 1)) });
  });

  it('renews the Lease every retry period while leading', async () => {
    const a = candidate('a');
    await pass(2_100);
    const first = leases.lease('ops', 'reflex')?.spec?.renewTime;
    await pass(2_000);
    const second = leases.lease('ops', 'reflex')?.spec?.renewTime;
    expect(Date.parse(String(second)) - Date.parse(String(first))).to.equal(2_000);
    expect(a.elector.isLeader()).to.equal(true);
  });

  it('takes over a Lease its holder stopped renewing once the lease duration has passed, not before', async () => {
    const a = candidate('a');
    await pass(100);
    const b = candidate('b');
    await pass(1_000);
    a.ctl.abort(); // the leader dies without releasing
    await pass(13_000);
    expect(b.elector.isLeader()).to.equal(false);
    await pass(4_000);
    expect(b.elector.isLeader()).to.equal(true);
    expect(leases.lease('ops', 'reflex')?.spec).to.include({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('hands the Lease over at the next attempt after a release', async () => {
    const a = candidate('a');
    await pass(100);
    const b = candidate('b');
    await pass(1_000);
    a.ctl.abort();
    await a.done;
    await a.elector.release();
    expect(leases.lease('ops', 'reflex')?.spec).to.include({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(a.elector.isLeader()).to.equal(false);
    expect(a.events).to.deep.equal(['started', 'stopped']);
    await pass(2_000);
    expect(b.elector.isLeader()).to.equal(true);
  });

  it('stops leading when it cannot renew within the renew deadline, and campaigns again', async () => {
    const a = candidate('a');
    await pass(100);
    leases.unreachable = true;
    await pass(8_000);
    expect(a.elector.isLeader()).to.equal(true);
    await pass(2_100);
    expect(a.elector.isLeader()).to.equal(false);
    expect(a.leadSignal()?.aborted).to.equal(true);
    expect(a.events).to.deep.equal(['started', 'stopped']);
    leases.unreachable = false;
    await pass(2_000);
    expect(a.events).to.deep.equal(['started', 'stopped', 'started']);
  });

  it('stops leading at once when another holder shows up on the Lease', async () => {
    const a = candidate('a');
    await pass(100);
    const lease = leases.lease('ops', 'reflex');
    const other = leases.client();
    await other.update({ ...lease!, spec: { ...lease!.spec, holderIdentity: 'intruder' } } as never);
    await pass(2_000);
    expect(a.elector.isLeader()).to.equal(false);
    expect(a.events).to.deep.equal(['started', 'stopped']);
  });

  it('releases the Lease even when its last view of it is stale', async () => {
    const a = candidate('a');
    await pass(100);
    const lease = leases.lease('ops', 'reflex');
    await leases.client().update(structuredClone(lease!)); // same holder, new resourceVersion
    a.ctl.abort();
    await a.done;
    await a.elector.release();
    expect(leases.lease('ops', 'reflex')?.spec).to.include({ holderIdentity: '', leaseDurationSeconds: 1 });
  });

  it('releases nothing when it does not lead', async () => {
    candidate('a');
    await pass(100);
    const b = candidate('b');
    await pass(100);
    b.ctl.abort();
    await b.elector.release();
    expect(leases.lease('ops', 'reflex')?.spec?.holderIdentity).to.equal('a');
  });

  it('formats times as the API server\'s MicroTime', () => {
    expect(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).to.equal('2026-01-02T03:04:05.678000Z');
  });
});
