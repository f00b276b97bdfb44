import { expect } from 'chai';
import { load } from 'js-yaml';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runReflex } from '../support/reflex-cli.js';
import type { PlannedAction } from '../../src/engine/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const rules = (name: string) => join(root, 'rules', `${name}.yaml`);
const examples = (name: string) => join(root, 'examples', `${name}.yaml`);
const NOW = '2026-03-10T21:30:00Z';

const dryRun = (args: string[]) => runReflex(['dry-run', ...args]);

async function plan(scenario: string, extra: string[] = []): Promise<PlannedAction[]> {
  const r = await dryRun(['--rules', rules(scenario), '--manifests', examples(scenario), '--now', NOW, '--output', 'json', ...extra]);
  expect(r.err).to.equal('');
  expect(r.code).to.equal(0);
  return JSON.parse(r.out) as PlannedAction[];
}

const ref = (apiVersion: string, kind: string, name: string, namespace?: string) => (namespace ? { apiVersion, kind, namespace, name } : { apiVersion, kind, name });
/** The stamps of an object generated for a Namespace trigger without a uid (manifests). */
const generatedStamps = (rule: string, ns: string) => ({
  labels: { 'app.kubernetes.io/managed-by': 'reflex', 'reflex.dev/rule': rule },
  annotations: { 'reflex.dev/rule': rule, 'reflex.dev/trigger': `v1 Namespace ${ns}` },
});

