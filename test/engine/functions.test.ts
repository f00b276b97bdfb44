import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { Expression, ExpressionSyntaxError, loadRules, RuleEvaluationError, evaluate } from '../../src/engine/index.js';
import { bindingsFor } from '../../src/engine/expression.js';
import { durationMs, parseTimeMs, numericZone } from '../../src/engine/functions-time.js';
import { clock, listerOf, pod, ruleFrom, ruleText } from './helpers.js';

const run = (e: string, input: unknown = {}) =>
  new Expression(e).evaluate(input, bindingsFor({ clock: clock(), lister: listerOf([]), event: 'update', old: undefined, rule: { name: 'r' } }));

describe('engine/functions', () => {
  describe('$duration', () => {
    const table: [string, number | undefined][] = [
      ['1h30m', 5_400_000],
      ['250ms', 250],
      ['90s', 90_000],
      ['7d', 604_800_000],
      ['2w', 1_209_600_000],
      ['1.5h', 5_400_000],
      ['.5s', 500],
      ['1h2m3s4ms', 3_723_004],
      ['-90s', -90_000],
      ['+1m', 60_000],
      ['0', 0],
      ['1500us', 1.5],
      ['1500µs', 1.5],
      ['2000000ns', 2],
      ['', undefined],
      ['10', undefined],
      ['1y', undefined],
      ['h', undefined],
      ['.s', undefined],
      ['1 h', undefined],
      [' 1h', undefined],
      ['1h-5m', undefined],
      ['-', undefined],
    ];
    for (const [text, ms] of table) {
      it(`reads ${JSON.stringify(text)} as ${ms === undefined ? 'undefined' : `${ms} ms`}`, async () => {
        expect(durationMs(text)).to.equal(ms);
        expect(await run(`$duration(${JSON.stringify(text)})`)).to.equal(ms);
      });
    }

    it('is undefined for a value that is not a string', async () => {
      expect(await run('$duration(90)')).to.equal(undefined);
      expect(await run('$duration(missing)')).to.equal(undefined);
      expect(await run('$duration({"a": 1})')).to.equal(undefined);
    });
  });

  describe('$parseTime', () => {
    const table: [string, string | undefined][] = [
      ['2026-03-10T12:00:00Z', '2026-03-10T12:00:00.000Z'],
      ['2026-03-10t12:00:00z', '2026-03-10T12:00:00.000Z'],
      ['2026-03-10T12:00:00.25Z', '2026-03-10T12:00:00.250Z'],
      ['2026-03-10T12:00:00.123456789Z', '2026-03-10T12:00:00.123Z'],
      ['2026-03-10T13:00:00+01:00', '2026-03-10T12:00:00.000Z'],
      ['2026-03-10T06:30:00-05:30', '2026-03-10T12:00:00.000Z'],
      ['2026-03-10 12:00:00Z', '2026-03-10T12:00:00.000Z'],
      ['2026-03-10', '2026-03-10T00:00:00.000Z'],
      ['2019-02-28T20:40', '2019-02-28T20:40:00.000Z'],
      ['2019-02-28T20:40:15', '2019-02-28T20:40:15.000Z'],
      ['2023-10-04T003000Z', '2023-10-04T00:30:00.000Z'],
      ['2024-02-29', '2024-02-29T00:00:00.000Z'],
      ['2023-02-29', undefined],
      ['2026-13-01', undefined],
      ['2026-03-10T24:00', undefined],
      ['2026-03-10T12:60', undefined],
      ['2026-03-10T12:00:00+24:00', undefined],
      ['2026-03-10T12:00:00', '2026-03-10T12:00:00.000Z'],
      ['2026-03-10T12:00Z', undefined],
      ['10/03/2026', undefined],
      ['soon', undefined],
      ['', undefined],
      ['1741608000000', undefined],
    ];
    for (const [text, iso] of table) {
      it(`reads ${JSON.stringify(text)} as ${iso ?? 'undefined'}`, async () => {
        const ms = iso === undefined ? undefined : Date.parse(iso);
        expect(parseTimeMs(text)).to.equal(ms);
        expect(await run(`$parseTime(${JSON.stringify(text)})`)).to.equal(ms);
      });
    }

    it('reads a picture as $toMillis does, and is undefined where $toMillis would fail', async () => {
      expect(await run(`$parseTime('10/03/2026 07:15', '[D01]/[M01]/[Y0001] [H01]:[m01]')`)).to.equal(Date.parse('2026-03-10T07:15:00Z'));
      expect(await run(`$parseTime('garbage', '[D01]/[M01]/[Y0001]')`)).to.equal(undefined);
      expect(await run(`$parseTime('10/03/2026', '[X9]')`)).to.equal(undefined);
      expect(await run('$parseTime(42)')).to.equal(undefined);
      expect(await run('$parseTime(missing)')).to.equal(undefined);
    });
  });

  describe('time zones in $now and $fromMillis', () => {
    it('takes an IANA name, with its daylight saving time', async () => {
      const winter = Date.parse('2026-01-15T06:30:00Z');
      const summer = Date.parse('2026-07-15T06:30:00Z');
      expect(await run(`$fromMillis(${winter}, '[H01]:[m01]', 'Europe/Berlin')`)).to.equal('07:30');
      expect(await run(`$fromMillis(${summer}, '[H01]:[m01]', 'Europe/Berlin')`)).to.equal('08:30');
      expect(await run(`$fromMillis(${winter}, '[H01]:[m01] [Z]', 'America/New_York')`)).to.equal('01:30 -05:00');
      expect(await run(`$fromMillis(${winter}, '[H01]:[m01]', 'Asia/Kolkata')`)).to.equal('12:00');
      expect(await run("$now('[H01]:[m01]', 'Europe/Berlin')")).to.equal('13:00');
      expect(await run("$now('[FNn] [H01]', 'UTC')")).to.equal('Tuesday 12');
    });

    it('still takes ±HHMM and defaults to UTC', async () => {
      expect(await run("$now('[H01]:[m01]', '-0500')")).to.equal('07:00');
      expect(await run("$now('[H01]:[m01]')")).to.equal('12:00');
      expect(await run('$fromMillis(0)')).to.equal('1970-01-01T00:00:00.000Z');
      expect(await run('$fromMillis(missing)')).to.equal(undefined);
    });

    it('is an evaluation error naming an unknown zone', async () => {
      let error: unknown;
      await run("$now('[H01]', 'Europe/Berln')").catch((e) => (error = e));
      expect(String((error as Error).message)).to.include('unknown time zone "Europe/Berln"');
    });

    it('numericZone gives the offset at the instant', () => {
      expect(numericZone('Europe/Berlin', Date.parse('2026-07-01T00:00:00Z'))).to.equal('+0200');
      expect(numericZone('Australia/Adelaide', Date.parse('2026-01-01T00:00:00Z'))).to.equal('+1030');
      expect(numericZone('Nowhere/Else', 0)).to.equal(null);
      expect(numericZone(undefined, 0)).to.equal(undefined);
    });
  });

  describe('$hash', () => {
    it('is the hex SHA-256 of canonical JSON: the same for any key order', async () => {
      const a = await run('$hash({"b": 1, "a": [1, "x", {"d": null, "c": true}]})');
      const b = await run('$hash({"a": [1, "x", {"c": true, "d": null}], "b": 1})');
      expect(a).to.equal(b);
      expect(a).to.equal(createHash('sha256').update('{"a":[1,"x",{"c":true,"d":null}],"b":1}').digest('hex'));
    });

    it('tells values apart and hashes strings and numbers as JSON', async () => {
      expect(await run('$hash("abc")')).to.equal('6cc43f858fbb763301637b5af970e2a46b46f461f27e5a0f41e009c59b827b25');
      expect(await run('$hash(1)')).to.not.equal(await run('$hash("1")'));
      expect(await run('$hash(data)', { data: { k: 'v' } })).to.not.equal(await run('$hash(data)', { data: { k: 'w' } }));
      expect(await run('$hash(missing)')).to.equal(undefined);
    });
  });

  describe('$regex', () => {
    it('builds a pattern from a string for $match, $contains, $replace and $split', async () => {
      const input = { re: 'app-[0-9]+', ns: 'app-12' };
      expect(await run('$contains(ns, $regex("^" & re & "$"))', input)).to.equal(true);
      expect(await run('$contains("apps", $regex("^" & re & "$"))', input)).to.equal(false);
      expect(await run('$match("a1 b22 c333", $regex("[a-z](\\\\d+)")).groups[0]')).to.deep.equal(['1', '22', '333']);
      expect(await run('$replace("a1 b22", $regex("\\\\d+"), "#")')).to.equal('a# b#');
      expect(await run('$split("a, b,c", $regex(",\\\\s*"))')).to.deep.equal(['a', 'b', 'c']);
      expect(await run('$contains("ABC", $regex("abc", "i"))')).to.equal(true);
      expect(await run('$regex(missing)')).to.equal(undefined);
    });

    it('runs a catastrophic pattern in linear time', async () => {
      const start = Date.now();
      expect(await run('$contains(s, $regex("^(a+)+$"))', { s: `${'a'.repeat(10_000)}!` })).to.equal(false);
      expect(await run('$contains(s, /^(a+)+$/)', { s: `${'a'.repeat(39)}!` })).to.equal(false);
      expect(Date.now() - start).to.be.below(5000);
    });

    it('is an evaluation error naming a pattern the engine cannot compile', async () => {
      let error: unknown;
      await run('$contains("aa", $regex(p))', { p: '(a)\\1' }).catch((e) => (error = e));
      expect(String((error as Error).message)).to.include('cannot compile regular expression "(a)\\\\1"').and.include('backreferences');
      error = undefined;
      await run('$contains("aa", $regex("a", f))', { f: 'x' }).catch((e) => (error = e));
      expect(String((error as Error).message)).to.include('unknown flag "x"');
    });

    it('rejects at load time a regex literal or a literal $regex pattern it cannot run, at its position', () => {
      for (const e of ['$contains(x, /(?<=a)b/)', '$contains(x, $regex("(a)\\\\1"))', '$contains(x, $regex("a", "x"))']) {
        let error: unknown;
        try {
          new Expression(e);
        } catch (err) {
          error = err;
        }
        expect(error).to.be.instanceOf(ExpressionSyntaxError);
        expect((error as ExpressionSyntaxError).message).to.include('cannot compile regular expression');
        expect((error as ExpressionSyntaxError).index, e).to.be.within(13, 20);
      }
      const { errors } = loadRules([{ file: 'r.yaml', text: ruleText('bad-re', "watch: { apiVersion: v1, kind: Pod }\nwhen: '$contains(metadata.name, /(a)\\1/)'\nactions: [{ delete: {} }]") }]);
      expect(errors.map(String).join('\n')).to.match(/r\.yaml:7:\d+: .*cannot compile regular expression/);
    });

    it('replicates into the namespaces a pattern from an annotation matches (rule level)', async () => {
      const rule = ruleFrom(
        ruleText('copy', "watch: { apiVersion: v1, kind: Pod }\nwhen: '$contains(\"app-7\", $regex(\"^\" & metadata.annotations.to & \"$\"))'\nactions: [{ delete: {} }]"),
      );
      const withPattern = (to: string) => ({ ...pod('p'), metadata: { ...pod('p').metadata, annotations: { to } } });
      expect(await evaluate(rule, 'update', withPattern('app-[0-9]+'), undefined, { clock: clock() })).to.have.length(1);
      expect(await evaluate(rule, 'update', withPattern('db-[0-9]+'), undefined, { clock: clock() })).to.have.length(0);
      const broken = await evaluate(rule, 'update', withPattern('app-(?=7)'), undefined, { clock: clock() }).catch((e) => e);
      expect(broken).to.be.instanceOf(RuleEvaluationError);
      expect(String(broken.message)).to.include('rule "copy"').and.include('app-(?=7)');
    });
  });
});
