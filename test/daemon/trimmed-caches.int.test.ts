import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { createClient } from '../../src/client/index.js';
import { RuleController, type ControllerTrace } from '../../src/daemon/index.js';
import { loadRules } from '../../src/engine/index.js';
import { SharedInformerFactory, type SharedInformerFactoryOptions } from '../../src/informers/index.js';
import { useCluster } from '../support/cluster.js';

const rule = (name: string, ns: string, spec: string) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: ${name} }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${ns}] }
${spec}
`;
const big = 'x'.repeat(4000);

describe('trimmed caches (RuleController against the control plane)', function () {
  this.timeout(120_000);
  const fx = useCluster();
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
    stop = undefined;
  });

  async function start(rulesYaml: string, factoryOptions: SharedInformerFactoryOptions = {}) {
    const client = await createClient({ kubeconfig: fx.cp.kubeconfig });
    const factory = new SharedInformerFactory(client, factoryOptions);
    const traces: ControllerTrace[] = [];
    const controller = new RuleController({ client, factory, workers: 2, queue: { baseDelayMs: 5, maxDelayMs: 200 }, pendingRetryMs: 500, hooks: { trace: (t) => traces.push(t) } });
    const ac = new AbortController();
    factory.start(ac.signal);
    const setRules = async (yaml: string) => {
      const { rules, errors } = loadRules([{ file: 'rules.yaml', text: yaml }]);
      expect(errors.map((e) => e.message)).to.deep.equal([]);
      await controller.setRules(new Map(rules.map((r) => [r.name, r])));
    };
    await setRules(rulesYaml);
    const running = controller.run(ac.signal, { drainMs: 2000 });
    stop = async () => {
      ac.abort();
      await running;
      await factory.shutdown();
      await client.close();
    };
    /** The cached copies of `name` in every informer of the namespace's ConfigMaps. */
    const cached = (name: string) =>
      factory
        .list()
        .filter((i) => i.description.startsWith('v1 ConfigMap'))
        .map((i) => i.store.get(`${fx.ns}/${name}`) as KubeObject | undefined)
        .filter((o): o is KubeObject => o !== undefined);
    return { factory, traces, setRules, cached };
  }

  const cmPath = () => `/api/v1/namespaces/${fx.ns}/configmaps`;
  const annotated = (name: string) =>
    fx.admin.eventually(async () => (await fx.admin.ok<KubeObject>('GET', `${cmPath()}/${name}`)).metadata?.annotations?.seen === 'yes', 20_000, `${name} to be annotated`);

  it('keeps only what the rules read of each object, acts on it, and keeps whole objects once a rule reads them whole', async () => {
    await fx.admin.ok('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'on', labels: { app: 'web' } }, data: { flag: 'on', big } });
    await fx.admin.ok('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'off', labels: { app: 'web' } }, data: { flag: 'off', big } });
    const flagRule = rule('flagged', fx.ns, `  when: "metadata.labels.app = 'web' and data.flag = 'on'"
  actions:
    - patch: { patch: { metadata: { annotations: { seen: "yes" } } } }`);
    const r = await start(flagRule);
    await annotated('on');
    await fx.admin.eventually(async () => r.cached('on')[0]?.metadata?.annotations?.seen === 'yes', 20_000, 'the cache to see the annotation');
    const [copy] = r.cached('on');
    expect(r.cached('on')).to.have.length(1);
    expect(copy.data).to.deep.equal({ flag: 'on' }); // `big` is not read by any rule: not kept
    expect(copy.metadata?.labels).to.deep.equal({ app: 'web' });
    expect(copy.metadata?.resourceVersion).to.be.a('string');
    expect((await fx.admin.ok<KubeObject>('GET', `${cmPath()}/off`)).metadata?.annotations?.seen).to.equal(undefined);

    // A second rule renders the whole object: the caches of ConfigMaps keep whole objects again.
    await r.setRules(`${flagRule}---\n${rule('whole', fx.ns, `  actions:\n    - log: { message: "{{ $string($) }}" }`)}`);
    await fx.admin.eventually(async () => r.cached('off').length > 0 && r.cached('off').every((o) => (o.data as Record<string, string>).big === big), 30_000, 'whole objects in the caches');
    await fx.admin.ok('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later', labels: { app: 'web' } }, data: { flag: 'on', big } });
    await annotated('later');
  });

  it('keeps whole objects with trimming off (the daemon\'s caches.trim: false), and acts the same', async () => {
    await fx.admin.ok('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'whole-on', labels: { app: 'web' } }, data: { flag: 'on', big } });
    const r = await start(
      rule('flagged-whole', fx.ns, `  when: "metadata.labels.app = 'web' and data.flag = 'on'"
  actions:
    - patch: { patch: { metadata: { annotations: { seen: "yes" } } } }`),
      { trimCaches: false },
    );
    await annotated('whole-on');
    await fx.admin.eventually(async () => r.cached('whole-on')[0]?.metadata?.annotations?.seen === 'yes', 20_000, 'the cache to see the annotation');
    expect(r.cached('whole-on')).to.have.length(1);
    expect(r.cached('whole-on')[0].data).to.deep.equal({ flag: 'on', big }); // `big` is read by no rule, and kept
  });
});
