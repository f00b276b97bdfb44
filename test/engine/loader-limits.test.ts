import { expect } from 'chai';
import { decodeRuleText, loadRules } from '../../src/engine/index.js';
import { aliasBomb, ruleText } from './helpers.js';

const reasons = (text: string, options = {}) => loadRules([{ file: 'r.yaml', text }], options).errors.map((e) => `${e.location.line}:${e.location.column}: ${e.reason}`);

describe('engine/loader: limits of a source', () => {
  it('refuses an alias bomb inside an action with a position, and loads the document beside it', () => {
    const good = ruleText('good', 'watch: { apiVersion: v1, kind: ConfigMap }\nactions:\n  - delete: {}');
    const { rules, errors } = loadRules([{ file: 'r.yaml', text: `${aliasBomb()}---\n${good}` }]);
    expect(rules.map((r) => r.name)).to.deep.equal(['good']);
    expect(errors).to.have.length(1);
    expect(`${errors[0].location.line}:${errors[0].location.column}: ${errors[0].reason}`).to.match(/^1[0-9]:\d+: document 1: too large: the document has more than 100,000 nodes once its aliases are expanded/);
  });

  it('counts aliases', () => {
    const many = ruleText('many', `watch: { apiVersion: v1, kind: ConfigMap }\nactions:\n  - patch:\n      patch:\n        data:\n          a: &x "v"\n          b: [${Array(20).fill('*x').join(', ')}]`);
    expect(reasons(many, { sourceLimits: { maxAliases: 10 } })[0]).to.match(/^12:57: document 1: too large: the document has more than 10 aliases/);
    expect(reasons(many)).to.deep.equal([]);
  });

  it('refuses a source with more rule documents than the limit, naming the first one over it', () => {
    const text = Array.from({ length: 4 }, (_, i) => ruleText(`r${i}`, 'watch: { apiVersion: v1, kind: Pod }\nactions:\n  - delete: {}')).join('---\n');
    const { rules, errors } = loadRules([{ file: 'r.yaml', text }, { file: 'other.yaml', text: ruleText('other', 'watch: { apiVersion: v1, kind: Pod }\nactions:\n  - delete: {}') }], {
      sourceLimits: { maxRulesPerSource: 3 },
    });
    expect(rules.map((r) => r.name)).to.deep.equal(['other']);
    expect(errors.map((e) => `${e.location.file}:${e.location.line}: ${e.reason}`)).to.deep.equal([
      'r.yaml:28: the source holds 4 rule documents, more than the limit of 3 per source (rules.maxRulesPerSource); none of its rules are loaded (split it)',
    ]);
  });

  it('refuses a source larger than the limit before parsing it', () => {
    expect(reasons('x'.repeat(101), { sourceLimits: { maxSourceBytes: 100 } })).to.deep.equal([
      '1:1: the source holds 101 characters, more than the limit of 100; none of its rules are loaded (split it)',
    ]);
  });

  it('reports a source that is not UTF-8 at the line and column of the first bad byte', () => {
    const bytes = Buffer.concat([Buffer.from('apiVersion: reflex.dev/v1alpha1\nkind: Ru'), Buffer.from([0xff, 0x6c]), Buffer.from('e\n')]);
    const decoded = decodeRuleText(bytes);
    expect(decoded).to.have.property('unreadable');
    const u = (decoded as { unreadable: { line: number; column: number; reason: string } }).unreadable;
    expect([u.line, u.column]).to.deep.equal([2, 9]);
    expect(loadRules([{ file: 'r.yaml', text: '', unreadable: u }]).errors.map(String)).to.deep.equal([
      'RuleLoadError: r.yaml:2:9: invalid UTF-8 (byte 0xff at offset 40); rule files must be UTF-8',
    ]);
    expect(decodeRuleText(Buffer.from('\ufeffkind: Rule\n'))).to.deep.equal({ text: 'kind: Rule\n' });
  });
});