describe('cli/dry-run: the example rules against their example manifests', () => {
  it('namespace-ttl deletes only the namespace whose expiry passed', async () => {
    const ns = ref('v1', 'Namespace', 'preview-old');
    expect(await plan('namespace-ttl')).to.deep.equal([
      { rule: 'namespace-ttl', trigger: { ...ns, event: 'sync' }, action: 'log', target: ns, body: 'namespace preview-old expired at 2026-03-01T00:00:00Z', options: { level: 'info' } },
      { rule: 'namespace-ttl', trigger: { ...ns, event: 'sync' }, action: 'delete', target: ns, body: null, options: {} },
    ]);
  });

  it('delete-finished-jobs deletes the Job that finished over an hour ago, not the recent, opted-out or failed ones', async () => {
    const job = ref('batch/v1', 'Job', 'build-7', 'ci');
    expect(await plan('delete-finished-jobs')).to.deep.equal([
      {
        rule: 'delete-finished-jobs',
        trigger: { ...job, event: 'sync' },
        action: 'event',
        target: job,
        body: { type: 'Normal', reason: 'JobCleanedUp', message: 'Job build-7 completed at 2026-03-10T19:30:00Z; deleting it' },
        options: {},
      },
      { rule: 'delete-finished-jobs', trigger: { ...job, event: 'sync' }, action: 'delete', target: job, body: null, options: { propagationPolicy: 'Background' } },
    ]);
  });

  it('copy-registry-secret applies the platform Secret into the labelled namespace only', async () => {
    const secret = ref('v1', 'Secret', 'registry-credentials', 'team-a');
    expect(await plan('copy-registry-secret')).to.deep.equal([
      {
        rule: 'copy-registry-secret',
        trigger: { ...ref('v1', 'Namespace', 'team-a'), event: 'sync' },
        action: 'apply',
        target: secret,
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'registry-credentials', namespace: 'team-a', ...generatedStamps('copy-registry-secret', 'team-a') },
          type: 'kubernetes.io/dockerconfigjson',
          data: { '.dockerconfigjson': 'eyJhdXRocyI6e319' },
        },
        options: { force: true, generate: true },
      },
    ]);
  });

  it('default-deny-networkpolicy applies a policy in ordinary namespaces, not system or opted-out ones', async () => {
    expect(await plan('default-deny-networkpolicy')).to.deep.equal([
      {
        rule: 'default-deny-networkpolicy',
        trigger: { ...ref('v1', 'Namespace', 'store'), event: 'sync' },
        action: 'apply',
        target: ref('networking.k8s.io/v1', 'NetworkPolicy', 'default-deny-ingress', 'store'),
        body: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'default-deny-ingress', namespace: 'store', ...generatedStamps('default-deny-networkpolicy', 'store') },
          spec: { podSelector: {}, policyTypes: ['Ingress'] },
        },
        options: { force: true, generate: true },
      },
    ]);
  });

  it('propagate-team-label patches the Deployment missing its namespace\'s team label', async () => {
    const d = ref('apps/v1', 'Deployment', 'api', 'shop');
    expect(await plan('propagate-team-label')).to.deep.equal([
      { rule: 'propagate-team-label', trigger: { ...d, event: 'sync' }, action: 'patch', target: d, body: { metadata: { labels: { team: 'payments' } } }, options: { type: 'merge' } },
    ]);
  });

  it('nightly-scale-down updates the labelled running Deployment to zero on the schedule tick', async () => {
    const d = ref('apps/v1', 'Deployment', 'frontend', 'dev');
    expect(await plan('nightly-scale-down')).to.deep.equal([
      {
        rule: 'nightly-scale-down',
        trigger: { ...d, event: 'schedule' },
        action: 'update',
        target: d,
        body: {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'frontend', namespace: 'dev', resourceVersion: '41', labels: { 'reflex.dev/nightly-scale-down': 'true' } },
          spec: { replicas: 0 },
        },
        options: {},
      },
      {
        rule: 'nightly-scale-down',
        trigger: { ...d, event: 'schedule' },
        action: 'event',
        target: d,
        body: { type: 'Normal', reason: 'ScaledDown', message: 'scaled frontend from 3 to 0 for the night at 2026-03-10T21:30:00.000Z' },
        options: {},
      },
    ]);
  });

  it('rollout-on-configmap-change stamps the hash of the labelled ConfigMap\'s data on the Deployments whose pod template lacks it ($get in when)', async () => {
    const patch = { spec: { template: { metadata: { annotations: { 'reflex.dev/config-hash': 'b1577fb0deedab77017ece971e32ec845c30b2b3968686a868cc98705c6d1f78' } } } } };
    const on = (name: string) => {
      const d = ref('apps/v1', 'Deployment', name, 'checkout');
      return { rule: 'rollout-on-configmap-change', trigger: { ...d, event: 'sync' }, action: 'patch', target: d, body: patch, options: {} };
    };
    expect(await plan('rollout-on-configmap-change')).to.deep.equal([on('api'), on('worker')]);
  });

  it('expire-previews deletes expired custom resources; the CRD in the manifests makes them namespaced', async () => {
    const p17 = ref('example.com/v1', 'Preview', 'pr-17', 'default');
    const p20 = ref('example.com/v1', 'Preview', 'pr-20', 'previews');
    const hook = (text: string) => ({ method: 'POST', url: 'https://chat.example.com/hooks/previews', body: { text } });
    expect(await plan('expire-previews')).to.deep.equal([
      { rule: 'expire-previews', trigger: { ...p17, event: 'sync' }, action: 'delete', target: p17, body: null, options: { propagationPolicy: 'Foreground' } },
      { rule: 'expire-previews', trigger: { ...p17, event: 'sync' }, action: 'webhook', target: p17, body: hook('preview default/pr-17 expired at 2026-03-09T00:00:00Z'), options: { timeout: '5s' } },
      { rule: 'expire-previews', trigger: { ...p20, event: 'sync' }, action: 'delete', target: p20, body: null, options: { propagationPolicy: 'Foreground' } },
      { rule: 'expire-previews', trigger: { ...p20, event: 'sync' }, action: 'webhook', target: p20, body: hook('preview previews/pr-20 expired at 2026-03-10T21:30:00Z'), options: { timeout: '5s' } },
    ]);
  });

  it('all rules against all examples: one array sorted by rule, then trigger namespace/name, then action', async () => {
    const r = await dryRun(['--rules', join(root, 'rules'), '--manifests', join(root, 'examples'), '--now', NOW, '--output', 'json']);
    expect(r.code, r.err).to.equal(0);
    const all = JSON.parse(r.out) as PlannedAction[];
    const keys = all.map((p) => `${p.rule} ${p.trigger.namespace ?? ''}/${p.trigger.name} ${p.action}`);
    expect(keys).to.include.members(['copy-registry-secret /team-a apply', 'expire-previews default/pr-17 delete', 'nightly-scale-down dev/frontend update']);
    const rulesInOrder = all.map((p) => p.rule);
    expect(rulesInOrder).to.deep.equal([...rulesInOrder].sort());
  });
});

