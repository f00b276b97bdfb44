/**
 * charts/reflex rendered by the real helm (built from its Go module) and checked by the real
 * API server: every rendered manifest must pass `kubectl apply --dry-run=server`, in a namespace
 * that enforces the `restricted` Pod Security Standard.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { runReflex } from '../support/reflex-cli.js';
import { loadDaemonConfig } from '../../src/daemon/index.js';
import { namespacedRulePolicy, ruleObjectPolicy } from '../../src/cli/rbac-policy.js';
import { repoRoot } from '../support/control-plane.js';
import { useCluster } from '../support/cluster.js';
import { ensureHelm, helm, HelmError } from '../support/helm.js';
import { chartDir, kubectl, only, render, renderText, withTempDir, type Manifest } from './render.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ttlRule = `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata:
  name: delete-finished-jobs
spec:
  watch: {apiVersion: batch/v1, kind: Job}
  resync: 10m
  when: $exists(status.completionTime)
  actions:
    - delete: {propagationPolicy: Background}
`;

/** Values that change every knob the chart has. */
const custom: Obj = {
  replicaCount: 3,
  image: { repository: 'registry.example.com/platform/reflex', digest: `sha256:${'a'.repeat(64)}`, pullPolicy: 'Always' },
  imagePullSecrets: [{ name: 'registry' }],
  fullnameOverride: 'automation',
  serviceAccount: { create: true, name: 'automation-sa', annotations: { 'example.com/role': 'automation' } },
  rbac: {
    clusterRules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['get', 'list', 'watch', 'delete'] }],
    extraClusterRules: [{ apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] }],
  },
  leaderElection: { enabled: true, leaseName: 'automation-leader', leaseDuration: '30s', renewDeadline: '20s', retryPeriod: '5s' },
  bundledRules: { enabled: false },
  rules: {
    'ttl-jobs': ttlRule,
    'as-object': { apiVersion: 'reflex.dev/v1alpha1', kind: 'Rule', metadata: { name: 'log-pods' }, spec: { watch: { apiVersion: 'v1', kind: 'Pod' }, actions: [{ log: { message: 'seen' } }] } },
  },
  dryRun: 'server',
  log: { level: 'debug', format: 'text' },
  config: { workers: 4 },
  metrics: { port: 9100, service: { type: 'ClusterIP', port: 8080, annotations: { 'example.com/scrape': 'true' } }, serviceMonitor: { enabled: true, interval: '15s', scrapeTimeout: '5s', labels: { release: 'prometheus' } } },
  health: { port: 9100 },
  podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
  terminationGracePeriodSeconds: 60,
  resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
  nodeSelector: { 'kubernetes.io/os': 'linux' },
  tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'platform', effect: 'NoSchedule' }],
  affinity: {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'reflex' } } } },
      ],
    },
  },
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'reflex' } } }],
  podAnnotations: { 'example.com/team': 'platform' },
  podLabels: { team: 'platform' },
  extraEnv: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=768' }],
  tmpVolume: { sizeLimit: '128Mi' },
};

/** What `reflex rbac rules/ --crds examples/` prints, as JSON documents [ClusterRole, Role]. */
async function rbacOfBundledRules(): Promise<Obj[]> {
  const r = await runReflex(['rbac', 'rules/', '--crds', 'examples/', '--output', 'json']);
  expect(r.code, r.err).to.equal(0);
  return JSON.parse(r.out) as Obj[];
}

/** The rendered reflex.yaml, loaded and validated as `reflex run --config` would (inside a pod). */
function daemonConfigOf(ms: Manifest[], name: string) {
  const text = (only(ms, 'ConfigMap', name) as Obj).data['reflex.yaml'] as string;
  return loadDaemonConfig({ file: '/etc/reflex/reflex.yaml', readFile: () => text, env: { POD_NAMESPACE: 'ignored', KUBERNETES_SERVICE_HOST: '10.0.0.1' } });
}

const container = (d: Obj): Obj => (d as Obj).spec.template.spec.containers[0];
const config = (ms: Manifest[], name: string): Obj => load((only(ms, 'ConfigMap', name) as Obj).data['reflex.yaml']) as Obj;

