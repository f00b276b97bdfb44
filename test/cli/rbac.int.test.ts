/**
 * `reflex rbac` proven against the real control plane: the daemon runs the shipped rules under a
 * service account bound to exactly the printed ClusterRole and Role; all eight rules work, and taking
 * one verb away makes the matching action fail with a reported Forbidden.
 */
import type { Server } from 'node:http';
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReflex } from '../support/reflex-cli.js';
import { useCluster } from '../support/cluster.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { finishedJob, hoursAgo, installPreviewCrd, shippedRulesFor, webhookReceiver } from '../support/shipped-rules.js';
import { serviceAccountKubeconfig } from '../daemon/daemon-support.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** `reflex rbac rules/ --output json` for a ClusterRole and Role named `name`, the Role in `namespace`. */
async function rbacFor(name: string, namespace: string): Promise<Obj[]> {
  const r = await runReflex(['rbac', 'rules/', '--crds', 'examples/', '--name', name, '--namespace', namespace, '--output', 'json']);
  expect(r.code, r.err).to.equal(0);
  return JSON.parse(r.out) as Obj[];
}

/** How the RBAC authorizer words a denial: `User "…" cannot VERB resource "…"`. */
const RBAC_DENIED = /cannot \w+ resource/;

const deployment = (name: string, ns: string, volumes: Obj[] = []) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns, labels: { app: name } },
  spec: {
    replicas: 0,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { volumes, containers: [{ name: 'c', image: 'registry.example.com/app:1' }] } },
  },
});

