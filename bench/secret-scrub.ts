/**
 * Cost of keeping Secret values out of what a rule that reads Secrets says (src/daemon/secret-values.ts),
 * on one core, each case against the same evaluation without it, in the same run:
 * - recording: the evaluation's lister records the Secrets it answers with (every evaluation of such a rule);
 * - traced: plus the planned targets scrubbed for a decision trace (only while someone subscribes to /traces);
 * - failure: a message scrubbed of the values of the Secrets read (only when an evaluation or action fails).
 * Run: `node dist/bench/secret-scrub.js [seconds-per-case] [secrets]` (not part of `npm test`).
 */
import { FakeClock, type KubeObject } from '../src/core/index.js';
import { evaluateRule, loadRules, type ObjectLister, type PlannedRef } from '../src/engine/index.js';
import { rate } from './support/rate.js';
import { scrubDeep, SecretValues } from '../src/daemon/secret-values.js';

const seconds = Number(process.argv[2] ?? 1);
const count = Number(process.argv[3] ?? 50);
const clock = new FakeClock(Date.parse('2026-03-10T12:00:00Z'));
const b64 = (s: string) => Buffer.from(s).toString('base64');
const secrets: KubeObject[] = Array.from({ length: count }, (_, i) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: `s-${i}`, namespace: 'apps', labels: { app: 'web' } },
  data: { username: b64(`user-${i}`), password: b64(`pw-${i}-${'x'.repeat(24)}`), 'tls.key': b64(`-----BEGIN KEY-----\n${'A'.repeat(64)}\n${'B'.repeat(64)}\n-----END KEY-----\n`) },
}));
const lister: ObjectLister = { get: (_a, _k, _n, name) => secrets.find((s) => s.metadata?.name === name), list: () => secrets };
const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'apps', labels: { app: 'web' } } };
const { rules, errors } = loadRules([
  {
    file: 'bench.yaml',
    text: `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: count-secrets }
spec:
  watch: { apiVersion: v1, kind: Pod }
  actions:
    - patch: { patch: { metadata: { annotations: { secrets: "{{ $string($count($list('v1', 'Secret', 'apps'))) }}" } } } }
`,
  },
]);
if (errors.length) throw errors[0];
const rule = rules[0];
if (!rule.sensitive) throw new Error('the bench rule should read Secrets');

const plain = () => evaluateRule(rule, 'update', pod, undefined, { clock, lister });
const recording = () => {
  const s = new SecretValues();
  s.add(pod);
  return evaluateRule(rule, 'update', pod, undefined, { clock, lister: s.recording(lister) });
};
const traced = async () => {
  const s = new SecretValues();
  s.add(pod);
  const { plan } = await evaluateRule(rule, 'update', pod, undefined, { clock, lister: s.recording(lister) });
  return plan.map((p) => scrubDeep(p.target, s.scrubber, 0) as PlannedRef);
};
const message = `PATCH pods "web-1" in namespace "apps" on https://10.0.0.1:6443: Invalid (422): Pod "web-1" is invalid: metadata.annotations: Invalid value: "pw-7-${'x'.repeat(24)}": ${'a valid annotation '.repeat(20)}`;
const failure = async () => {
  const s = new SecretValues();
  await evaluateRule(rule, 'update', pod, undefined, { clock, lister: s.recording(lister) });
  return s.scrub(message);
};

const cases: [string, () => Promise<unknown>][] = [
  ['evaluation, no recording (peer)', plain],
  ['evaluation with recording', recording],
  ['evaluation with recording and traced targets scrubbed', traced],
  ['evaluation with recording and one failure message scrubbed', failure],
  ['evaluation, no recording (the peer again: order effects)', plain],
];
const results = new Map<string, number[]>(cases.map(([name]) => [name, []]));
for (let round = 0; round < 5; round++) for (const [name, fn] of cases) results.get(name)!.push(await rate(fn, seconds * 1000, 20));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const peer = median(results.get(cases[0][0])!);
process.stdout.write(`$list of ${count} Secrets (3 keys each) per evaluation, ${seconds} s × 5 interleaved rounds, median\n`);
for (const [name] of cases) {
  const r = median(results.get(name)!);
  process.stdout.write(`${name}: ${Math.round(r).toLocaleString('en-US')}/s (${(r / peer).toFixed(2)}× the peer, ${(1e6 / r).toFixed(1)} µs each)\n`);
}
