/**
 * The catch-up idiom end to end (daemon as a child process, real control plane): the shipped
 * rollout-on-configmap-change keeps its state in the Deployment (a hash of the ConfigMap data),
 * so a change made while the daemon is stopped is found at start-up; and a regex built from an
 * annotation ($regex) picks the namespaces a Secret is replicated into.
 */
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { useCluster } from '../support/cluster.js';
import { repoRoot } from '../support/control-plane.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { metricValue, writeConfig } from './daemon-support.js';

/** A rule file: the shipped rule of `name` with its watch narrowed to `ns`, or the given text. */
function ruleFile(text: string): string {
  const file = join(writeConfig(''), '..', 'rules.yaml');
  writeFileSync(file, text);
  return file;
}
const shippedIn = (name: string, ns: string) => {
  const doc = load(readFileSync(join(repoRoot, 'rules', `${name}.yaml`), 'utf8')) as { spec: { watch: Record<string, unknown> } };
  doc.spec.watch = { ...doc.spec.watch, namespaces: [ns] };
  return dump(doc);
};

type Deployment = { metadata: { resourceVersion: string }; spec: { template: { metadata: { annotations?: Record<string, string> } } } };

describe('catch-up after downtime and rules built from text (daemon as a child process)', function () {
  this.timeout(180_000);
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
  });
  const start = (file: string) =>
    DaemonProcess.start({
      kubeconfig: fx.cp.kubeconfig,
      args: ['--config', writeConfig(`namespace: ${fx.ns}\nrules:\n  paths: [${file}]\n  configMaps: {enabled: false}\nleaderElection: {enabled: false}\n`)],
      readyTimeoutMs: 60_000,
    });

  it('rolls a Deployment whose ConfigMap changed while the daemon was stopped within 5 s of start, and writes nothing to one whose did not', async () => {
    const ns = fx.ns;
    const cm = (name: string, v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { 'reflex.dev/rollout': 'true' } }, data: { v } });
    const deployment = (name: string, config: string) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'app', image: 'example.invalid/app:1', envFrom: [{ configMapRef: { name: config } }] }], volumes: [{ name: 'c', configMap: { name: config } }] },
        },
      },
    });
    const get = (name: string) => fx.admin.ok<Deployment>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
    const hashOf = async (name: string) => (await get(name)).spec.template.metadata.annotations?.['reflex.dev/config-hash'];
    for (const n of ['changed', 'same']) {
      await fx.admin.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, cm(`cfg-${n}`, '1'));
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, deployment(n, `cfg-${n}`));
    }
    const file = ruleFile(shippedIn('rollout-on-configmap-change', ns));
    daemon = await start(file);
    // First sight: both get the hash of their ConfigMap's data.
    await fx.admin.eventually(async () => (await hashOf('changed')) !== undefined && (await hashOf('same')) !== undefined, 30_000, 'both Deployments stamped');
    const before = { changed: await hashOf('changed'), same: await get('same') };
    await daemon.stop();
    daemon = undefined;
    await fx.admin.ok('PATCH', `/api/v1/namespaces/${ns}/configmaps/cfg-changed`, { data: { v: '2' } }, 'application/merge-patch+json');
    daemon = await start(file);
    const started = Date.parse(String((await daemon.waitForLog((l) => l.message === 'starting')).time));
    await fx.admin.eventually(async () => (await hashOf('changed')) !== before.changed, 30_000, 'the Deployment of the changed ConfigMap rolled');
    const took = Date.now() - started;
    console.log(`      rolled ${took} ms after the daemon started`);
    expect(took, 'from the daemon starting to the rollout').to.be.at.most(5000);
    // Once the sync sweep has evaluated both (one match, one no match), the unchanged one was not written.
    const metrics = async () => (await daemon!.get('/metrics', 'metrics')).text;
    const count = (text: string, result: string) => metricValue(text, 'reflex_rule_evaluations_total', `result="${result}"`) ?? 0;
    await fx.admin.eventually(async () => {
      const text = await metrics();
      return count(text, 'match') >= 1 && count(text, 'nomatch') >= 1;
    }, 10_000, 'both Deployments evaluated after the restart');
    expect((await get('same')).metadata.resourceVersion).to.equal(before.same.metadata.resourceVersion);
  });

  it('replicates a Secret only into the namespaces matching the regex its annotation holds ($regex)', async () => {
    const ns = fx.ns;
    const targets = ['app-1', 'app-22', 'app-x', 'application-3'].map((t) => `${ns}-${t}`);
    for (const t of targets) await fx.admin.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: t, labels: { replicas: ns } } });
    const rule = `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: replicate}
spec:
  watch: {apiVersion: v1, kind: Secret, namespaces: [${ns}]}
  when: $exists(metadata.annotations."replicate-to")
  actions:
    - forEach: >-
        {{ ($re := $regex("^" & metadata.namespace & "-(" & metadata.annotations."replicate-to" & ")$");
            $list("v1", "Namespace", null, "replicas=${ns}")[$contains(metadata.name, $re)].metadata.name) }}
      apply:
        object:
          apiVersion: v1
          kind: Secret
          metadata: {name: "{{ metadata.name }}", namespace: "{{ $item }}"}
          data: "{{ data }}"
`;
    daemon = await start(ruleFile(rule));
    await fx.admin.ok('POST', `/api/v1/namespaces/${ns}/secrets`, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'shared', annotations: { 'replicate-to': 'app-[0-9]+' } },
      data: { k: Buffer.from('v').toString('base64') },
    });
    const has = async (t: string) => (await fx.admin.call('GET', `/api/v1/namespaces/${t}/secrets/shared`)).status === 200;
    await fx.admin.eventually(async () => (await has(targets[0])) && (await has(targets[1])), 30_000, 'copies in app-1 and app-22');
    expect(await has(targets[2]), 'app-x').to.equal(false);
    expect(await has(targets[3]), 'application-3').to.equal(false);
    for (const t of targets) await fx.admin.call('DELETE', `/api/v1/namespaces/${t}`);
  });
});