describe('cli/dry-run: output and errors', () => {
  it('yaml output is the same array as json', async () => {
    const args = ['--rules', rules('expire-previews'), '--manifests', examples('expire-previews'), '--now', NOW];
    const json = JSON.parse((await dryRun([...args, '-o', 'json'])).out);
    expect(load((await dryRun([...args, '--output', 'yaml'])).out)).to.deep.equal(json);
  });

  it('text output is a table, with a before/after diff for a patch of an object in the manifests', async () => {
    const r = await dryRun(['--rules', rules('propagate-team-label'), '--manifests', examples('propagate-team-label'), '--now', NOW]);
    expect(r.code).to.equal(0);
    const lines = r.out.split('\n');
    expect(lines[0]).to.match(/^RULE +TRIGGER +ACTION +TARGET +DETAIL$/);
    expect(lines[1]).to.match(/^propagate-team-label +sync Deployment shop\/api +patch +Deployment shop\/api +type=merge$/);
    expect(r.out).to.include('--- Deployment shop/api (before)\n+++ Deployment shop/api (after patch by propagate-team-label)');
    expect(r.out).to.include('      app: api\n+     team: payments\n');
  });

  it('--event presents every selected object with that event instead', async () => {
    const r = JSON.parse((await dryRun(['--rules', rules('namespace-ttl'), '--manifests', examples('namespace-ttl'), '--now', NOW, '--event', 'resync', '-o', 'json'])).out) as PlannedAction[];
    expect(r.map((p) => p.trigger.event)).to.deep.equal(['resync', 'resync']);
    const none = JSON.parse((await dryRun(['--rules', rules('namespace-ttl'), '--manifests', examples('namespace-ttl'), '--now', NOW, '--event', 'delete', '-o', 'json'])).out);
    expect(none).to.deep.equal([]);
  });

  it('rejects bad usage with exit code 2', async () => {
    expect((await dryRun(['--manifests', 'x'])).err).to.match(/^reflex dry-run: --rules is required\n/);
    expect((await dryRun(['--rules', 'x', '--manifests', 'y', '--now', 'yesterday'])).code).to.equal(2);
    expect((await dryRun(['--rules', 'x', '--manifests', 'y', '--event', 'poke'])).err).to.match(/--event must be sync, create, update, delete, resync, schedule, dependency or recheck; got "poke"/);
    expect((await dryRun(['--rules', 'x', '--manifests', 'y', '-o', 'xml'])).code).to.equal(2);
  });

  describe('with problems', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'reflex-dry-run-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('reports bad rules and evaluation errors, plans the good rules, exits 1', async () => {
      const text = `apiVersion: reflex.dev/v1alpha1
kind: ClusterRule
metadata: { name: good }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  actions: [{ log: { message: "{{ metadata.name }}" } }]
---
apiVersion: reflex.dev/v1alpha1
kind: ClusterRule
metadata: { name: broken }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  when: "metadata.name ="
  actions: [{ delete: {} }]
---
apiVersion: reflex.dev/v1alpha1
kind: ClusterRule
metadata: { name: throws }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  when: "$number('x') > 1"
  actions: [{ delete: {} }]
`;
      await writeFile(join(dir, 'rules.yaml'), text);
      await writeFile(join(dir, 'cms.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: one }\n');
      const r = await dryRun(['--rules', join(dir, 'rules.yaml'), '--manifests', join(dir, 'cms.yaml'), '-o', 'json']);
      expect(r.code).to.equal(1);
      const errs = r.err.trim().split('\n');
      expect(errs[0]).to.equal(`${join(dir, 'rules.yaml')}:13:24: rule "broken" (document 2): spec.when: JSONata syntax error: Unexpected end of expression`);
      expect(errs[1]).to.match(/^rule "throws": when "\$number\('x'\) > 1": Unable to cast value to a number: "x" \(D3030\).* \(object ConfigMap default\/one, event sync\)$/);
      expect(JSON.parse(r.out).map((p: PlannedAction) => `${p.rule} ${p.action} ${p.body}`)).to.deep.equal(['good log one']);
    });

    it('stops a sweep at maxActionsPerRun and says so', async () => {
      const text = `apiVersion: reflex.dev/v1alpha1
kind: ClusterRule
metadata: { name: capped }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  limits: { maxActionsPerRun: 2 }
  actions: [{ delete: {} }]
`;
      await writeFile(join(dir, 'capped.yaml'), text);
      const cms = ['a', 'b', 'c'].map((n) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${n}, namespace: x }\n`).join('---\n');
      await writeFile(join(dir, 'three.yaml'), cms);
      const r = await dryRun(['--rules', join(dir, 'capped.yaml'), '--manifests', join(dir, 'three.yaml'), '-o', 'json']);
      expect(r.code).to.equal(1);
      expect(r.err).to.equal('rule "capped": the sync sweep stopped at maxActionsPerRun (2); later objects were not planned\n');
      expect(JSON.parse(r.out).map((p: PlannedAction) => p.target.name)).to.deep.equal(['a', 'b']);
    });
  });
});

describe('cli/dry-run: manifests as one cluster', () => {
  it('reports an object defined twice and plans it once, as a cluster holds one object per name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'reflex-dup-'));
    try {
      await writeFile(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n');
      await writeFile(join(dir, 'b.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop, labels: { team: x } }\n');
      const r = await dryRun(['--rules', rules('default-deny-networkpolicy'), '--manifests', dir, '--now', NOW, '--output', 'json']);
      expect(r.code).to.equal(1);
      expect(r.err).to.match(/b\.yaml:1:1: document 1: Namespace shop is defined again \(first in .*a\.yaml\)/);
      const planned = JSON.parse(r.out) as PlannedAction[];
      expect(planned.map((p) => p.trigger.name)).to.deep.equal(['shop']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
