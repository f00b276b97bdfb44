import { expect } from 'chai';
import { evaluateRule, futureTime, RuleEvaluationError } from '../../src/engine/index.js';
import { clock, pod, problems, ruleFrom, ruleText, T0 } from './helpers.js';

const ttlRule = (extra = '') =>
  ruleFrom(
    ruleText(
      'ttl',
      `watch: { apiVersion: v1, kind: Pod }
when: "$millis() >= $number(metadata.annotations.due)"
recheckAt: "$number(metadata.annotations.due)"
${extra}actions:
  - delete: {}`,
    ),
  );
const due = (name: string, at: number | string) => ({ ...pod(name), metadata: { ...pod(name).metadata, annotations: { due: String(at) } } });

describe('engine/evaluate: recheckAt', () => {
  it('implies recheck in on, after the events as written', () => {
    expect(ttlRule().on).to.deep.equal(['sync', 'create', 'update', 'resync', 'recheck']);
    expect(ttlRule('on: [create, recheck]\n').on).to.deep.equal(['create', 'recheck']);
  });

  it('returns a time after now with the empty plan of a when that is still false', async () => {
    const evaluation = await evaluateRule(ttlRule(), 'create', due('p', T0 + 20_000), undefined, { clock: clock() });
    expect(evaluation).to.deep.equal({ plan: [], recheckAt: T0 + 20_000 });
  });

  it('returns no re-check once the time has come, and the plan the time made true', async () => {
    const evaluation = await evaluateRule(ttlRule(), 'recheck', due('p', T0), undefined, { clock: clock() });
    expect(evaluation.recheckAt).to.equal(undefined);
    expect(evaluation.plan.map((p) => [p.action, p.trigger.event])).to.deep.equal([['delete', 'recheck']]);
  });

  it('still asks for the re-check when changes saw no change', async () => {
    const r = ttlRule('on: [update]\nchanges: metadata.labels\n');
    const obj = due('p', T0 + 5000);
    expect(await evaluateRule(r, 'update', obj, obj, { clock: clock() })).to.deep.equal({ plan: [], recheckAt: T0 + 5000 });
  });

  it('gives no re-check for an object the rule does not select, an event it does not hear, or a suspended rule', async () => {
    const obj = due('p', T0 + 5000);
    const selective = ruleFrom(ruleText('s', 'watch: { apiVersion: v1, kind: Pod, labelSelector: "x=y" }\nrecheckAt: "$number(metadata.annotations.due)"\nactions:\n  - delete: {}'));
    expect(await evaluateRule(selective, 'sync', obj, undefined, { clock: clock() })).to.deep.equal({ plan: [] });
    expect(await evaluateRule(ttlRule('on: [create]\n'), 'update', obj, obj, { clock: clock() })).to.deep.equal({ plan: [] });
    expect(await evaluateRule(ttlRule('suspend: true\n'), 'sync', obj, undefined, { clock: clock() })).to.deep.equal({ plan: [] });
  });

  it('rejects with a rule error naming recheckAt when it yields something that is not a time', async () => {
    const r = ruleFrom(ruleText('bad', 'watch: { apiVersion: v1, kind: Pod }\nrecheckAt: "metadata.name"\nactions:\n  - delete: {}'));
    const err = await evaluateRule(r, 'sync', pod('p'), undefined, { clock: clock() }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(RuleEvaluationError);
    expect((err as Error).message).to.equal(
      'rule "bad": recheckAt "metadata.name": expected a time (RFC 3339 text or epoch milliseconds), a list of times, or undefined; got "p"',
    );
  });

  it('is a load error when on lists recheck without recheckAt, or recheckAt does not parse', () => {
    expect(problems(ruleText('e', 'watch: { apiVersion: v1, kind: Pod }\non: [recheck]\nactions:\n  - delete: {}'))).to.deep.equal([
      'rule.yaml:7:7: rule "e" (document 1): spec.on: includes "recheck" but spec.recheckAt is not set',
    ]);
    const [p] = problems(ruleText('e', 'watch: { apiVersion: v1, kind: Pod }\nrecheckAt: "1 +"\nactions:\n  - delete: {}'));
    expect(p).to.match(/^rule\.yaml:7:\d+: rule "e" \(document 1\): spec\.recheckAt: /);
  });
});

describe('engine/evaluate: futureTime reads the value of recheckAt', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const table: [unknown, number | undefined][] = [
    [now + 1, now + 1],
    [now, undefined],
    [now - 1000, undefined],
    ['2026-01-01T00:00:20Z', now + 20_000],
    ['2026-01-01T01:00:00.5+01:00', now + 500],
    ['2026-01-01t00:00:01z', now + 1000],
    [undefined, undefined],
    [null, undefined],
    [[now - 5, now + 30, now + 10, undefined], now + 10],
    [[], undefined],
  ];
  for (const [value, expected] of table) {
    it(`${JSON.stringify(value) ?? 'undefined'} → ${expected === undefined ? 'no re-check' : `now + ${expected - now} ms`}`, () => {
      expect(futureTime(value, now)).to.equal(expected);
    });
  }
  for (const bad of ['tomorrow', '2026-01-01', '2026-13-01T00:00:00Z', true, { at: 1 }, Number.NaN, Number.POSITIVE_INFINITY, [now + 5, 'soon']]) {
    it(`${String(JSON.stringify(bad) ?? bad)} is not a time`, () => {
      expect(() => futureTime(bad, now)).to.throw(TypeError, /expected a time \(RFC 3339 text or epoch milliseconds\)/);
    });
  }
});
