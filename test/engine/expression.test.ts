import { expect } from 'chai';
import { FakeClock } from '../../src/core/index.js';
import { EvalErrorCode, evaluate, Expression, loadRules, RuleEvaluationError } from '../../src/engine/index.js';
import { bindingsFor } from '../../src/engine/expression.js';
import { clock, listerOf, pod, ruleFrom, ruleText, T0 } from './helpers.js';

const scope = (objects = [pod('a', { labels: { app: 'x' } }), pod('b', { labels: { app: 'y' } }), pod('c', { namespace: 'other' })]) =>
  bindingsFor({ clock: clock(), lister: listerOf(objects), event: 'update', old: pod('a-old'), rule: { name: 'r' } });

describe('engine/expression', () => {
  it('takes $now() and $millis() from the injected clock', async () => {
    expect(await new Expression('$millis()').evaluate({}, scope())).to.equal(T0);
    expect(await new Expression('$now()').evaluate({}, scope())).to.equal('2026-03-10T12:00:00.000Z');
    expect(await new Expression("$now('[Y0001]-[M01]-[D01]')").evaluate({}, scope())).to.equal('2026-03-10');
  });

  it('binds $old, $event and $rule', async () => {
    expect(await new Expression('[$old.metadata.name, $event, $rule.name]').evaluate({}, scope())).to.deep.equal(['a-old', 'update', 'r']);
  });

  it('$get returns a cached object or undefined; null and "" mean cluster-scoped', async () => {
    expect(await new Expression("$get('v1', 'Pod', 'default', 'b').metadata.labels.app").evaluate({}, scope())).to.equal('y');
    expect(await new Expression("$get('v1', 'Pod', 'default', 'zzz')").evaluate({}, scope())).to.equal(undefined);
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n1' } };
    const b = bindingsFor({ clock: clock(), lister: listerOf([ns]), event: 'sync', old: undefined, rule: {} });
    expect(await new Expression("[$get('v1', 'Namespace', null, 'n1').metadata.name, $get('v1', 'Namespace', '', 'n1').metadata.name]").evaluate({}, b)).to.deep.equal([
      'n1',
      'n1',
    ]);
  });

  it('$list filters by namespace (all when null or "") and by a label selector', async () => {
    const names = (e: string) => new Expression(`[${e}.metadata.name]`).evaluate({}, scope());
    expect(await names("$list('v1', 'Pod')")).to.deep.equal(['a', 'b', 'c']);
    expect(await names("$list('v1', 'Pod', 'default')")).to.deep.equal(['a', 'b']);
    expect(await names("$list('v1', 'Pod', null, 'app in (x,y)')")).to.deep.equal(['a', 'b']);
    expect(await names("$list('v1', 'Pod', '', 'app!=x')")).to.deep.equal(['b', 'c']);
    expect(await new Expression("$count($list('v1', 'Secret'))").evaluate({}, scope())).to.equal(0);
  });

  it('stops an expression that runs out of its time budget, naming the rule and the expression', async () => {
    const text = ruleText('slow', 'watch: { apiVersion: v1, kind: Pod }\nwhen: "$count([1..900000].($ * 2)) > 0"\nactions:\n  - delete: {}');
    const [r] = loadRules([{ file: 'slow.yaml', text }], { limits: { timeoutMs: 50 } }).rules;
    const started = Date.now();
    try {
      await evaluate(r, 'sync', pod('p'), undefined, { clock: new FakeClock(T0) });
      expect.fail('evaluated');
    } catch (err) {
      expect(err).to.be.instanceOf(RuleEvaluationError);
      expect((err as RuleEvaluationError).code).to.equal(EvalErrorCode.timeout);
      expect((err as Error).message).to.equal('rule "slow": when "$count([1..900000].($ * 2)) > 0": ran out of its time budget (50 ms)');
    }
    expect(Date.now() - started).to.be.below(5000);
  });

  it('runs again an evaluation that ran out of time while a cache was starting', async () => {
    const text = ruleText('waits', 'watch: { apiVersion: v1, kind: Pod }\nwhen: "$get(\'v1\', \'Pod\', \'default\', \'b\').metadata.name = \'b\'"\nactions:\n  - delete: {}');
    const [r] = loadRules([{ file: 'waits.yaml', text }], { limits: { timeoutMs: 20 } }).rules;
    const cache = listerOf([pod('b')]);
    let calls = 0;
    // The first lookup waits for the cache to sync (longer than the budget); later ones answer at once.
    const get: typeof cache.get = (...a) => (++calls === 1 ? new Promise((resolve) => setTimeout(() => resolve(cache.get(...a)), 80)) : cache.get(...a));
    expect(await evaluate(r, 'sync', pod('p'), undefined, { lister: { ...cache, get } })).to.have.length(1);
    expect(calls).to.equal(2);
  });

  it('stops runaway recursion at the depth limit', async () => {
    const r = ruleFrom(
      ruleText('deep', 'watch: { apiVersion: v1, kind: Pod }\nwhen: "($f := function($n) { 1 + $f($n + 1) }; $f(0))"\nactions:\n  - delete: {}'),
    );
    const err = await evaluate(r, 'sync', pod('p'), undefined, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(RuleEvaluationError);
    expect((err as RuleEvaluationError).code).to.equal(EvalErrorCode.depth);
    expect((err as Error).message).to.match(/^rule "deep": when ".*": exceeded the depth limit \(500\)$/);
  });

  it('reports a runtime error such as calling something that is not a function', async () => {
    const r = ruleFrom(ruleText('call', 'watch: { apiVersion: v1, kind: Pod }\nactions:\n  - log: { message: "{{ ($x := 1; $x()) }}" }'));
    const err = await evaluate(r, 'sync', pod('p'), undefined, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(RuleEvaluationError);
    expect((err as RuleEvaluationError).code).to.equal(EvalErrorCode.runtime);
    expect((err as Error).message).to.equal(
      'rule "call": actions[0].log.message " ($x := 1; $x()) ": Attempted to invoke a non-function (T1006) at character 14',
    );
  });
});
