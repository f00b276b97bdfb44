import type { Server } from 'node:http';
import { expect } from 'chai';
import { Expression } from '../../src/engine/index.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { finishedJob, hoursAgo, installPreviewCrd, shippedRulesFor, webhookReceiver } from '../support/shipped-rules.js';
import { useCluster, type ClusterFixture } from '../support/cluster.js';
import { testConfig } from './daemon-support.js';

type Obj = { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown>; type?: string; data?: Record<string, string> };

async function createNamespace(fx: ClusterFixture, name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) {
  await fx.admin.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } });
}

function deployment(name: string, labels: Record<string, string>, replicas = 2, configMap?: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'c', image: 'registry.invalid/app:1' }],
          ...(configMap ? { volumes: [{ name: 'cfg', configMap: { name: configMap } }] } : {}),
        },
      },
    },
  };
}

describe('the shipped example rules (daemon end to end, against the control plane)', function () {
  this.timeout(240_000);
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  let receiver: Server | undefined;
  afterEach(async () => {
    await daemon?.stop('SIGKILL');
    receiver?.close();
    await fx.admin.call('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/previews.example.com');
  });

  it('produces the effect of every rule, for objects that existed before start and objects created after', async () => {
    const ns = fx.ns;
    const hook = await webhookReceiver();
    receiver = hook.server;
    const { url, bodies: hooks } = hook;

    await installPreviewCrd(fx, ns);

    // Shared inputs: the registry secret in platform, a team namespace.
    if ((await fx.admin.call('GET', '/api/v1/namespaces/platform')).status === 404) await createNamespace(fx, 'platform');
    await fx.admin.call('POST', '/api/v1/namespaces/platform/secrets', {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'registry-credentials' }, type: 'Opaque', data: { token: Buffer.from('s3cr3t').toString('base64') },
    });
    const team = `${ns}-team`;
    await createNamespace(fx, team, { team: 'blue' });

    const phase = async (tag: 'before' | 'after') => {
      await createNamespace(fx, `${ns}-copy-${tag}`, { 'reflex.dev/copy-registry-secret': 'true' });
      await createNamespace(fx, `${ns}-ttl-${tag}`, {}, { 'reflex.dev/expires-at': hoursAgo(1) });
      await finishedJob(fx, ns, `job-${tag}`);
      await fx.admin.ok('POST', `/apis/example.com/v1/namespaces/${ns}/previews`, { apiVersion: 'example.com/v1', kind: 'Preview', metadata: { name: `pr-${tag}` }, spec: { expiresAt: hoursAgo(1) } });
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, deployment(`night-${tag}`, { 'reflex.dev/nightly-scale-down': 'true' }));
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${team}/deployments`, deployment(`web-${tag}`, {}));
      await fx.admin.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cfg-${tag}`, labels: { 'reflex.dev/rollout': 'true' } }, data: { v: '1' } });
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, deployment(`app-${tag}`, {}, 1, `cfg-${tag}`));
    };

    await phase('before');
    daemon = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(ns), '--rules', shippedRulesFor(url)], readyTimeoutMs: 60_000 });
    await phase('after');
    for (const tag of ['before', 'after']) {
      await fx.admin.ok('PATCH', `/api/v1/namespaces/${ns}/configmaps/cfg-${tag}`, { data: { v: '2' } }, 'application/merge-patch+json');
    }

    const gone = (path: string) => async () => (await fx.admin.call('GET', path)).status === 404;
    // Foreground deletion of a custom resource ends when the garbage collector's discovery has seen its CRD (~30 s).
    const deleting = (path: string) => async () => {
      const r = await fx.admin.call<{ metadata?: { deletionTimestamp?: string } }>('GET', path);
      return r.status === 404 || r.body.metadata?.deletionTimestamp !== undefined;
    };
    for (const tag of ['before', 'after'] as const) {
      // copy-registry-secret
      const secret = await fx.admin.eventually(async () => {
        const r = await fx.admin.call<Obj>('GET', `/api/v1/namespaces/${ns}-copy-${tag}/secrets/registry-credentials`);
        return r.status === 200 ? r.body : undefined;
      }, 30_000, `the registry secret copied (${tag})`);
      expect(secret.data?.token).to.equal(Buffer.from('s3cr3t').toString('base64'));
      expect(secret.metadata.labels?.['app.kubernetes.io/managed-by']).to.equal('reflex');
      // default-deny-networkpolicy
      await fx.admin.eventually(async () => (await fx.admin.call('GET', `/apis/networking.k8s.io/v1/namespaces/${ns}-copy-${tag}/networkpolicies/default-deny-ingress`)).status === 200, 30_000, `a default-deny policy (${tag})`);
      // namespace-ttl: deleting (Terminating) or gone
      await fx.admin.eventually(async () => {
        const r = await fx.admin.call<{ status?: { phase?: string } }>('GET', `/api/v1/namespaces/${ns}-ttl-${tag}`);
        return r.status === 404 || r.body.status?.phase === 'Terminating';
      }, 30_000, `the expired namespace deleted (${tag})`);
      // delete-finished-jobs
      await fx.admin.eventually(gone(`/apis/batch/v1/namespaces/${ns}/jobs/job-${tag}`), 30_000, `the finished job deleted (${tag})`);
      // expire-previews (delete, then the webhook)
      await fx.admin.eventually(deleting(`/apis/example.com/v1/namespaces/${ns}/previews/pr-${tag}`), 30_000, `the expired preview deleted (${tag})`);
      // nightly-scale-down, on its (every-second) schedule
      await fx.admin.eventually(async () => {
        const d = await fx.admin.ok<{ spec: { replicas: number } }>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/night-${tag}`);
        return d.spec.replicas === 0;
      }, 30_000, `the deployment scaled down on schedule (${tag})`);
      // propagate-team-label
      await fx.admin.eventually(async () => {
        const d = await fx.admin.ok<Obj>('GET', `/apis/apps/v1/namespaces/${team}/deployments/web-${tag}`);
        return d.metadata.labels?.team === 'blue';
      }, 30_000, `the team label propagated (${tag})`);
      // rollout-on-configmap-change: the pod template carries the hash of the changed data
      const hash = await new Expression('$hash({"name": $name, "data": {"v": "2"}})').evaluate({}, { name: `cfg-${tag}` });
      await fx.admin.eventually(async () => {
        const d = await fx.admin.ok<{ spec: { template: { metadata: { annotations?: Record<string, string> } } } }>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/app-${tag}`);
        return d.spec.template.metadata.annotations?.['reflex.dev/config-hash'] === hash;
      }, 30_000, `the deployment rolled out after its ConfigMap changed (${tag})`);
    }
    await fx.admin.eventually(async () => hooks.length >= 2, 10_000, 'two webhook calls');
    expect(hooks.join('\n')).to.contain(`preview ${ns}/pr-before expired`).and.to.contain(`preview ${ns}/pr-after expired`);
    // The Event action runs after the update: its Events may come a moment after the replicas.
    await fx.admin.eventually(async () => {
      const events = await fx.admin.ok<{ items: { reason: string; regarding: { name: string } }[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${ns}/events`);
      const names = events.items.filter((e) => e.reason === 'ScaledDown').map((e) => e.regarding.name);
      return names.includes('night-before') && names.includes('night-after');
    }, 10_000, 'ScaledDown Events for night-before and night-after');
    // Leave no expired namespaces of this test behind.
    for (const n of [`${ns}-copy-before`, `${ns}-copy-after`, team]) await fx.admin.call('DELETE', `/api/v1/namespaces/${n}`);
  });
});
