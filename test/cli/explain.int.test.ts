/** `reflex explain --object` against the real control plane: the object, its namespace and `$get` lookups are read live. */
import { expect } from 'chai';
import { runReflex } from '../support/reflex-cli.js';
import { useCluster } from '../support/cluster.js';

/** Runs `reflex explain` from the repository root. */
const explain = (...args: string[]) => runReflex(['explain', ...args]);

const deployment = (name: string, labels: Record<string, string>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels },
  spec: {
    replicas: 0,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'registry.example.com/app:1' }] } },
  },
});

describe('reflex explain (live)', function () {
  this.timeout(60_000);
  const fx = useCluster();
  const rule = ['--rules', 'rules/propagate-team-label.yaml'];

  it('reads the object and its Namespace from the cluster and renders the patch', async () => {
    await fx.admin.ok('PATCH', `/api/v1/namespaces/${fx.ns}`, { metadata: { labels: { team: 'payments' } } }, 'application/merge-patch+json');
    await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${fx.ns}/deployments`, deployment('api', { app: 'api', team: 'checkout' }));
    const r = await explain(...rule, '--object', `Deployment/${fx.ns}/api`, '--kubeconfig', fx.cp.kubeconfig);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain(`(from ${fx.cp.server})`);
    expect(r.out).to.match(new RegExp(`✔ namespaceSelector: "team" matches Namespace ${fx.ns}'s labels .*team=payments`));
    expect(r.out).to.contain('3. when: true');
    expect(r.out).to.contain(`[0] patch Deployment ${fx.ns}/api  options {"type":"merge"}`);
    expect(r.out).to.contain('{"metadata":{"labels":{"team":"payments"}}}');
  });

  it('says no when the live labels already agree', async () => {
    await fx.admin.ok('PATCH', `/api/v1/namespaces/${fx.ns}`, { metadata: { labels: { team: 'payments' } } }, 'application/merge-patch+json');
    await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${fx.ns}/deployments`, deployment('web', { app: 'web', team: 'payments' }));
    const r = await explain(...rule, '--object', `deployment/${fx.ns}/web`, '--kubeconfig', fx.cp.kubeconfig);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain('verdict: no action, because when is false');
  });

  it('resolves kubectl names of the kind from the server\'s discovery, and the namespace from -n', async () => {
    await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${fx.ns}/deployments`, deployment('web', { app: 'web', team: 'payments' }));
    for (const ref of [['--object', `deploy/${fx.ns}/web`], ['--object', 'deployments.apps/web', '-n', fx.ns], ['-n', fx.ns, '--object', 'deployment.v1.apps/web']]) {
      const r = await explain(...rule, ...ref, '--kubeconfig', fx.cp.kubeconfig);
      expect(r.code, `${ref.join(' ')}: ${r.err}`).to.equal(0);
      expect(r.out).to.contain(`Deployment ${fx.ns}/web`);
    }
    const wrong = await explain(...rule, '--object', `sts/${fx.ns}/web`, '--kubeconfig', fx.cp.kubeconfig);
    expect(wrong.err).to.contain('--object names a StatefulSet (apps/v1), but rule "propagate-team-label" watches apps/v1 Deployment');
  });

  it('exits 1 naming the object and the server when the object does not exist', async () => {
    const r = await explain(...rule, '--object', `Deployment/${fx.ns}/missing`, '--kubeconfig', fx.cp.kubeconfig);
    expect(r.code).to.equal(1);
    expect(r.err).to.contain(`Deployment/${fx.ns}/missing (apps/v1) was not found on ${fx.cp.server}`);
  });
});
