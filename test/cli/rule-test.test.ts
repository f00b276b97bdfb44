import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReflex } from '../support/reflex-cli.js';
import { parseRuleTests } from '../../src/cli/rule-test-format.js';
import { subsetDifference } from '../../src/cli/rule-test-match.js';
import { repoRoot } from '../support/control-plane.js';

/** Runs `reflex test` with `args` in `cwd`; returns the exit code and what it printed. */
const reflexTest = (cwd: string, ...args: string[]) => runReflex(['test', ...args], { cwd });

const RULE = `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: expire-pods}
spec:
  watch: {apiVersion: v1, kind: Pod}
  resync: 10m
  when: '$toMillis(metadata.annotations."expires-at") < $millis()'
  actions:
    - delete: {}
`;

/** A RuleTest of RULE with `spec` (YAML under `spec:`). */
const ruleTest = (name: string, spec: string) =>
  `apiVersion: reflex.dev/v1alpha1\nkind: RuleTest\nmetadata: {name: ${name}}\nspec:\n${spec.replace(/^\n/, '').replace(/^/gm, '  ')}\n`;

const POD = `{apiVersion: v1, kind: Pod, metadata: {name: p, namespace: a, annotations: {expires-at: "2026-01-01T00:15:00Z"}}}`;

describe('reflex test', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-test-'));
    writeFileSync(join(dir, 'expire.yaml'), RULE);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);

  it('passes the RuleTests of every shipped rule, and every shipped rule has one', async () => {
    const r = await reflexTest(repoRoot, 'rules/');
    expect(r.code, r.out).to.equal(0);
    expect(r.out).to.match(/^(\d+) passed, 0 failed$/m);
    const ruleFiles = readdirSync(join(repoRoot, 'rules')).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'));
    expect(ruleFiles.length).to.be.greaterThan(0);
    for (const f of ruleFiles) {
      expect(r.out, `${f} has a RuleTest`).to.contain(`rules/${f.replace(/\.yaml$/, '.test.yaml')}`);
    }
  });

  it('has a positive and a negative case for every shipped rule', () => {
    const dir = join(repoRoot, 'rules');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.test.yaml'))) {
      const tests = parseRuleTests(f, readFileSync(join(dir, f), 'utf8'));
      const expectations = tests.flatMap((t) => [t.expect, ...t.steps.map((s) => s.expect)]).filter((e) => e !== undefined);
      expect(expectations.some((e) => e.length > 0), `${f}: a case where the rule acts`).to.equal(true);
      expect(expectations.some((e) => e.length === 0), `${f}: a case where it does not`).to.equal(true);
    }
  });

  it('moves the clock: a TTL fires on the first resync after the expiry, not before', async () => {
    write('expire.test.yaml', ruleTest('expires', `
now: "2026-01-01T00:00:00Z"
objects: [${POD}]
expect: none
steps:
  - advance: 10m
    expect: none
  - advance: 10m
    expect: [{action: delete, trigger: {event: resync}, target: {kind: Pod, namespace: a, name: p}}]`));
    const r = await reflexTest(dir, '.');
    expect(r.out).to.contain('✔ expires');
    expect(r.out.trim().split('\n').at(-1)).to.equal('1 passed, 0 failed');
    expect(r.code).to.equal(0);
  });

  it('fails naming the step and the first difference, and exits 1', async () => {
    write('expire.test.yaml', ruleTest('expires too early', `
objects: [${POD}]
steps:
  - advance: 10m
    expect: [{action: delete}]
  - advance: 10m
    expect: none`));
    const r = await reflexTest(dir, 'expire.test.yaml');
    expect(r.code).to.equal(1);
    expect(r.out).to.contain('✘ expires too early');
    expect(r.out).to.contain('step 1 (advance 10m): expected 1 planned action, got 0');
    expect(r.out.trim().split('\n').at(-1)).to.equal('0 passed, 1 failed');
  });

  it('compares bodies and targets as subsets, and shows what differs', async () => {
    write('expire.test.yaml', ruleTest('wrong target', `
now: "2026-01-01T01:00:00Z"
objects: [${POD}]
expect: [{action: delete, target: {namespace: b}}]`));
    const r = await reflexTest(dir, 'expire.test.yaml');
    expect(r.code).to.equal(1);
    expect(r.out).to.contain('initial sync: actions[0].target.namespace: expected "b", got "a"');
    expect(r.out).to.contain('delete Pod a/p (rule expire-pods, on sync of Pod a/p)');
  });

  it('presents create, update and delete to the rules, with $old on update', async () => {
    write('r.yaml', `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: log-changes}
spec:
  watch: {apiVersion: v1, kind: ConfigMap}
  on: [create, update, delete]
  actions:
    - log: {message: "{{ $event }} {{ metadata.name }} {{ $old.data.v }}->{{ data.v }}"}
`);
    write('r.test.yaml', ruleTest('sees every change', `
steps:
  - create: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {v: "1"}}
    expect: [{body: "create c ->1", target: {namespace: default}}]
  - update: {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {v: "2"}}
    expect: [{body: "update c 1->2"}]
  - delete: {apiVersion: v1, kind: ConfigMap, namespace: default, name: c}
    expect: [{body: "delete c ->2"}]`));
    const r = await reflexTest(dir, 'r.test.yaml');
    expect(r.out).to.contain('1 passed, 0 failed');
  });

  it('ticks schedules on demand and when the clock passes a cron time', async () => {
    write('s.yaml', `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: hourly}
spec:
  watch: {apiVersion: v1, kind: Namespace}
  schedule: "0 * * * *"
  actions: [{log: {message: "{{ $now() }}"}}]
`);
    write('s.test.yaml', ruleTest('fires on the hour', `
now: "2026-01-01T00:30:00Z"
objects: [{apiVersion: v1, kind: Namespace, metadata: {name: n}}]
expect: none
steps:
  - advance: 29m
    expect: none
  - advance: 3h
    expect: [{body: "2026-01-01T03:00:00.000Z", trigger: {event: schedule}}]
  - tick: {rule: hourly}
    expect: [{body: "2026-01-01T03:59:00.000Z"}]`));
    const r = await reflexTest(dir, 's.test.yaml');
    expect(r.out, r.out).to.contain('1 passed, 0 failed');
  });

  it('reports a malformed RuleTest with its file, document and field', async () => {
    write('bad.test.yaml', ruleTest('bad', `
rules: [expire.yaml]
steps:
  - advance: soon
    expect: none`));
    const r = await reflexTest(dir, 'bad.test.yaml');
    expect(r.code).to.equal(1);
    expect(r.out).to.contain('bad.test.yaml: document 1: spec.steps[0].advance: expected a positive duration');
  });

  it('requires every step to say what it expects', () => {
    expect(() => parseRuleTests('t.yaml', ruleTest('x', 'steps: [{advance: 1m}]'))).to.throw(/spec\.steps\[0\]\.expect: every step says what it expects/);
    expect(() => parseRuleTests('t.yaml', ruleTest('x', 'steps: [{advance: 1m, tick: {}, expect: none}]'))).to.throw(/exactly one of/);
  });

  it('fails a test whose rules do not load, naming file:line:col', async () => {
    write('broken.yaml', RULE.replace('resync: 10m', 'resync: often'));
    write('broken.test.yaml', ruleTest('never runs', 'expect: none'));
    const r = await reflexTest(dir, 'broken.test.yaml');
    expect(r.code).to.equal(1);
    expect(r.out).to.match(/its rules do not load:\n\s+broken\.yaml:\d+:\d+: /);
  });

  it('exits 2 without a path', async () => {
    expect((await reflexTest(dir)).code).to.equal(2);
  });

  describe('subset matching', () => {
    it('accepts extra keys in the actual value and requires arrays of the same length', () => {
      expect(subsetDifference({ a: 1 }, { a: 1, b: 2 }, '$')).to.equal(undefined);
      expect(subsetDifference({ a: [1] }, { a: [1, 2] }, '$')).to.equal('$.a: expected 1 items, got 2: [1,2]');
      expect(subsetDifference({ a: { b: 'x' } }, { a: {} }, '$')).to.equal('$.a.b: expected "x", got nothing');
      expect(subsetDifference(null, null, '$')).to.equal(undefined);
    });
  });
});
