import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { runReflex } from '../support/reflex-cli.js';
import { analyseRules, guessPlural, lookups, toPolicyRules, type PolicyRule } from '../../src/cli/rbac-policy.js';
import { loadRules, type CompiledRule } from '../../src/engine/index.js';

function rule(name: string, spec: string): CompiledRule {
  const text = `apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^\n/, '').replace(/^/gm, '  ')}\n`;
  const { rules, errors } = loadRules([{ file: `${name}.yaml`, text }]);
  if (errors.length) throw new Error(errors.map(String).join('\n'));
  return rules[0];
}

const rulesOf = (...rs: CompiledRule[]): PolicyRule[] => toPolicyRules(analyseRules(rs).cluster);
const verbsOn = (rules: PolicyRule[], group: string, resource: string) => rules.find((r) => r.apiGroups[0] === group && r.resources.includes(resource))?.verbs;

/** Runs `reflex rbac` with `args` from the repository root. */
const rbac = (...args: string[]) => runReflex(['rbac', ...args]);

describe('reflex rbac', () => {
  describe('the permissions of one rule', () => {
    it('reads (get, list, watch) the watched kind', () => {
      const rs = rulesOf(rule('r', 'watch: {apiVersion: batch/v1, kind: Job}\nactions: [{log: {message: hi}}]'));
      expect(verbsOn(rs, 'batch', 'jobs')).to.deep.equal(['get', 'list', 'watch']);
    });

    it('reads Namespaces when the rule has a namespaceSelector', () => {
      const rs = rulesOf(rule('r', 'watch: {apiVersion: v1, kind: Pod, namespaceSelector: team}\nactions: [{log: {message: hi}}]'));
      expect(verbsOn(rs, '', 'namespaces')).to.deep.equal(['get', 'list', 'watch']);
    });

    it('reads the kinds named by literal $get and $list calls, in when and in templates', () => {
      const rs = rulesOf(
        rule('r', `watch: {apiVersion: v1, kind: Pod}
when: $exists($get('v1', 'ConfigMap', 'ns', 'x'))
actions:
  - log: {message: "{{ $count($list('apps/v1', 'StatefulSet')) }}"}`),
      );
      expect(verbsOn(rs, '', 'configmaps')).to.deep.equal(['get', 'list', 'watch']);
      expect(verbsOn(rs, 'apps', 'statefulsets')).to.deep.equal(['get', 'list', 'watch']);
    });

    it('grants each action its verbs on its target', () => {
      const rs = rulesOf(
        rule('r', `watch: {apiVersion: v1, kind: Namespace}
actions:
  - apply: {object: {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: x, namespace: "{{ metadata.name }}"}}}
  - create: {object: {apiVersion: v1, kind: ServiceAccount, metadata: {name: x, namespace: "{{ metadata.name }}"}}}
  - update: {target: {apiVersion: apps/v1, kind: Deployment, namespace: a, name: b}, object: "{{ $target }}"}
  - patch: {target: {apiVersion: batch/v1, kind: Job, namespace: a, name: b}, subresource: status, patch: {status: {}}}
  - patch: {target: {apiVersion: apps/v1, kind: StatefulSet, namespace: a, name: b}, patch: {metadata: {labels: {a: b}}}}
  - delete: {}
  - event: {reason: Seen, message: seen}
  - webhook: {url: "https://example.com/hook"}`),
      );
      expect(verbsOn(rs, 'networking.k8s.io', 'networkpolicies')).to.deep.equal(['create', 'patch']);
      expect(verbsOn(rs, '', 'serviceaccounts')).to.deep.equal(['create']);
      expect(verbsOn(rs, 'apps', 'deployments')).to.deep.equal(['get', 'list', 'watch', 'update']);
      expect(verbsOn(rs, 'apps', 'statefulsets')).to.deep.equal(['get', 'patch']);
      expect(verbsOn(rs, 'batch', 'jobs')).to.deep.equal(['get']);
      expect(verbsOn(rs, 'batch', 'jobs/status')).to.deep.equal(['patch']);
      expect(verbsOn(rs, '', 'namespaces')).to.deep.equal(['get', 'list', 'watch', 'delete']);
      expect(verbsOn(rs, 'events.k8s.io', 'events')).to.deep.equal(['get', 'create', 'patch']);
    });

    it('says which permissions it cannot derive instead of guessing them', () => {
      const a = analyseRules([
        rule('r', `watch: {apiVersion: v1, kind: Pod}
when: $exists($get(metadata.labels.apiVersion, 'Thing', 'ns', 'x'))
actions:
  - delete: {target: {apiVersion: v1, kind: "{{ metadata.labels.kind }}", name: x}}`),
      ]);
      expect(a.notes).to.have.length(2);
      expect(a.notes[0]).to.match(/rule "r": when: \$get\(…\) with a kind that is not a literal/);
      expect(a.notes[1]).to.match(/rule "r": actions\[0\]\.delete: the target's apiVersion or kind is a template/);
      expect(JSON.stringify(toPolicyRules(a.cluster))).to.not.contain('*');
    });

    it('takes a custom kind\'s plural from its CRD, and otherwise guesses it with a note', () => {
      const r = rule('r', 'watch: {apiVersion: example.com/v1, kind: Mouse}\nactions: [{delete: {}}]');
      expect(verbsOn(toPolicyRules(analyseRules([r], [{ group: 'example.com', kind: 'Mouse', plural: 'mice', versions: ['v1'] }]).cluster), 'example.com', 'mice')).to.deep.equal([
        'get',
        'list',
        'watch',
        'delete',
      ]);
      const guessed = analyseRules([r]);
      expect(verbsOn(toPolicyRules(guessed.cluster), 'example.com', 'mouses')).to.not.equal(undefined);
      expect(guessed.notes[0]).to.contain('plural guessed as "mouses"');
    });
  });

  it('grants impersonation of ServiceAccounts and SubjectAccessReviews only when a rule runs as a ServiceAccount', () => {
    const text = 'apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata: {name: r}\nspec:\n  serviceAccountName: robot\n  watch: {apiVersion: v1, kind: ConfigMap}\n  actions: [{log: {message: hi}}]\n';
    const { rules, errors } = loadRules([{ file: 'r.yaml', text, tenant: 'team-a' }]);
    expect(errors).to.deep.equal([]);
    const rs = rulesOf(...rules);
    expect(verbsOn(rs, '', 'serviceaccounts')).to.deep.equal(['impersonate']);
    expect(verbsOn(rs, 'authorization.k8s.io', 'subjectaccessreviews')).to.deep.equal(['create']);
    const plain = rulesOf(rule('r', 'watch: {apiVersion: v1, kind: ConfigMap}\nactions: [{log: {message: hi}}]'));
    expect(verbsOn(plain, '', 'serviceaccounts')).to.equal(undefined);
    expect(verbsOn(plain, 'authorization.k8s.io', 'subjectaccessreviews')).to.equal(undefined);
  });

  it('guesses plurals as client-go does without discovery', () => {
    expect(['Preview', 'Policy', 'Gateway', 'Ingress', 'Mouse'].map(guessPlural)).to.deep.equal(['previews', 'policies', 'gateways', 'ingresses', 'mouses']);
  });

  it('finds $get and $list calls however deeply they are nested', () => {
    expect(lookups(`($x := $list("apps/v1", "Deployment", ns)[a in $get("v1", "Secret", "p", "n").data]; $x)`)).to.deep.equal([
      { fn: 'list', apiVersion: 'apps/v1', kind: 'Deployment' },
      { fn: 'get', apiVersion: 'v1', kind: 'Secret' },
    ]);
  });

  describe('over the shipped rules', () => {
    it('prints a ClusterRole, a Role, the ServiceAccount and both bindings, with no wildcard, the same text every time', async () => {
      const first = await rbac('rules/', '--crds', 'examples/');
      const second = await rbac('rules/', '--crds', 'examples/');
      expect(first.code, first.err).to.equal(0);
      expect(first.out).to.equal(second.out);
      const docs = loadAll(first.out) as { kind: string; rules: PolicyRule[] }[];
      expect(docs.map((d) => d.kind)).to.deep.equal(['ClusterRole', 'Role', 'ServiceAccount', 'ClusterRoleBinding', 'RoleBinding']);
      expect(first.out).to.not.match(/\*/);
      expect(first.err).to.equal('');
    });

    it('grants what the shipped rules do, and nothing for kinds they never touch', async () => {
      const { out } = await rbac('rules/', '--crds', 'examples/', '--output', 'json');
      const [cluster, role] = JSON.parse(out) as { rules: PolicyRule[]; metadata: Record<string, string> }[];
      expect(verbsOn(cluster.rules, 'batch', 'jobs')).to.deep.equal(['get', 'list', 'watch', 'delete']);
      expect(verbsOn(cluster.rules, '', 'secrets')).to.deep.equal(['get', 'list', 'watch', 'create', 'patch', 'delete']);
      expect(verbsOn(cluster.rules, 'apps', 'deployments')).to.deep.equal(['get', 'list', 'watch', 'update', 'patch', 'delete']);
      expect(verbsOn(cluster.rules, 'networking.k8s.io', 'networkpolicies')).to.deep.equal(['get', 'list', 'watch', 'create', 'patch', 'delete']);
      expect(verbsOn(cluster.rules, 'policy', 'poddisruptionbudgets')).to.deep.equal(['get', 'list', 'watch', 'create', 'patch', 'delete']);
      expect(verbsOn(cluster.rules, 'example.com', 'previews')).to.deep.equal(['get', 'list', 'watch', 'delete']);
      expect(verbsOn(cluster.rules, '', 'pods')).to.equal(undefined);
      expect(role.metadata).to.deep.equal({ name: 'reflex', namespace: 'reflex' });
      expect(verbsOn(role.rules, 'coordination.k8s.io', 'leases')).to.deep.equal(['get', 'create', 'update']);
      expect(verbsOn(role.rules, '', 'configmaps')).to.deep.equal(['get', 'list', 'watch']);
    });

    it('names the namespace and every document as asked, and binds both roles to the ServiceAccount', async () => {
      const { out } = await rbac('rules/delete-finished-jobs.yaml', '--name', 'automation', '-n', 'platform');
      const docs = loadAll(out) as { kind: string; metadata: Record<string, string>; subjects?: unknown[]; roleRef?: { kind: string; name: string } }[];
      const cluster = { name: 'automation' };
      const local = { name: 'automation', namespace: 'platform' };
      expect(docs.map((d) => d.metadata)).to.deep.equal([cluster, local, local, cluster, local]);
      const subject = { kind: 'ServiceAccount', name: 'automation', namespace: 'platform' };
      expect(docs.slice(3).map((d) => [d.roleRef?.kind, d.roleRef?.name, d.subjects])).to.deep.equal([
        ['ClusterRole', 'automation', [subject]],
        ['Role', 'automation', [subject]],
      ]);
      const rolesOnly = loadAll((await rbac('rules/delete-finished-jobs.yaml', '--roles-only')).out) as { kind: string }[];
      expect(rolesOnly.map((d) => d.kind)).to.deep.equal(['ClusterRole', 'Role']);
    });
  });

  describe('errors', () => {
    it('exits 1 naming file:line:col when a rule does not load', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'reflex-rbac-'));
      try {
        writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata: {name: bad}\nspec:\n  watch: {apiVersion: v1, kind: Pod}\n  when: "(("\n  actions: [{delete: {}}]\n');
        const r = await rbac(join(dir, 'bad.yaml'));
        expect(r.code).to.equal(1);
        expect(r.err).to.match(/bad\.yaml:6:\d+: /);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('exits 2 without a path, and 1 for a path that does not exist', async () => {
      expect((await rbac()).code).to.equal(2);
      const missing = await rbac('no/such/dir');
      expect(missing.code).to.equal(1);
      expect(missing.err).to.contain('no/such/dir');
    });
  });
});