describe('charts/reflex', function () {
  this.timeout(120_000);
  const fx = useCluster();

  before(function () {
    this.timeout(20 * 60_000); // a cold build of helm takes a minute or two
    ensureHelm();
  });

  /** Labels this test's namespace to enforce the restricted Pod Security Standard. */
  async function restrictNamespace(): Promise<void> {
    await fx.admin.ok('PATCH', `/api/v1/namespaces/${fx.ns}`, { metadata: { labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' } } }, 'application/merge-patch+json');
  }

  /** `kubectl apply --dry-run=server` of every manifest; expects success and no warning. */
  function applyDryRun(yaml: string): string {
    const res = kubectl(fx.cp.kubeconfig, ['apply', '--dry-run=server', '-f', '-'], yaml);
    expect(res.status, `kubectl apply --dry-run=server failed:\n${res.stderr}`).to.equal(0);
    expect(res.stderr, 'kubectl printed warnings').to.not.match(/warning/i);
    return res.stdout;
  }

  /**
   * Checks the Deployment's pod template against the namespace's `restricted` policy by dry-run
   * creating it as a Pod (its ServiceAccount is created for real first: admission looks it up).
   */
  function admitPodTemplate(manifests: Manifest[]): void {
    const sa = only(manifests, 'ServiceAccount');
    const created = kubectl(fx.cp.kubeconfig, ['apply', '-f', '-'], JSON.stringify(sa));
    expect(created.status, created.stderr).to.equal(0);
    const tpl = (only(manifests, 'Deployment') as Obj).spec.template;
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { ...tpl.metadata, name: 'pod-template-check', namespace: fx.ns }, spec: tpl.spec };
    const res = kubectl(fx.cp.kubeconfig, ['create', '--dry-run=server', '-f', '-'], JSON.stringify(pod));
    expect(res.status, `the pod template is not admitted:\n${res.stderr}`).to.equal(0);
  }

  describe('with default values', () => {
    it('renders the daemon, its identity, RBAC, config, metrics Service and PDB, and no ServiceMonitor', () => {
      const ms = render(fx.ns);
      const kinds = ms.map((m) => m.kind).sort();
      expect(kinds).to.deep.equal(['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
      for (const m of ms.filter((x) => !x.kind.startsWith('Cluster'))) expect(m.metadata.namespace, m.kind).to.equal(fx.ns);
    });

    it('runs 2 replicas with leader election on, a Lease in the release namespace', () => {
      const ms = render(fx.ns);
      expect((only(ms, 'Deployment') as Obj).spec.replicas).to.equal(2);
      const cfg = config(ms, 'rx-reflex-config');
      expect(cfg.leaderElection).to.include({ enabled: true, leaseName: 'rx-reflex', leaseNamespace: fx.ns });
      expect(cfg.rules.configMaps).to.deep.equal({ enabled: true, namespaces: [fx.ns], labelSelector: 'reflex.dev/rules=true' });
      expect(cfg.rules.paths).to.deep.equal([]);
      const bundled = readdirSync(join(repoRoot, 'rules')).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml')).sort();
      const all = config(render(fx.ns, { bundledRules: { rules: bundled.map((f) => f.replace(/\.yaml$/, '')) } }), 'rx-reflex-config');
      expect(all.rules.paths).to.deep.equal(bundled.map((f) => `/app/rules/${f}`));
    });

    it('writes a reflex.yaml that the daemon accepts', () => {
      const cfg = daemonConfigOf(render(fx.ns), 'rx-reflex-config');
      expect(cfg.namespace).to.equal(fx.ns);
      expect(cfg.leaderElection).to.include({ enabled: true, leaseName: 'rx-reflex', leaseNamespace: fx.ns, leaseDurationSeconds: 15 });
      expect(cfg.rules.configMaps.namespaces).to.deep.equal([fx.ns]);
      expect(cfg.shutdown.gracePeriodSeconds).to.be.below(30);
    });

    it('probes /healthz and /readyz and locks the container down', () => {
      const c = container(only(render(fx.ns), 'Deployment'));
      expect(c.livenessProbe.httpGet).to.deep.equal({ path: '/healthz', port: 8081 });
      expect(c.readinessProbe.httpGet).to.deep.equal({ path: '/readyz', port: 8081 });
      expect(c.securityContext).to.deep.include({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(c.securityContext.capabilities).to.deep.equal({ drop: ['ALL'] });
      expect(c.securityContext.seccompProfile).to.deep.equal({ type: 'RuntimeDefault' });
      expect(c.volumeMounts).to.deep.include({ name: 'tmp', mountPath: '/tmp' });
      expect(c.args).to.deep.equal(['run', '--config=/etc/reflex/reflex.yaml']);
    });

    it('binds the ClusterRole and the Role to the ServiceAccount, granting no wildcard', () => {
      const ms = render(fx.ns);
      for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
        expect((only(ms, kind) as Obj).subjects).to.deep.equal([{ kind: 'ServiceAccount', name: 'rx-reflex', namespace: fx.ns }]);
      }
      const roleRules = [...(only(ms, 'ClusterRole') as Obj).rules, ...(only(ms, 'Role') as Obj).rules];
      expect(JSON.stringify(roleRules)).to.not.contain('"*"');
      expect((only(ms, 'Role') as Obj).rules).to.deep.include({ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] });
    });

    it('grants cluster-wide, while no rule is enabled, only what namespaced rules and rule objects need, and in the Role what `reflex rbac` prints', async () => {
      const ms = render(fx.ns);
      const [, role] = await rbacOfBundledRules();
      expect((only(ms, 'ClusterRole') as Obj).rules).to.deep.equal([...namespacedRulePolicy(), ...ruleObjectPolicy()]);
      expect((only(render(fx.ns, { rbac: { namespacedRules: false } }), 'ClusterRole') as Obj).rules).to.deep.equal(ruleObjectPolicy());
      expect(ruleObjectPolicy()).to.deep.equal([
        { apiGroups: ['reflex.dev'], resources: ['clusterrules', 'rules'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['reflex.dev'], resources: ['clusterrules/status', 'rules/status'], verbs: ['update', 'patch'] },
      ]);
      expect((only(ms, 'Role') as Obj).rules).to.deep.equal(role.rules);
    });

    it('grants, for the enabled bundled rules, exactly the verbs `reflex rbac` prints for them', async () => {
      const ms = render(fx.ns, { bundledRules: { rules: ['delete-finished-jobs', 'namespace-ttl'] } });
      const r = await runReflex(['rbac', 'rules/delete-finished-jobs.yaml', 'rules/namespace-ttl.yaml', '--roles-only', '-o', 'json']);
      const [wanted] = JSON.parse(r.out) as Obj[];
      const verbs = (rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]) => {
        const out = new Map<string, Set<string>>();
        for (const x of rules) for (const g of x.apiGroups) for (const res of x.resources) out.set(`${g}/${res}`, new Set([...(out.get(`${g}/${res}`) ?? []), ...x.verbs]));
        return Object.fromEntries([...out].map(([k, v]) => [k, [...v].sort()]).sort());
      };
      expect(verbs((only(ms, 'ClusterRole') as Obj).rules)).to.deep.equal(verbs([...wanted.rules, ...namespacedRulePolicy()]));
      expect(JSON.stringify((only(ms, 'ClusterRole') as Obj).rules)).to.not.contain('networkpolicies');
    });

    it('passes kubectl apply --dry-run=server, pod template included, under the restricted Pod Security Standard', async () => {
      await restrictNamespace();
      const yaml = renderText(fx.ns);
      const out = applyDryRun(yaml);
      expect(out.trim().split('\n')).to.have.length(render(fx.ns).length);
      admitPodTemplate(render(fx.ns));
    });
  });

  it('passes helm lint --strict with default and with changed values', () => {
    expect(helm(['lint', '--strict', chartDir]).stdout).to.contain('0 chart(s) failed');
    withTempDir((dir) => {
      const file = join(dir, 'values.yaml');
      writeFileSync(file, dump(custom));
      expect(helm(['lint', '--strict', chartDir, '--values', file]).stdout).to.contain('0 chart(s) failed');
    });
  });

  it('installs with helm install --dry-run=server and warns in its notes about the rules that act on everything', () => {
    const none = helm(['install', 'rx', chartDir, '--dry-run=server', '--namespace', fx.ns, '--kubeconfig', fx.cp.kubeconfig]).stdout;
    expect(none).to.contain('STATUS: pending-install');
    expect(none).to.contain('No bundled rule is loaded, so Reflex changes nothing until you add rules.');
    const out = helm(['install', 'rx', chartDir, '--dry-run=server', '--namespace', fx.ns, '--kubeconfig', fx.cp.kubeconfig, '--set', 'bundledRules.rules={default-deny-networkpolicy}']).stdout;
    expect(out).to.contain('default-deny-networkpolicy gives EVERY namespace');
    const narrowed = helm(['install', 'rx', chartDir, '--dry-run=server', '--namespace', fx.ns, '--kubeconfig', fx.cp.kubeconfig, '--set', 'bundledRules.rules={namespace-ttl}']).stdout;
    expect(narrowed).to.contain('Bundled rules loaded: namespace-ttl.');
    expect(narrowed).to.not.contain('default-deny-networkpolicy gives');
  });

  describe('with every value changed', () => {
    before(() => {
      const crd = readFileSync(join(chartDir, '..', '..', 'test', 'charts', 'fixtures', 'servicemonitor-crd.yaml'), 'utf8');
      const res = kubectl(fx.cp.kubeconfig, ['apply', '-f', '-'], crd);
      expect(res.status, res.stderr).to.equal(0);
      const ready = kubectl(fx.cp.kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/servicemonitors.monitoring.coreos.com']);
      expect(ready.status, ready.stderr).to.equal(0);
    });

    it('renders what the values say', () => {
      const ms = render(fx.ns, custom);
      const d = only(ms, 'Deployment') as Obj;
      const c = container(d);
      expect(d.metadata.name).to.equal('automation');
      expect(d.spec.replicas).to.equal(3);
      expect(c.image).to.equal(`registry.example.com/platform/reflex@sha256:${'a'.repeat(64)}`);
      expect(c.ports).to.deep.equal([{ name: 'metrics', containerPort: 9100, protocol: 'TCP' }]);
      expect(c.livenessProbe.httpGet.port).to.equal(9100);
      expect(c.resources).to.deep.equal(custom.resources);
      expect(c.env).to.deep.include(custom.extraEnv[0]);
      const pod = d.spec.template.spec;
      expect(pod.serviceAccountName).to.equal('automation-sa');
      expect(pod.nodeSelector).to.deep.equal(custom.nodeSelector);
      expect(pod.tolerations).to.deep.equal(custom.tolerations);
      expect(pod.affinity).to.deep.equal(custom.affinity);
      expect(pod.topologySpreadConstraints).to.deep.equal(custom.topologySpreadConstraints);
      expect(pod.terminationGracePeriodSeconds).to.equal(60);
      expect(d.spec.template.metadata.labels).to.include({ team: 'platform' });
      expect((only(ms, 'PodDisruptionBudget') as Obj).spec).to.deep.include({ maxUnavailable: 1 });
      expect((only(ms, 'ClusterRole') as Obj).rules).to.deep.equal([...custom.rbac.clusterRules, ...custom.rbac.extraClusterRules, ...namespacedRulePolicy(), ...ruleObjectPolicy()]);
      const sm = only(ms, 'ServiceMonitor') as Obj;
      expect(sm.metadata.labels).to.include({ release: 'prometheus' });
      expect(sm.spec.endpoints).to.deep.equal([{ port: 'metrics', path: '/metrics', interval: '15s', scrapeTimeout: '5s' }]);
      const cfg = config(ms, 'automation-config');
      expect(cfg).to.deep.include({ dryRun: 'server', workers: 4, log: { level: 'debug', format: 'text' } });
      expect(cfg.leaderElection).to.include({ leaseName: 'automation-leader', leaseDuration: '30s' });
      expect(cfg.rules.paths).to.deep.equal([]);
    });

    it('writes a reflex.yaml with the values\' settings that the daemon accepts', () => {
      const cfg = daemonConfigOf(render(fx.ns, custom), 'automation-config');
      expect(cfg).to.deep.include({ dryRun: 'server', workers: 4, metrics: { address: ':9100' }, health: { address: ':9100' } });
      expect(cfg.leaderElection).to.include({ leaseName: 'automation-leader', leaseDurationSeconds: 30, renewDeadlineSeconds: 20, retryPeriodSeconds: 5 });
      expect(cfg.shutdown.gracePeriodSeconds).to.equal(55);
    });

    it('turns each rules entry into a ConfigMap labelled reflex.dev/rules=true holding its documents', () => {
      const ms = render(fx.ns, custom).filter((m) => m.kind === 'ConfigMap' && m.metadata.labels?.['reflex.dev/rules'] === 'true');
      expect(ms.map((m) => m.metadata.name).sort()).to.deep.equal(['automation-rules-as-object', 'automation-rules-ttl-jobs']);
      const ttl = only(ms, 'ConfigMap', 'automation-rules-ttl-jobs') as Obj;
      expect(ttl.data['ttl-jobs.yaml']).to.equal(ttlRule);
      const obj = load((only(ms, 'ConfigMap', 'automation-rules-as-object') as Obj).data['as-object.yaml']);
      expect(obj).to.deep.equal(custom.rules['as-object']);
    });

    it('passes kubectl apply --dry-run=server, ServiceMonitor and pod template included', async () => {
      await restrictNamespace();
      const yaml = renderText(fx.ns, custom);
      const out = applyDryRun(yaml);
      expect(out).to.contain('servicemonitor.monitoring.coreos.com/automation created (server dry run)');
      expect(out).to.contain('configmap/automation-rules-ttl-jobs created (server dry run)');
      admitPodTemplate(render(fx.ns, custom));
    });

    it('renders no RBAC, ServiceAccount or PDB when they are turned off', () => {
      const ms = render(fx.ns, { rbac: { create: false }, serviceAccount: { create: false, name: 'existing' }, podDisruptionBudget: { enabled: false } });
      expect(ms.map((m) => m.kind).sort()).to.deep.equal(['ConfigMap', 'Deployment', 'Service']);
      expect((only(ms, 'Deployment') as Obj).spec.template.spec.serviceAccountName).to.equal('existing');
    });
  });

  describe('values.schema.json', () => {
    const rejects = (values: Obj, pattern: RegExp) => {
      expect(() => render(fx.ns, values)).to.throw(HelmError, pattern);
    };

    it('rejects a writable root filesystem and privilege escalation', () => {
      rejects({ securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: false, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }, /readOnlyRootFilesystem/);
      rejects({ securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: true, capabilities: { drop: ['ALL'] } } }, /allowPrivilegeEscalation/);
    });

    it('rejects unknown keys, bad enums and bad durations', () => {
      rejects({ replicas: 2 }, /replicas/);
      rejects({ dryRun: 'maybe' }, /dryRun/);
      rejects({ leaderElection: { leaseDuration: 'fifteen seconds' } }, /leaseDuration/);
      rejects({ rules: { 'Not_A_Name': 'x' } }, /Not_A_Name|rules/);
    });

    it('checks config: against the daemon\'s configuration schema, so a bad value fails helm template', () => {
      rejects({ config: { queue: { qsp: 5 } } }, /qsp/);
      rejects({ config: { workers: 0 } }, /workers/);
      rejects({ config: { log: { level: 'loud' } } }, /level/);
      expect(() => render(fx.ns, { config: { queue: { qps: 5 }, workers: 8 } })).to.not.throw();
    });

    it('accepts the default values file as written', () => {
      const defaults = load(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Obj;
      expect(() => render(fx.ns, defaults)).to.not.throw();
      expect(dump(defaults)).to.contain('replicaCount: 2');
    });
  });
});
