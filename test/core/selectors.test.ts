import { expect } from 'chai';
import { labelSelectorFromSpec, parseFieldSelector, parseLabelSelector, SelectorSyntaxError } from '../../src/engine/index.js';

describe('core/selectors', () => {
  const labels = { env: 'dev', tier: 'web' };

  it('matches every operator of the string form: =, ==, !=, in, notin, exists, !key', () => {
    const m = (s: string) => parseLabelSelector(s).matches(labels);
    expect(m('env=dev')).to.equal(true);
    expect(m('env==dev')).to.equal(true);
    expect(m('env=prod')).to.equal(false);
    expect(m('env!=prod')).to.equal(true);
    expect(m('missing!=x')).to.equal(true);
    expect(m('env in (dev, ci)')).to.equal(true);
    expect(m('env in (prod)')).to.equal(false);
    expect(m('env notin (prod)')).to.equal(true);
    expect(m('env notin (dev)')).to.equal(false);
    expect(m('missing notin (dev)')).to.equal(true);
    expect(m('tier')).to.equal(true);
    expect(m('missing')).to.equal(false);
    expect(m('!missing')).to.equal(true);
    expect(m('!tier')).to.equal(false);
    expect(m('env=dev,tier=web,!gone')).to.equal(true);
    expect(m('')).to.equal(true);
  });

  it('accepts prefixed keys and prints the canonical form', () => {
    expect(parseLabelSelector('app.kubernetes.io/name = x ,  b in (1,2), !c').toString()).to.equal('app.kubernetes.io/name=x,b in (1,2),!c');
  });

  it('builds the same selector from matchLabels and matchExpressions', () => {
    const s = labelSelectorFromSpec({
      matchLabels: { env: 'dev' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['web', 'api'] },
        { key: 'x', operator: 'DoesNotExist' },
        { key: 'tier', operator: 'Exists' },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
      ],
    });
    expect(s.toString()).to.equal('env=dev,tier in (web,api),!x,tier,env notin (prod)');
    expect(s.matches(labels)).to.equal(true);
    expect(s.matches({ env: 'dev' })).to.equal(false);
  });

  it('rejects malformed selectors with the character position', () => {
    const err = (s: string) => {
      try {
        parseLabelSelector(s);
      } catch (e) {
        expect(e).to.be.instanceOf(SelectorSyntaxError);
        return [(e as SelectorSyntaxError).position, (e as Error).message];
      }
      throw new Error('parsed');
    };
    expect(err('env in dev')).to.deep.equal([7, 'expected "(" after in']);
    expect(err('a=b,,c')).to.deep.equal([4, 'expected a label key']);
    expect(err('a=b c')).to.deep.equal([4, 'expected "," between requirements, found "c"']);
    expect(err('bad key=1')[0]).to.equal(4);
    expect(err('k=-x-')[1]).to.match(/invalid label value "-x-"/);
  });

  it('evaluates field selectors on any dotted path, as text', () => {
    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'ci' }, status: { succeeded: 1 } };
    expect(parseFieldSelector('status.succeeded=1').matches(job)).to.equal(true);
    expect(parseFieldSelector('metadata.namespace==ci,metadata.name!=other').matches(job)).to.equal(true);
    expect(parseFieldSelector('status.failed=1').matches(job)).to.equal(false);
    expect(parseFieldSelector('status.failed!=1').matches(job)).to.equal(true);
    expect(() => parseFieldSelector('a=1,b')).to.throw(SelectorSyntaxError, 'invalid field requirement "b"');
  });
});
