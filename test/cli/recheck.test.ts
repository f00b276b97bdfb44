import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReflex } from '../support/reflex-cli.js';
import { analyseRules, toPolicyRules } from '../../src/cli/rbac-policy.js';
import { loadRules, type PlannedAction } from '../../src/engine/index.js';

/** A TTL rule over ConfigMaps and Secrets: exact through recheckAt, no resync. */
const TTL_RULE = `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: ttl}
spec:
  watch:
    - {apiVersion: v1, kind: ConfigMap}
    - {apiVersion: v1, kind: Secret, labelSelector: "ttl=yes"}
  when: '$millis() >= $toMillis(metadata.annotations."expires-at")'
  recheckAt: 'metadata.annotations."expires-at"'
  actions:
    - delete: {}
`;

const cm = (name: string, at: string) => `{apiVersion: v1, kind: ConfigMap, metadata: {name: ${name}, namespace: a, annotations: {expires-at: "${at}"}}}`;
const secret = (name: string, at: string, labels = '{ttl: "yes"}') => `{apiVersion: v1, kind: Secret, metadata: {name: ${name}, namespace: a, labels: ${labels}, annotations: {expires-at: "${at}"}}}`;

const ruleTest = (name: string, spec: string) =>
  `apiVersion: reflex.dev/v1alpha1\nkind: RuleTest\nmetadata: {name: ${name}}\nspec:\n${spec.replace(/^\n/, '').replace(/^/gm, '  ')}\n`;

describe('cli: re-checks and rules with several watches', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-recheck-'));
    writeFileSync(join(dir, 'ttl.yaml'), TTL_RULE);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => writeFileSync(join(dir, name), text);
  const test = async (spec: string) => {
    write('ttl.test.yaml', ruleTest('t', spec));
    return runReflex(['test', '.'], { cwd: dir });
  };

  describe('reflex test: advance crosses a re-check and fires it', () => {
    it('deletes each object at its own time, with event recheck, and not before', async () => {
      const r = await test(`
now: "2026-01-01T00:00:00Z"
objects: [${cm('early', '2026-01-01T00:00:20Z')}, ${secret('late', '2026-01-01T00:01:00Z')}, ${secret('unlabelled', '2026-01-01T00:00:10Z', '{}')}]
expect: none
steps:
  - advance: 19s
    expect: none
  - advance: 1s
    expect: [{action: delete, trigger: {event: recheck, kind: ConfigMap, name: early}, target: {kind: ConfigMap, namespace: a, name: early}}]
  - advance: 39s
    expect: none
  - advance: 1s
    expect: [{action: delete, trigger: {event: recheck, kind: Secret, name: late}, target: {kind: Secret, namespace: a, name: late}}]`);
      expect(r.out, r.out).to.contain('✔ t');
      expect(r.code).to.equal(0);
    });

    it('moves the re-check when an update gives a later time, and drops it when the object goes', async () => {
      const r = await test(`
now: "2026-01-01T00:00:00Z"
objects: [${cm('moved', '2026-01-01T00:00:20Z')}, ${cm('gone', '2026-01-01T00:00:20Z')}]
expect: none
steps:
  - update: ${cm('moved', '2026-01-01T00:05:00Z')}
    expect: none
  - delete: {apiVersion: v1, kind: ConfigMap, namespace: a, name: gone}
    expect: none
  - advance: 4m
    expect: none
  - advance: 1m
    expect: [{action: delete, trigger: {event: recheck, name: moved}}]`);
      expect(r.out, r.out).to.contain('✔ t');
      expect(r.code).to.equal(0);
    });

    it('names the step when a re-check it expected did not fire', async () => {
      const r = await test(`
objects: [${cm('x', '2026-01-01T00:00:20Z')}]
steps:
  - advance: 10s
    expect: [{action: delete}]`);
      expect(r.code).to.equal(1);
      expect(r.out).to.contain('step 1 (advance 10s)');
    });
  });

  describe('reflex dry-run', () => {
    it('presents the objects of every watched kind, and lists the re-checks after the plan', async () => {
      write('m.yaml', [cm('old', '2026-01-01T00:00:00Z'), cm('new', '2026-01-01T00:00:30Z'), secret('s', '2025-12-31T00:00:00Z')].map((o) => `---\n${o}\n`).join(''));
      const json = await runReflex(['dry-run', '--rules', join(dir, 'ttl.yaml'), '--manifests', join(dir, 'm.yaml'), '--now', '2026-01-01T00:00:00Z', '--output', 'json']);
      expect(json.code, json.err).to.equal(0);
      const plan = JSON.parse(json.out) as PlannedAction[];
      expect(plan.map((p) => `${p.action} ${p.target.kind} ${p.target.name}`)).to.deep.equal(['delete ConfigMap old', 'delete Secret s']);
      const text = await runReflex(['dry-run', '--rules', join(dir, 'ttl.yaml'), '--manifests', join(dir, 'm.yaml'), '--now', '2026-01-01T00:00:00Z']);
      expect(text.out).to.contain('Re-checks (evaluated again with event recheck):\n  ttl  ConfigMap a/new  at 2026-01-01T00:00:30.000Z (in 30s)');
    });
  });

  describe('reflex explain', () => {
    it('shows the time recheckAt asks for, and picks the object among every watched kind', async () => {
      write('m.yaml', `${cm('x', '2026-01-01T00:00:30Z')}\n---\n${secret('x', '2026-01-01T00:00:30Z')}\n`);
      const args = ['explain', '--rules', join(dir, 'ttl.yaml'), '--manifests', join(dir, 'm.yaml'), '--now', '2026-01-01T00:00:00Z'];
      const r = await runReflex([...args, '--object', 'Secret/a/x']);
      expect(r.code, r.err).to.equal(0);
      expect(r.out).to.contain('✔ kind: the rule watches v1 ConfigMap, v1 Secret; the object is v1 Secret (spec.watch[1])');
      expect(r.out).to.contain('recheckAt: metadata.annotations."expires-at"  → "2026-01-01T00:00:30Z": evaluated again at 2026-01-01T00:00:30.000Z (in 30s)');
      const several = await runReflex(args);
      expect(several.code).to.equal(1);
      expect(several.err).to.contain('pick one with --object (ConfigMap/a/x, Secret/a/x)');
      const wrong = await runReflex([...args, '--object', 'Pod/a/x']);
      expect(wrong.err).to.contain('--object names a Pod (v1), but rule "ttl" watches v1 ConfigMap, v1 Secret');
    });

    it('says there is no re-check when the time does not parse, and why when is false', async () => {
      write('m.yaml', `${cm('x', 'garbage')}\n`);
      const r = await runReflex(['explain', '--rules', join(dir, 'ttl.yaml'), '--manifests', join(dir, 'm.yaml'), '--now', '2026-01-01T00:00:00Z', '--output', 'json']);
      expect(r.code, r.err).to.equal(0);
      const e = JSON.parse(r.out);
      expect(e.recheck.error).to.equal('expected a time (RFC 3339 text or epoch milliseconds), a list of times, or undefined; got "garbage"');
      expect(e.acts).to.equal(false);
    });
  });

  describe('reflex rbac', () => {
    it('reads every watched kind and grants the default target\'s verbs on each', () => {
      const { rules } = loadRules([{ file: 'ttl.yaml', text: TTL_RULE }]);
      const policy = toPolicyRules(analyseRules(rules).cluster);
      const core = policy.filter((r) => r.apiGroups[0] === '');
      expect(core).to.deep.equal([{ apiGroups: [''], resources: ['configmaps', 'secrets'], verbs: ['get', 'list', 'watch', 'delete'] }]);
    });
  });
});
