import { expect } from 'chai';
import { createClient, type DynamicClient } from '../../src/client/index.js';
import { LeaderElector } from '../../src/daemon/index.js';
import { useCluster } from '../support/cluster.js';

/** Polls until `check` holds; returns the milliseconds it took. */
async function within(ms: number, check: () => boolean, what: string): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

describe('LeaderElector against the API server (two electors in one process)', function () {
  this.timeout(30_000);
  const fx = useCluster();
  const clients: DynamicClient[] = [];
  const runs: AbortController[] = [];

  async function candidate(identity: string) {
    const client = await createClient({ kubeconfig: fx.cp.kubeconfig });
    clients.push(client);
    const elector = new LeaderElector({
      client,
      name: 'reflex',
      namespace: fx.ns,
      identity,
      leaseDurationSeconds: 3,
      renewDeadlineSeconds: 2,
      retryPeriodSeconds: 0.5,
    });
    const ctl = new AbortController();
    runs.push(ctl);
    const done = elector.run(ctl.signal);
    return { elector, ctl, done };
  }

  afterEach(async () => {
    for (const c of runs.splice(0)) c.abort();
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  it('lets only one of two candidates lead, recorded on the Lease', async () => {
    const a = await candidate('a');
    const b = await candidate('b');
    await within(5_000, () => a.elector.isLeader() || b.elector.isLeader(), 'a leader');
    await new Promise((r) => setTimeout(r, 1_500)); // a few renew periods: leadership must not flap or double
    expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).to.have.length(1);
    const leader = a.elector.isLeader() ? 'a' : 'b';
    const lease = await fx.admin.ok<{ spec: Record<string, unknown> }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${fx.ns}/leases/reflex`);
    expect(lease.spec).to.include({ holderIdentity: leader, leaseDurationSeconds: 3, leaseTransitions: 0 });
    expect(lease.spec.renewTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('hands leadership to the other candidate at once after a release', async () => {
    const a = await candidate('a');
    await within(5_000, () => a.elector.isLeader(), 'a to lead');
    const b = await candidate('b');
    await new Promise((r) => setTimeout(r, 600));
    a.ctl.abort();
    await a.done;
    await a.elector.release();
    const took = await within(2_000, () => b.elector.isLeader(), 'b to lead after the release');
    expect(took).to.be.below(1_500); // one retry period plus jitter, far below the 3 s lease
    const lease = await fx.admin.ok<{ spec: Record<string, unknown> }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${fx.ns}/leases/reflex`);
    expect(lease.spec).to.include({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('takes over within the lease duration after the leader stops renewing without a release', async () => {
    const a = await candidate('a');
    await within(5_000, () => a.elector.isLeader(), 'a to lead');
    const b = await candidate('b');
    await new Promise((r) => setTimeout(r, 600));
    a.ctl.abort(); // as a SIGKILL: no release
    const took = await within(6_000, () => b.elector.isLeader(), 'b to take over');
    expect(took).to.be.at.least(1_500).and.below(3_000 + 1_500); // the lease must expire first; then one retry period
  });
});