describe('reflex rbac (the daemon under exactly that role)', function () {
  this.timeout(180_000);
  const fx = useCluster();
  let dir: string;
  let daemon: DaemonProcess | undefined;
  let createdPlatform = false;
  let createdSecret = false;
  let receiver: Server | undefined;
  const role = () => `reflex-${fx.ns}`;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-rbac-'));
  });

  afterEach(async () => {
    await daemon?.stop('SIGKILL');
    daemon = undefined;
    receiver?.close();
    const a = fx.admin;
    await a.call('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/previews.example.com');
    await a.call('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${role()}`);
    await a.call('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${role()}`);
    await a.call('DELETE', `/api/v1/namespaces/${fx.ns}-ttl`);
    // Leave the shared `platform` namespace as it was found (other suites use it too).
    if (createdSecret) await a.call('DELETE', '/api/v1/namespaces/platform/secrets/registry-credentials');
    if (createdPlatform) {
      await a.call('DELETE', '/api/v1/namespaces/platform');
      await a.eventually(async () => (await a.call('GET', '/api/v1/namespaces/platform')).status === 404, 60_000, 'the platform namespace gone');
    }
    createdPlatform = createdSecret = false;
    // default-deny-networkpolicy acts on every namespace of the shared control plane: undo it.
    const nps = await a.ok<{ items: Obj[] }>('GET', '/apis/networking.k8s.io/v1/networkpolicies?labelSelector=app.kubernetes.io/managed-by%3Dreflex');
    for (const np of nps.items.filter((n) => n.metadata.annotations?.['reflex.dev/rule'] === 'default-deny-networkpolicy')) {
      await a.call('DELETE', `/apis/networking.k8s.io/v1/namespaces/${np.metadata.namespace}/networkpolicies/${np.metadata.name}`);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Grants the printed roles to a new service account; returns its kubeconfig and the ClusterRole. */
  async function bindPrintedRoles(): Promise<{ kubeconfig: string; clusterRole: Obj }> {
    const [clusterRole, nsRole] = await rbacFor(role(), fx.ns);
    const kubeconfig = await serviceAccountKubeconfig(fx, fx.ns, 'reflex');
    const subjects = [{ kind: 'ServiceAccount', name: 'reflex', namespace: fx.ns }];
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    await fx.admin.ok('POST', `${rbac}/clusterroles`, clusterRole);
    await fx.admin.ok('POST', `${rbac}/clusterrolebindings`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: role() }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role() }, subjects });
    await fx.admin.ok('POST', `${rbac}/namespaces/${fx.ns}/roles`, nsRole);
    await fx.admin.ok('POST', `${rbac}/namespaces/${fx.ns}/rolebindings`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: role(), namespace: fx.ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role() }, subjects });
    return { kubeconfig, clusterRole };
  }

  function daemonConfig(rulesDir: string): string {
    const file = join(dir, 'reflex.yaml');
    writeFileSync(
      file,
      `namespace: ${fx.ns}
rules:
  paths: [${JSON.stringify(rulesDir)}]
  configMaps: {enabled: true}
leaderElection:
  enabled: true
  leaseName: reflex
  leaseDurationSeconds: 15
  renewDeadlineSeconds: 10
  retryPeriodSeconds: 2
`,
    );
    return file;
  }

  const get = (path: string) => fx.admin.ok<Obj>('GET', path);
  const exists = async (path: string) => (await fx.admin.call('GET', path)).status === 200;

  it('runs the shipped rules, and a verb taken away fails the action with a reported Forbidden', async () => {
    const ns = fx.ns;
    // The cluster the shipped rules act on.
    if (!(await exists('/api/v1/namespaces/platform'))) {
      await fx.admin.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'platform' } });
      createdPlatform = true;
    }
    if (!(await exists('/api/v1/namespaces/platform/secrets/registry-credentials'))) {
      await fx.admin.ok('POST', '/api/v1/namespaces/platform/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-credentials' }, type: 'Opaque', data: { token: 'c2VjcmV0' } });
      createdSecret = true;
    }
    await fx.admin.ok('PATCH', `/api/v1/namespaces/${ns}`, { metadata: { labels: { team: 'payments', 'reflex.dev/copy-registry-secret': 'true' } } }, 'application/merge-patch+json');
    await fx.admin.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${ns}-ttl`, annotations: { 'reflex.dev/expires-at': '2020-01-01T00:00:00Z' } } });
    await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, deployment('api', ns));
    await fx.admin.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', labels: { 'reflex.dev/rollout': 'true' } }, data: { mode: 'blue' } });
    await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, deployment('web', ns, [{ name: 'config', configMap: { name: 'app-config' } }]));

    await installPreviewCrd(fx, ns);
    await fx.admin.ok('POST', `/apis/example.com/v1/namespaces/${ns}/previews`, { apiVersion: 'example.com/v1', kind: 'Preview', metadata: { name: 'pr-1' }, spec: { expiresAt: hoursAgo(1) } });
    await finishedJob(fx, ns, 'build-1');
    await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, { ...deployment('nightly', ns), metadata: { name: 'nightly', namespace: ns, labels: { 'reflex.dev/nightly-scale-down': 'true' } }, spec: { ...deployment('nightly', ns).spec, replicas: 2 } });
    const hook = await webhookReceiver();
    receiver = hook.server;

    const { kubeconfig, clusterRole } = await bindPrintedRoles();
    daemon = await DaemonProcess.start({ kubeconfig, args: ['--config', daemonConfig(shippedRulesFor(hook.url))], readyTimeoutMs: 60_000 });

    // Each shipped rule that can act here does, with nothing but the printed roles.
    await fx.admin.eventually(() => exists(`/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/default-deny-ingress`), 20_000, 'default-deny-networkpolicy applied');
    await fx.admin.eventually(() => exists(`/api/v1/namespaces/${ns}/secrets/registry-credentials`), 20_000, 'copy-registry-secret applied');
    await fx.admin.eventually(async () => (await get(`/apis/apps/v1/namespaces/${ns}/deployments/api`)).metadata.labels?.team === 'payments', 20_000, 'propagate-team-label patched');
    await fx.admin.eventually(async () => {
      const r = await fx.admin.call<Obj>('GET', `/api/v1/namespaces/${ns}-ttl`);
      return r.status === 404 || r.body?.metadata?.deletionTimestamp !== undefined;
    }, 20_000, 'namespace-ttl deleted the expired namespace');
    const configHash = async () => (await get(`/apis/apps/v1/namespaces/${ns}/deployments/web`)).spec.template.metadata.annotations?.['reflex.dev/config-hash'] as string | undefined;
    const first = await fx.admin.eventually(configHash, 20_000, 'rollout-on-configmap-change stamped the Deployment');
    await fx.admin.ok('PATCH', `/api/v1/namespaces/${ns}/configmaps/app-config`, { data: { mode: 'green' } }, 'application/merge-patch+json');
    await fx.admin.eventually(async () => (await configHash()) !== first, 20_000, 'rollout-on-configmap-change patched the Deployment');
    await fx.admin.eventually(async () => (await fx.admin.call('GET', `/apis/batch/v1/namespaces/${ns}/jobs/build-1`)).status === 404, 20_000, 'delete-finished-jobs deleted the Job');
    // Foreground deletion: the garbage collector finishes it once its discovery has seen the new CRD (up to ~30 s).
    await fx.admin.eventually(async () => {
      const r = await fx.admin.call<Obj>('GET', `/apis/example.com/v1/namespaces/${ns}/previews/pr-1`);
      return r.status === 404 || r.body?.metadata?.deletionTimestamp !== undefined;
    }, 20_000, 'expire-previews deleted the Preview');
    await fx.admin.eventually(async () => hook.bodies.some((b) => b.includes(`preview ${ns}/pr-1 expired`)), 20_000, 'expire-previews called its webhook');
    await fx.admin.eventually(async () => (await get(`/apis/apps/v1/namespaces/${ns}/deployments/nightly`)).spec.replicas === 0, 20_000, 'nightly-scale-down scaled the Deployment on its schedule');
    const lease = await get(`/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/reflex`);
    expect(lease.spec.holderIdentity, 'the daemon holds the Lease through the printed Role').to.be.a('string').and.not.equal('');
    // (A Forbidden "because it is being terminated" on the expiring namespace is admission, not RBAC.)
    expect(daemon.lines.filter((l) => RBAC_DENIED.test(JSON.stringify(l))), 'no RBAC denial with the printed roles').to.deep.equal([]);

    // Take `patch` on Deployments away: propagate-team-label's patch must now fail with Forbidden.
    const rules = (clusterRole.rules as PolicyRule[]).map((r) =>
      r.apiGroups[0] === 'apps' && r.resources.includes('deployments') ? { ...r, verbs: r.verbs.filter((v) => v !== 'patch') } : r,
    );
    expect(JSON.stringify(rules)).to.not.equal(JSON.stringify(clusterRole.rules));
    await fx.admin.ok('PUT', `/apis/rbac.authorization.k8s.io/v1/clusterroles/${role()}`, { ...clusterRole, rules });
    await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, deployment('late', ns));
    const failure = await daemon.waitForLog(
      (l) => l.rule === 'propagate-team-label' && /Forbidden/.test(String(l.error)) && RBAC_DENIED.test(String(l.error)) && String(l.error).includes('"late"'),
      30_000,
      'a Forbidden failure of propagate-team-label on Deployment late',
    );
    expect(String(failure.error)).to.match(/cannot patch resource \\?"deployments\\?"/);
    expect((await get(`/apis/apps/v1/namespaces/${ns}/deployments/late`)).metadata.labels?.team).to.equal(undefined);
  });
});
