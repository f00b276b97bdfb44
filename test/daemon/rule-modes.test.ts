import { expect } from 'chai';
import { auditOverride } from '../../src/daemon/rule-modes.js';
import { loadDaemonConfig } from '../../src/daemon/config.js';
import { loadRules, type CompiledRule } from '../../src/engine/index.js';

const rule = (name: string, mode = 'enforce') => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: ${name}}
spec:
  mode: ${mode}
  watch: {apiVersion: v1, kind: ConfigMap}
  actions: [{delete: {}}]
`;

function loaded(...texts: string[]): Map<string, CompiledRule> {
  const { rules, errors } = loadRules(texts.map((text, i) => ({ file: `r${i}.yaml`, text })));
  expect(errors).to.deep.equal([]);
  return new Map(rules.map((r) => [r.name, r]));
}

describe('daemon/rule-modes: rules.audit', () => {
  it('runs the named rules in audit mode and leaves the others as written', () => {
    const rules = loaded(rule('a'), rule('b'), rule('c', 'audit'));
    const out = auditOverride(['a', 'c', 'not-loaded'])(rules);
    expect([...out].map(([n, r]) => [n, r.mode])).to.deep.equal([['a', 'audit'], ['b', 'enforce'], ['c', 'audit']]);
    expect(out.get('b')).to.equal(rules.get('b'));
    expect(rules.get('a')!.mode, 'the loaded rule itself is not changed').to.equal('enforce');
  });

  it('gives an unchanged rule the same audited copy on every reload, and a changed one a new copy', () => {
    const override = auditOverride(['a']);
    const first = loaded(rule('a'));
    const again = override(first).get('a');
    expect(override(first).get('a')).to.equal(again);
    expect(override(loaded(rule('a'))).get('a')).to.not.equal(again);
  });

  it('is read from the config file and from REFLEX_RULES_AUDIT; default none', () => {
    expect(loadDaemonConfig({ env: {} }).rules.audit).to.deep.equal([]);
    expect(loadDaemonConfig({ env: { REFLEX_RULES_AUDIT: 'a,b' } }).rules.audit).to.deep.equal(['a', 'b']);
  });
});
