import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { dump, load } from 'js-yaml';
import { repoRoot } from '../support/control-plane.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { useCluster } from '../support/cluster.js';
import { kubectlApply, writeConfig } from './daemon-support.js';
import { condition, deleteClusterRules, getRule, installCrds, pastNewCrdHold, removeCrds, rulePath, waitCondition } from './crd-support.js';

type Doc = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown> };

describe('rules as ClusterRule and Rule objects (end to end)', function () {
  this.timeout(180_000);
  // Registered before useCluster's: it runs before the admin client closes.
  after(async () => {
    // Rule objects are cluster-wide state: the daemons of other tests must not find any.
    if (fx.admin) await removeCrds(fx);
  });
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  const others: string[] = [];
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    await deleteClusterRules(fx);
    for (const ns of others.splice(0)) await fx.admin.call('DELETE', `/api/v1/namespaces/${ns}`);
  });

  const start = () =>
    DaemonProcess.start({
      kubeconfig: fx.cp.kubeconfig,
      args: ['--config', writeConfig(`namespace: ${fx.ns}\nrules: { configMaps: { enabled: false } }\nleaderElection: { enabled: false }\n`)],
    });
  const kubectl = (...args: string[]) => execFileSync('kubectl', ['--kubeconfig', fx.cp.kubeconfig, ...args], { encoding: 'utf8' });
  /** A rule of rules/ as a ClusterRule, its watch narrowed to this test's namespace. */
  const shipped = (file: string): Doc => {
    const doc = load(readFileSync(join(repoRoot, 'rules', file), 'utf8')) as Doc;
    const watch = doc.spec.watch as Record<string, unknown>;
    return { ...doc, kind: 'ClusterRule', spec: { ...doc.spec, watch: { ...watch, namespaces: [fx.ns] } } };
  };
  const deployment = (name: string, replicas: number) =>
    fx.admin.ok('POST', `/apis/apps/v1/namespaces/${fx.ns}/deployments`, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name },
      spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
    });
  const pdbStatus = async (name: string) => (await fx.admin.call('GET', `/apis/policy/v1/namespaces/${fx.ns}/poddisruptionbudgets/${name}`)).status;

  it('a ClusterRule from rules/ is Ready within 3 s and generates; deleting it prunes what it generated', async () => {
    await installCrds(fx);
    daemon = await start();
    const rule = shipped('deployment-pdb.yaml');
    // Timed from the create: not while the API server holds creates for a CRD just installed.
    await pastNewCrdHold(fx);
    const applied = Date.now();
    kubectlApply(fx, dump(rule));
    const ready = await waitCondition(fx, 'deployment-pdb', 'Ready', 'True', 10_000);
    const readyMs = Date.now() - applied;
    console.log(`      Ready ${readyMs} ms after kubectl apply`);
    expect(readyMs, `Ready after ${readyMs} ms`).to.be.at.most(3000);
    expect(condition(ready, 'Stalled')?.status).to.equal('False');
    // kubectl's table: the READY column says it.
    const row = kubectl('get', 'clusterrules').split('\n').find((l) => l.startsWith('deployment-pdb '));
    expect(row, 'kubectl get clusterrules lists it').to.match(/^deployment-pdb\s+True\s+Deployment\s+enforce\s/);

    await deployment('web', 2);
    await fx.admin.eventually(async () => (await pdbStatus('web')) === 200, 20_000, 'the PodDisruptionBudget to be generated');
    const counted = await fx.admin.eventually(async () => {
      const o = await getRule(fx, 'deployment-pdb');
      return (o.status?.actionsSucceeded ?? 0) >= 1 && (o.status?.evaluations ?? 0) >= 1 ? o : undefined;
    }, 15_000, 'the status to count the evaluation and the apply');
    expect(counted.status?.objectsMatched).to.equal(1);

    kubectl('delete', 'clusterrule', 'deployment-pdb');
    await fx.admin.eventually(async () => (await pdbStatus('web')) === 404, 20_000, 'the PodDisruptionBudget to be pruned');
  });

  it('a ClusterRule with a JSONata syntax error is Stalled with field:line:col within 3 s; fixed, it is Ready with observedGeneration following', async () => {
    await installCrds(fx);
    daemon = await start();
    const broken: Doc = {
      apiVersion: 'reflex.dev/v1alpha1',
      kind: 'ClusterRule',
      metadata: { name: 'label-configmaps' },
      spec: {
        watch: { apiVersion: 'v1', kind: 'ConfigMap', namespaces: [fx.ns] },
        when: '$exists(data) and (',
        actions: [{ patch: { patch: { metadata: { labels: { seen: 'yes' } } } } }],
      },
    };
    await pastNewCrdHold(fx);
    const applied = Date.now();
    kubectlApply(fx, dump(broken));
    const stalled = await waitCondition(fx, 'label-configmaps', 'Stalled', 'True', 10_000);
    const stalledMs = Date.now() - applied;
    console.log(`      Stalled ${stalledMs} ms after kubectl apply`);
    expect(stalledMs, `Stalled after ${stalledMs} ms`).to.be.at.most(3000);
    const c = condition(stalled, 'Stalled')!;
    expect(c.reason).to.equal('InvalidRule');
    expect(c.message).to.match(/^spec\.when:1:\d+: JSONata syntax error/);
    expect(condition(stalled, 'Ready')?.status).to.equal('False');
    expect(stalled.status?.observedGeneration).to.equal(1);

    // The first status of a new generation is not held back by the 5 s between two writes. (A
    // merge patch: kubectl apply of a change first fetches the server's OpenAPI v2, up to seconds.)
    const edited = Date.now();
    await fx.admin.ok('PATCH', rulePath('label-configmaps'), { spec: { when: '$exists(data)' } }, 'application/merge-patch+json');
    const fixed = await waitCondition(fx, 'label-configmaps', 'Ready', 'True', 15_000);
    const fixedMs = Date.now() - edited;
    console.log(`      fixed: Ready ${fixedMs} ms after the edit`);
    expect(fixedMs, `Ready after ${fixedMs} ms`).to.be.at.most(3000);
    expect(fixed.metadata.generation).to.equal(2);
    expect(fixed.status?.observedGeneration).to.equal(2);
    expect(condition(fixed, 'Stalled')).to.include({ status: 'False', observedGeneration: 2 });
    expect(Date.parse(condition(fixed, 'Stalled')!.lastTransitionTime)).to.be.at.least(Date.parse(c.lastTransitionTime));
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' }, data: { a: 'b' } });
    await fx.admin.eventually(async () => (await fx.admin.ok<{ metadata: { labels?: Record<string, string> } }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps/one`)).metadata.labels?.seen === 'yes', 20_000, 'the fixed rule to act');
  });

  it('picks up the CRDs installed after the daemon started, without a restart', async () => {
    await removeCrds(fx);
    daemon = await start();
    await daemon.waitForLog((l) => /ClusterRule objects not watched yet/.test(l.message), 20_000, 'the kind to be pending');
    await installCrds(fx);
    kubectlApply(fx, dump(shipped('deployment-pdb.yaml')));
    // Discovery is asked again after 5 s, 10 s, 20 s… (at most a minute apart).
    await waitCondition(fx, 'deployment-pdb', 'Ready', 'True', 75_000);
    await deployment('api', 3);
    await fx.admin.eventually(async () => (await pdbStatus('api')) === 200, 20_000, 'the PodDisruptionBudget to be generated');
  });

  it('a Rule whose ServiceAccount may not patch shows Forbidden in its status', async () => {
    await installCrds(fx);
    await fx.admin.ok('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${fx.ns}/roles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'read' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }] });
    await fx.admin.ok('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${fx.ns}/rolebindings`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'read' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: fx.ns }] });
    daemon = await start();
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target', labels: { app: 'demo' } } });
    kubectlApply(fx, dump({
      apiVersion: 'reflex.dev/v1alpha1',
      kind: 'Rule',
      metadata: { name: 'stamp', namespace: fx.ns },
      spec: { watch: { apiVersion: 'v1', kind: 'ConfigMap', labelSelector: 'app=demo' }, when: "$not(metadata.labels.stamped = 'yes')", actions: [{ patch: { patch: { metadata: { labels: { stamped: 'yes' } } } } }] },
    }));
    const stalled = await waitCondition(fx, 'stamp', 'Stalled', 'True', 20_000, fx.ns);
    const c = condition(stalled, 'Stalled')!;
    console.log(`      Stalled: ${c.reason}: ${c.message}`);
    expect(c.reason).to.equal('Forbidden');
    expect(c.message).to.match(/forbidden/i);
    expect(stalled.status?.lastError).to.equal(c.message);
  });

  it('two Rules of one name in two namespaces both load and act, each in its namespace', async () => {
    await installCrds(fx);
    const second = `${fx.ns}-b`;
    others.push(second);
    await fx.admin.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: second } });
    for (const ns of [fx.ns, second]) {
      // What the namespace's default ServiceAccount may do: the Rule acts as it.
      await fx.admin.ok('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'stamp' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'patch'] }] });
      await fx.admin.ok('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'stamp' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'stamp' }, subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: ns }] });
    }
    daemon = await start();
    for (const ns of [fx.ns, second]) {
      kubectlApply(fx, dump({
        apiVersion: 'reflex.dev/v1alpha1',
        kind: 'Rule',
        metadata: { name: 'stamp', namespace: ns },
        spec: { watch: { apiVersion: 'v1', kind: 'ConfigMap', labelSelector: 'app=demo' }, when: "$not(metadata.labels.stamped = 'yes')", actions: [{ patch: { patch: { metadata: { labels: { stamped: 'yes' } } } } }] },
      }));
      await fx.admin.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target', labels: { app: 'demo' } } });
    }
    for (const ns of [fx.ns, second]) {
      await waitCondition(fx, 'stamp', 'Ready', 'True', 15_000, ns);
      await fx.admin.eventually(async () => (await fx.admin.ok<{ metadata: { labels?: Record<string, string> } }>('GET', `/api/v1/namespaces/${ns}/configmaps/target`)).metadata.labels?.stamped === 'yes', 20_000, `the ConfigMap of ${ns} to be stamped`);
    }
    // Each acted in its own namespace only (its watch is confined there).
    const stampedIn = async (ns: string) => (await fx.admin.ok<{ items: unknown[] }>('GET', `/api/v1/namespaces/${ns}/configmaps?labelSelector=stamped%3Dyes`)).items.length;
    expect(await stampedIn(fx.ns)).to.equal(1);
    expect(await stampedIn(second)).to.equal(1);
    const metrics = (await daemon.get('/metrics', 'metrics')).text;
    expect(metrics).to.include(`rule="Rule/${fx.ns}/stamp"`);
    expect(metrics).to.include(`rule="Rule/${second}/stamp"`);
  });
});
