import { expect } from 'chai';
import { loadRules } from '../../src/engine/index.js';

const doc = (kind: string, name: string, extra: { namespace?: string; spec?: string } = {}) =>
  `apiVersion: reflex.dev/v1alpha1\nkind: ${kind}\nmetadata:\n  name: ${name}\n${extra.namespace ? `  namespace: ${extra.namespace}\n` : ''}spec:\n  watch: { apiVersion: v1, kind: ConfigMap }\n${extra.spec ?? ''}  actions:\n    - log: { message: hi }\n`;
const lines = (r: ReturnType<typeof loadRules>, which: 'errors' | 'warnings') => r[which].map((e) => e.message);

describe('engine: rule kinds ClusterRule and Rule', () => {
  it('ClusterRule is cluster-wide and loads without a warning', () => {
    const r = loadRules([{ file: 'a.yaml', text: doc('ClusterRule', 'a') }]);
    expect(lines(r, 'errors')).to.deep.equal([]);
    expect(lines(r, 'warnings')).to.deep.equal([]);
    expect(r.rules[0].tenant).to.equal(undefined);
    expect(r.rules[0].watch.namespaces).to.equal(undefined);
  });

  it('Rule without a namespace is read as ClusterRule, with one deprecation warning per source', () => {
    const r = loadRules([
      { file: 'two.yaml', text: `${doc('Rule', 'a')}---\n${doc('Rule', 'b')}---\n${doc('ClusterRule', 'c')}` },
      { file: 'one.yaml', text: doc('Rule', 'd') },
    ]);
    expect(lines(r, 'errors')).to.deep.equal([]);
    expect(r.rules.map((x) => [x.name, x.tenant])).to.deep.equal([['a', undefined], ['b', undefined], ['c', undefined], ['d', undefined]]);
    expect(lines(r, 'warnings')).to.deep.equal([
      'two.yaml:2:7: kind: Rule without metadata.namespace is read as ClusterRule (2 rules in this source); this form is deprecated, write kind: ClusterRule',
      'one.yaml:2:7: kind: Rule without metadata.namespace is read as ClusterRule; this form is deprecated, write kind: ClusterRule',
    ]);
    expect(r.warnings.map((w) => w.code)).to.deep.equal(['WARN_DEPRECATED', 'WARN_DEPRECATED']);
  });

  it('a Rule with a namespace is confined to it like a tenant ConfigMap\'s rule', () => {
    const r = loadRules([{ file: 'r.yaml', text: doc('Rule', 'a', { namespace: 'team-a' }) }]);
    expect(lines(r, 'errors')).to.deep.equal([]);
    expect(lines(r, 'warnings')).to.deep.equal([]);
    expect(r.rules[0].tenant).to.equal('team-a');
    expect(r.rules[0].runAs).to.deep.equal({ namespace: 'team-a', name: 'default' });
    expect(r.rules[0].watch.namespaces).to.deep.equal(['team-a']);
    const bot = loadRules([{ file: 'r.yaml', text: doc('Rule', 'a', { namespace: 'team-a', spec: '  serviceAccountName: bot\n' }) }]);
    expect(bot.rules[0].runAs).to.deep.equal({ namespace: 'team-a', name: 'bot' });
    const wide = loadRules([{ file: 'r.yaml', text: doc('Rule', 'b', { namespace: 'team-a' }).replace('kind: ConfigMap', 'kind: Namespace') }]);
    expect(wide.rules).to.deep.equal([]);
    expect(lines(wide, 'errors')[0]).to.match(/^r\.yaml:7:34: rule "b" \(document 1\): spec\.watch\.kind: Namespace is cluster-scoped; /);
  });

  it('what contradicts the kind or the source is a load error at its field', () => {
    const r = loadRules([
      { file: 'c.yaml', text: doc('ClusterRule', 'ns', { namespace: 'team-a' }) },
      { file: 'd.yaml', text: doc('ClusterRule', 'sa', { spec: '  serviceAccountName: bot\n' }) },
      { file: 'e.yaml', text: doc('Rule', 'nons', { spec: '  serviceAccountName: bot\n' }) },
      { file: 'f.yaml', text: doc('Rule', 'other', { namespace: 'team-b' }), tenant: 'team-a' },
      { file: 'g.yaml', text: doc('Policy', 'p') },
    ]);
    expect(r.rules).to.deep.equal([]);
    expect(lines(r, 'errors')).to.deep.equal([
      'c.yaml:5:3: rule "ns" (document 1): metadata.namespace: a ClusterRule is cluster-wide and has no namespace; remove it, or write kind: Rule for a rule confined to "team-a"',
      'd.yaml:7:23: rule "sa" (document 1): spec.serviceAccountName: only a namespaced rule (a Rule in a namespace, or a rule from a ConfigMap outside the daemon\'s namespace) acts as a ServiceAccount; a cluster-wide rule acts as the daemon',
      'e.yaml:7:23: rule "nons" (document 1): spec.serviceAccountName: only a namespaced rule (a Rule in a namespace, or a rule from a ConfigMap outside the daemon\'s namespace) acts as a ServiceAccount; a cluster-wide rule acts as the daemon',
      'f.yaml:5:14: rule "other" (document 1): metadata.namespace: "team-b" is not "team-a"; a rule from namespace "team-a" is confined to it',
      'g.yaml:2:7: rule "p" (document 1): kind: expected one of ClusterRule, Rule; got "Policy"',
    ]);
  });

  it('in a tenant ConfigMap, Rule without a namespace is that namespace\'s rule: confined, no warning', () => {
    const r = loadRules([{ file: 'cm', text: `${doc('Rule', 'a')}---\n${doc('Rule', 'b', { namespace: 'team-a' })}`, tenant: 'team-a' }]);
    expect(lines(r, 'errors')).to.deep.equal([]);
    expect(lines(r, 'warnings')).to.deep.equal([]);
    expect(r.rules.map((x) => [x.tenant, x.runAs?.name])).to.deep.equal([['team-a', undefined], ['team-a', 'default']]);
  });
});
