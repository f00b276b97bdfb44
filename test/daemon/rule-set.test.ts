import { expect } from 'chai';
import { RuleSet } from '../../src/daemon/rule-set.js';

const rule = (name: string, when = 'true') => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata:
  name: ${name}
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  when: ${JSON.stringify(when)}
  actions:
    - log: { message: hi }
`;

describe('RuleSet (reloads)', async () => {
  it('loads every good rule of every source', async () => {
    const set = new RuleSet();
    const { rules, errors } = await set.reload([{ file: 'a.yaml', text: `${rule('one')}---\n${rule('two')}` }]);
    expect([...rules.keys()]).to.deep.equal(['one', 'two']);
    expect(errors).to.deep.equal([]);
  });

  it('keeps the previous good version of a rule whose new document is broken, and reports the problem', async () => {
    const set = new RuleSet();
    await set.reload([{ file: 'a.yaml', text: `${rule('one', 'x = 1')}---\n${rule('two')}` }]);
    const { rules, errors, kept } = await set.reload([{ file: 'a.yaml', text: `${rule('one', 'x = (')}---\n${rule('two', 'y = 2')}` }]);
    expect(kept).to.deep.equal(['one']);
    expect(errors).to.have.length(1);
    expect(errors[0].message).to.match(/^a\.yaml:\d+:\d+: /);
    const one = rules.get('one');
    expect(one?.document.spec.when).to.equal('x = 1');
    expect(rules.get('two')?.document.spec.when).to.equal('y = 2');
  });

  it('keeps the previous version when a document is no longer valid YAML', async () => {
    const set = new RuleSet();
    await set.reload([{ file: 'a.yaml', text: rule('one') }]);
    const { rules, kept } = await set.reload([{ file: 'a.yaml', text: 'metadata: [unclosed\n  name: one' }]);
    expect(kept).to.deep.equal(['one']);
    expect(rules.has('one')).to.equal(true);
  });

  it('drops the rules of a source that was removed', async () => {
    const set = new RuleSet();
    await set.reload([{ file: 'a.yaml', text: rule('one') }, { file: 'b.yaml', text: rule('two') }]);
    const { rules } = await set.reload([{ file: 'b.yaml', text: rule('two') }]);
    expect([...rules.keys()]).to.deep.equal(['two']);
  });

  it('does not resurrect a removed rule later, once its document loads again without it', async () => {
    const set = new RuleSet();
    await set.reload([{ file: 'a.yaml', text: rule('one') }]);
    await set.reload([{ file: 'a.yaml', text: rule('uno') }]);
    const { rules } = await set.reload([{ file: 'a.yaml', text: 'kind: [' }]);
    expect([...rules.keys()]).to.deep.equal(['uno']);
  });

  it('pauses for the event loop while it loads thousands of rules', async () => {
    const set = new RuleSet();
    const text = Array.from({ length: 1000 }, (_, i) => rule(`r${i}`)).join('---\n');
    let turns = 0;
    const ticker = setInterval(() => turns++, 1);
    const { rules } = await set.reload([{ file: 'a.yaml', text }], { sliceMs: 5 });
    clearInterval(ticker);
    expect(rules.size).to.equal(1000);
    expect(turns).to.be.greaterThan(0);
  });
});
