/** The chart's sharding switch: N replicas, the member RBAC in the release namespace, the config's sharding section. */
import { expect } from 'chai';
import { load } from 'js-yaml';
import { loadDaemonConfig } from '../../src/daemon/index.js';
import { only, render, type Manifest } from './render.js';

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
const replicas = (m: Manifest[]) => (only(m, 'Deployment').spec as { replicas: number }).replicas;
const roleRules = (m: Manifest[]) => (only(m, 'Role') as unknown as { rules: Rule[] }).rules;
const config = (m: Manifest[]) => load((only(m, 'ConfigMap', 'rx-reflex-config') as unknown as { data: Record<string, string> }).data['reflex.yaml']) as Record<string, unknown>;
const leaseVerbs = (m: Manifest[]) => roleRules(m).filter((r) => r.resources.includes('leases')).flatMap((r) => r.verbs).sort();

describe('charts/reflex sharding', () => {
  it('is off by default: replicaCount replicas, leader election only, no list or delete of Leases', () => {
    const m = render('reflex');
    expect(replicas(m)).to.equal(2);
    expect(config(m)).to.not.have.property('sharding');
    expect(leaseVerbs(m)).to.deep.equal(['create', 'get', 'update']);
  });

  it('when enabled, runs sharding.replicas pods with the member Lease rights and the config section', () => {
    const m = render('reflex', { sharding: { enabled: true, replicas: 4, buckets: 32, leaseDuration: '20s', renewDeadline: '12s', retryPeriod: '1s' }, replicaCount: 2 });
    expect(replicas(m)).to.equal(4);
    expect(leaseVerbs(m)).to.deep.equal(['create', 'delete', 'get', 'list', 'update']);
    // Only Leases, only in the release namespace (a Role, not the ClusterRole).
    expect((only(m, 'Role').metadata as { namespace: string }).namespace).to.equal('reflex');
    const cluster = (only(m, 'ClusterRole') as unknown as { rules: Rule[] }).rules;
    expect(cluster.some((r) => r.resources.includes('leases'))).to.equal(false);
    const cfg = config(m);
    expect(cfg.sharding).to.deep.equal({ enabled: true, ringName: 'rx-reflex-shard', buckets: 32, leaseDuration: '20s', renewDeadline: '12s', retryPeriod: '1s' });
    expect((cfg.leaderElection as { enabled: boolean }).enabled, 'leader election stays on for rule-wide reports').to.equal(true);
  });

  it('renders a config the daemon accepts, with the durations as seconds', () => {
    const m = render('reflex', { sharding: { enabled: true } });
    const text = (only(m, 'ConfigMap', 'rx-reflex-config') as unknown as { data: Record<string, string> }).data['reflex.yaml'];
    const c = loadDaemonConfig({ file: '/etc/reflex/reflex.yaml', readFile: () => text, env: { POD_NAMESPACE: 'reflex', KUBERNETES_SERVICE_HOST: '10.0.0.1' } });
    expect(c.sharding).to.include({ enabled: true, ringName: 'rx-reflex-shard', buckets: 64, leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 });
  });

  it('refuses a bad sharding value (values.schema.json)', () => {
    expect(() => render('reflex', { sharding: { enabled: true, replicas: 0 } })).to.throw(/replicas/);
    expect(() => render('reflex', { sharding: { shards: 3 } })).to.throw(/shards/);
  });
});
