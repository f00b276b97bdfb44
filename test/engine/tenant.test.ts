import { expect } from 'chai';
import { evaluate, loadRules, TenantConfinementError } from '../../src/engine/index.js';
import { clock, listerOf, pod, ruleText } from './helpers.js';

/** Loads `spec` as the one rule of a ConfigMap in namespace `tenant`. */
const tenantLoad = (spec: string) => loadRules([{ file: 'configmap/tenant/rules/rules.yaml', text: ruleText('t', spec), tenant: 'tenant' }]);
const reasons = (spec: string) => tenantLoad(spec).errors.map((e) => `${e.location.line}:${e.location.column}: ${e.reason}`);

describe('engine/tenant: rules from a ConfigMap outside the daemon namespace', () => {
  it('confines a rule that names no namespace to its own', () => {
    const { rules, errors } = tenantLoad('watch: { apiVersion: v1, kind: Pod }\nactions:\n  - delete: {}');
    expect(errors).to.deep.equal([]);
    expect(rules[0].tenant).to.equal('tenant');
    expect(rules[0].watch.namespaces).to.deep.equal(['tenant']);
  });

  it('refuses, with a position, a watch of other namespaces, a namespaceSelector and a cluster-scoped kind', () => {
    expect(reasons('watch: { apiVersion: v1, kind: Pod, namespaces: [tenant, kube-system] }\nactions:\n  - delete: {}')[0]).to.match(
      /^6:60: .*spec\.watch\.namespaces: "kube-system" is outside "tenant"/,
    );
    expect(reasons('watch: { apiVersion: v1, kind: Pod, namespaceSelector: "a=b" }\nactions:\n  - delete: {}')[0]).to.match(/spec\.watch\.namespaceSelector/);
    expect(reasons('watch: { apiVersion: v1, kind: Namespace }\nactions:\n  - delete: {}')[0]).to.match(/spec\.watch\.kind: Namespace is cluster-scoped/);
  });

  it('confines every watch of a list, and refuses each one reaching out by its position', () => {
    const { rules, errors } = tenantLoad('watch:\n  - { apiVersion: v1, kind: Pod }\n  - { apiVersion: v1, kind: ConfigMap }\nactions:\n  - delete: {}');
    expect(errors).to.deep.equal([]);
    expect(rules[0].watches.map((w) => w.namespaces)).to.deep.equal([['tenant'], ['tenant']]);
    const errs = reasons('watch:\n  - { apiVersion: v1, kind: Pod }\n  - { apiVersion: v1, kind: Secret, namespaces: [other] }\n  - { apiVersion: v1, kind: Node }\nrecheckAt: "$get(\'v1\', \'Secret\', \'other\', \'x\').metadata.annotations.at"\nactions:\n  - delete: {}');
    expect(errs.join('\n')).to.match(/spec\.watch\[1\]\.namespaces: "other" is outside "tenant"/);
    expect(errs.join('\n')).to.match(/spec\.watch\[2\]\.kind: Node is cluster-scoped/);
    expect(errs.join('\n')).to.match(/spec\.recheckAt: \$get in namespace "other", outside "tenant"/);
  });

  it('refuses literal targets outside the namespace, cluster-scoped and RBAC objects, and objects with no namespace', () => {
    const errs = reasons(`watch: { apiVersion: v1, kind: Pod }
actions:
  - patch: { target: { apiVersion: v1, kind: ConfigMap, namespace: other, name: x }, patch: { data: { a: b } } }
  - apply:
      object:
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: { name: mine }
  - create:
      object: { apiVersion: v1, kind: ConfigMap, metadata: { name: c } }
  - delete: { target: { apiVersion: v1, kind: Node, name: n1 } }`);
    expect(errs.join('\n')).to.match(/actions\[0\]\.patch\.target\.namespace: "other" is outside "tenant"/);
    expect(errs.join('\n')).to.match(/actions\[1\]\.apply\.object\.apiVersion: a tenant rule never writes rbac\.authorization\.k8s\.io objects/);
    expect(errs.join('\n')).to.match(/actions\[2\]\.create\.object\.metadata\.namespace: not set/);
    expect(errs.join('\n')).to.match(/actions\[3\]\.delete\.target\.kind: Node is cluster-scoped/);
  });

  it('refuses $get and $list of literal other namespaces, of all namespaces and of cluster-scoped kinds', () => {
    const errs = reasons(`watch: { apiVersion: v1, kind: Pod }
when: "$exists($get('v1', 'Secret', 'kube-system', 'x')) or $count($list('v1', 'Pod')) > 0 or $exists($get('v1', 'Namespace', '', 'tenant'))"
actions:
  - log: { message: "{{ $list('v1', 'Secret', null) }}" }`);
    expect(errs.join('\n')).to.match(/7:18: .*spec\.when: \$get in namespace "kube-system", outside "tenant"/);
    expect(errs.join('\n')).to.match(/spec\.when: \$list without a namespace/);
    expect(errs.join('\n')).to.match(/spec\.when: \$get of Namespace, which is cluster-scoped/);
    expect(errs.join('\n')).to.match(/spec\.actions\[0\]\.log: \$list without a namespace/);
  });

  it('lets the same rule load unconfined from a cluster-wide source', () => {
    const text = ruleText('t', "watch: { apiVersion: v1, kind: Pod, namespaces: [kube-system] }\nwhen: \"$exists($get('v1', 'Secret', 'kube-system', 'x'))\"\nactions:\n  - delete: {}");
    const { rules, errors } = loadRules([{ file: 'rules.yaml', text }]);
    expect(errors).to.deep.equal([]);
    expect(rules[0].tenant).to.equal(undefined);
  });

  it('refuses at evaluation a computed read outside the namespace, and marks planned writes with the tenant', async () => {
    const { rules } = tenantLoad(`watch: { apiVersion: v1, kind: Pod }
actions:
  - patch: { patch: { metadata: { labels: { seen: "{{ $string($exists($get('v1', 'Secret', $.metadata.labels.from, 'x'))) }}" } } } }`);
    const lister = listerOf([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x', namespace: 'kube-system' } }]);
    const inside = await evaluate(rules[0], 'create', pod('p', { namespace: 'tenant', labels: { from: 'tenant' } }), undefined, { clock: clock(), lister });
    expect(inside[0].tenant).to.equal('tenant');
    expect(inside[0].target.namespace).to.equal('tenant');
    const err = await evaluate(rules[0], 'create', pod('p', { namespace: 'tenant', labels: { from: 'kube-system' } }), undefined, { clock: clock(), lister }).catch((e: unknown) => e);
    expect(String((err as Error).message)).to.match(/\$get of Secret in namespace "kube-system" refused/);
    let cause: unknown = err;
    while (cause instanceof Error && !(cause instanceof TenantConfinementError)) cause = cause.cause;
    expect(cause).to.be.instanceOf(TenantConfinementError);
  });

  it('never evaluates objects outside the namespace', async () => {
    const { rules } = tenantLoad('watch: { apiVersion: v1, kind: Pod }\nactions:\n  - delete: {}');
    expect(await evaluate(rules[0], 'create', pod('p', { namespace: 'kube-system' }), undefined, { clock: clock() })).to.deep.equal([]);
  });

  it('runs as a ServiceAccount: the source\'s (a namespaced Rule\'s) or the rule\'s spec.serviceAccountName; none otherwise', () => {
    const text = (sa: string) => ruleText('t', `${sa}watch: { apiVersion: v1, kind: Pod }\nactions:\n  - delete: {}`);
    const load = (t: string, extra: { serviceAccountName?: string } = {}) => loadRules([{ file: 'f.yaml', text: t, tenant: 'tenant', ...extra }]).rules[0];
    expect(load(text('')).runAs).to.equal(undefined);
    expect(load(text('serviceAccountName: robot\n')).runAs).to.deep.equal({ namespace: 'tenant', name: 'robot' });
    expect(load(text(''), { serviceAccountName: 'default' }).runAs).to.deep.equal({ namespace: 'tenant', name: 'default' });
    expect(load(text('serviceAccountName: robot\n'), { serviceAccountName: 'robot' }).runAs).to.deep.equal({ namespace: 'tenant', name: 'robot' });
  });

  it('refuses spec.serviceAccountName on a cluster-wide rule, and a name that is not a DNS subdomain', () => {
    const cluster = loadRules([{ file: 'rules/r.yaml', text: ruleText('t', 'serviceAccountName: robot\nwatch: { apiVersion: v1, kind: Pod }\nactions:\n  - delete: {}') }]);
    expect(cluster.rules).to.deep.equal([]);
    expect(cluster.errors.map((e) => `${e.location.line}:${e.location.column}: ${e.reason}`)[0]).to.match(/^\d+:\d+: .*spec\.serviceAccountName: only a namespaced rule .* acts as a ServiceAccount; a cluster-wide rule acts as the daemon/);
    expect(reasons('serviceAccountName: Robot_1\nwatch: { apiVersion: v1, kind: Pod }\nactions:\n  - delete: {}')[0]).to.match(/serviceAccountName/);
  });
});
