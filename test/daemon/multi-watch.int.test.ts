import { expect } from 'chai';
import { createClient, type KubeClient } from '../../src/client/index.js';
import { SharedInformerFactory } from '../../src/informers/index.js';
import { loadRules } from '../../src/engine/index.js';
import { RuleController } from '../../src/daemon/controller.js';
import { useCluster, type ClusterFixture } from '../support/cluster.js';

/** Runs a controller with `rulesYaml` until `stop`. */
async function start(fx: ClusterFixture, rulesYaml: string): Promise<{ client: KubeClient; stop(): Promise<void> }> {
  const client = await createClient({ kubeconfig: fx.cp.kubeconfig });
  const factory = new SharedInformerFactory(client);
  const controller = new RuleController({ client, factory, workers: 2, queue: { baseDelayMs: 5, maxDelayMs: 200 } });
  const { rules, errors } = loadRules([{ file: 'rules.yaml', text: rulesYaml }]);
  expect(errors.map((e) => e.message)).to.deep.equal([]);
  const ac = new AbortController();
  factory.start(ac.signal);
  await controller.setRules(new Map(rules.map((r) => [r.name, r])));
  const running = controller.run(ac.signal, { drainMs: 2000 });
  return {
    client,
    async stop() {
      ac.abort();
      await running;
      await factory.shutdown();
      await client.close();
    },
  };
}

describe('RuleController: a rule with several watches (against the control plane)', function () {
  this.timeout(90_000);
  const fx = useCluster();
  let running: Awaited<ReturnType<typeof start>> | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  it('acts on objects of each watched kind, telling apart a ConfigMap and a Secret of one name', async () => {
    const ns = fx.ns;
    const path = (plural: string, name = '') => `/api/v1/namespaces/${ns}/${plural}${name ? `/${name}` : ''}`;
    const meta = (name: string, labels: Record<string, string>) => ({ name, namespace: ns, labels });
    // One name, two kinds, the first kind kept: one key each, or the Secret would be read as the ConfigMap.
    await fx.admin.ok('POST', path('configmaps'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('same', { keep: 'yes' }) });
    await fx.admin.ok('POST', path('configmaps'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('old', { expired: 'yes' }) });
    await fx.admin.ok('POST', path('secrets'), { apiVersion: 'v1', kind: 'Secret', metadata: meta('same', { expired: 'yes' }) });
    await fx.admin.ok('POST', path('secrets'), { apiVersion: 'v1', kind: 'Secret', metadata: meta('kept', { keep: 'yes' }) });
    await fx.admin.ok('POST', path('serviceaccounts'), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('sa', { expired: 'yes' }) });
    running = await start(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: delete-expired }
spec:
  watch:
    - { apiVersion: v1, kind: ConfigMap, namespaces: [${ns}] }
    - { apiVersion: v1, kind: Secret, namespaces: [${ns}] }
    - { apiVersion: v1, kind: ServiceAccount, namespaces: [${ns}], labelSelector: expired }
  when: "metadata.labels.expired = 'yes'"
  actions:
    - delete: {}
`,
    );
    const gone = (plural: string, name: string) => async () => (await fx.admin.call('GET', path(plural, name))).status === 404;
    await fx.admin.eventually(gone('configmaps', 'old'), 20_000, 'the expired ConfigMap deleted');
    await fx.admin.eventually(gone('secrets', 'same'), 20_000, 'the expired Secret of the same name deleted');
    await fx.admin.eventually(gone('serviceaccounts', 'sa'), 20_000, 'the expired ServiceAccount deleted');
    // Created after the start: a live event of the second kind.
    await fx.admin.ok('POST', path('secrets'), { apiVersion: 'v1', kind: 'Secret', metadata: meta('other', { expired: 'yes' }) });
    await fx.admin.eventually(gone('secrets', 'other'), 20_000, 'the expired Secret created later deleted');
    expect((await fx.admin.call('GET', path('secrets', 'kept'))).status).to.equal(200);
    expect((await fx.admin.call('GET', path('configmaps', 'same'))).status).to.equal(200);
  });
});
