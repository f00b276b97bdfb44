import { expect } from 'chai';
import jsonata from 'jsonata';
import { EvalErrorCode, Expression, evaluate, RuleEvaluationError } from '../../src/engine/index.js';
import { bindingsFor } from '../../src/engine/expression.js';
import { clock, listerOf, pod, ruleFrom, ruleText } from './helpers.js';

const scope = () => bindingsFor({ clock: clock(), lister: listerOf([]), event: 'update', old: undefined, rule: { name: 'r' } });
const run = (e: string, input: unknown = {}) => new Expression(e).evaluate(input, scope());

/** The error an evaluation of `e` rejects with. */
async function failure(e: string): Promise<{ code?: string; message: string }> {
  try {
    await run(e);
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error(`${e} evaluated`);
}

describe('engine/bounded', () => {
  describe('keeps the results of the built-ins it replaces', () => {
    const same = [
      '$pad("ab", 5)',
      '$pad("ab", -5, "#")',
      '$pad("ab", 6, "xyz")',
      '$join(["a", "b", "c"], ", ")',
      '$join("a")',
      '$join([])',
      '$string({"a": 1.10000000000000001, "b": [true, null, "x"]})',
      '$string({"a": 1, "f": function($x){$x}})',
      '$string([1, 2], true)',
      '$string("x")',
      '"a" & 1 & true & null & {"k": "v"} & [1, 2] & missing',
      '$append([1, 2], 3)',
      '$append(1, [2, 3])',
      '$append(missing, [1])',
      '$replace("a1b22", /\\d+/, "#")',
      '$replace("abc", "b", "$0$0")',
      '$sort([3, 1, 2])',
      '$sort(["b", "a", "c"])',
      '$sort([{"n": 2}, {"n": 1}], function($l, $r) { $l.n > $r.n })',
      '$distinct([1, "1", 1, {"a": [1, 2]}, {"a": [1, 2]}, null, null, true])',
      '$distinct(5)',
      '["x", "y"].$string()',
    ];
    for (const e of same) {
      it(`${e}`, async () => {
        const expected = await jsonata(e).evaluate({});
        expect(JSON.stringify(await run(e))).to.equal(JSON.stringify(expected));
      });
    }

    it('$sort without a comparator still refuses mixed arrays (D3070)', async () => {
      expect((await failure('$sort([1, "a"])')).message).to.include('D3070');
    });
  });

  describe('stops what would allocate past the limits, with a limit error', () => {
    const bombs: [string, string][] = [
      ['$length($pad("x", 500000000)) > 0', '$pad to width 500000000'],
      ['$length($uppercase($reduce([1..40], function($a, $i){ $a & $a }, "x")))', 'the string built with &'],
      ['$length($string($reduce([1..30], function($a, $i){ [$a, $a] }, "xx")))', 'a sequence longer than'],
      ['$length($join($reduce([1..22], function($a, $i){ $append($a, $a) }, ["xxxxxxxxxxxxxxxxxxxxxxxx"])))', 'the array built with $append'],
      ['$length($replace($pad("", 1000000, "a"), "a", $pad("", 4000000, "b")))', 'Invalid string length'],
      ['$eval("1 + 1")', '$eval is not available in rules'],
    ];
    for (const [e, reason] of bombs) {
      it(`${e}`, async () => {
        const err = await failure(e);
        expect(err.code).to.equal(EvalErrorCode.limit);
        expect(err.message).to.include('exceeded an evaluation limit').and.include(reason);
      });
    }

    it('$sort and $distinct of large arrays finish quickly (no merge sort of promises, no quadratic scan)', async () => {
      expect(await run('$count($distinct([1..100000]))')).to.equal(100000);
      expect(await run('$sort([1..200000])[0]')).to.equal(1);
    });

    it('reports a result too large to copy into a plan as a rule error naming the field', async () => {
      const rule = ruleFrom(
        ruleText('big', 'watch: { apiVersion: v1, kind: Pod }\nactions:\n  - log: { message: "{{ $pad(\'\', 4000000, \'x\') & $pad(\'\', 1000000, \'y\') }}" }'),
      );
      const err = await evaluate(rule, 'update', pod('p'), undefined, { clock: clock() }).catch((e) => e);
      expect(err).to.be.instanceOf(RuleEvaluationError);
      expect(err.code).to.equal(EvalErrorCode.limit);
      expect(err.message).to.include('rule "big"').and.include('actions[0].log.message');
    });
  });

  it('gives the event loop turns while a runaway evaluation uses up its budget', async () => {
    let turns = 0;
    const ticker = setInterval(() => turns++, 5);
    const started = Date.now();
    const e = new Expression('($f := function($n){ $n = 0 ? 0 : $f($n-1) + $f($n-1) }; $f(40))', { timeoutMs: 400 });
    const err = (await e.evaluate({}, scope()).catch((x) => x)) as { code?: string };
    const turnsWhileRunning = turns;
    clearInterval(ticker);
    expect(err.code).to.equal(EvalErrorCode.timeout);
    expect(Date.now() - started).to.be.below(5000);
    expect(turnsWhileRunning).to.be.above(3);
  });
});
