/**
 * Engine benchmark: evaluations per second of a rule with a simple condition, a compound
 * condition, and a template render (all compiled once), on one core, against peers measured in
 * the same run: bare JSONata evaluating the same expression, and a hand-written JS function.
 * Run: `node dist/bench/engine.js [seconds-per-case]` (not part of `npm test`).
 */
import jsonata from 'jsonata';
import { cpus } from 'node:os';
import { FakeClock, type KubeObject } from '../src/core/index.js';
import { evaluate, loadRules, type CompiledRule, type ObjectLister } from '../src/engine/index.js';
import { rate } from './support/rate.js';

const seconds = Number(process.argv[2] ?? 3);
const clock = new FakeClock(Date.parse('2026-03-10T12:00:00Z'));
const lister: ObjectLister = { get: () => undefined, list: () => [] };

const job: KubeObject = {
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'build-7', namespace: 'ci', uid: 'u', labels: { app: 'ci', cleanup: 'true' }, annotations: { owner: 'team-a' } },
  spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
  status: { phase: 'Running', succeeded: 1, completionTime: '2026-03-10T10:00:00Z' },
};

function rule(name: string, spec: string, fastPath = true): CompiledRule {
  const text = `apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata: { name: ${name} }\nspec:\n  watch: { apiVersion: batch/v1, kind: Job }\n${spec}`;
  const { rules, errors } = loadRules([{ file: 'bench.yaml', text }], { limits: { fastPath } });
  if (errors.length) throw errors[0];
  return rules[0];
}

const SIMPLE = 'status.phase = "Failed"';
const COMPOUND = '$exists(status.completionTime) and $millis() - $toMillis(status.completionTime) > 3600000 and metadata.labels.cleanup != "false" and metadata.namespace in ["ci", "builds"]';

const simple = rule('simple', `  when: '${SIMPLE}'\n  actions: [{ delete: {} }]\n`);
const simpleSlow = rule('simple-jsonata', `  when: '${SIMPLE}'\n  actions: [{ delete: {} }]\n`, false);
const compound = rule('compound', `  when: '${COMPOUND}'\n  actions: [{ delete: {} }]\n`);
const template = rule(
  'template',
  `  actions:
    - patch:
        patch:
          metadata:
            labels: { owner: "{{ metadata.annotations.owner }}", seen: "{{ $string(status.succeeded) }}" }
            annotations: { note: "job {{ metadata.namespace }}/{{ metadata.name }} done at {{ status.completionTime }}" }
`,
);

const ctx = { clock, lister };
const rawSimple = jsonata(SIMPLE);
const rawCompound = jsonata(COMPOUND);
const bindings = { millis: () => clock.now() };

/** The cases, measured in interleaved rounds so that a change of machine load hits them all alike. */
const cases: [string, () => Promise<unknown> | unknown][] = [
  ['simple condition: engine evaluate()', () => evaluate(simple, 'update', job, undefined, ctx)],
  ['simple condition: engine evaluate(), fast path off (JSONata)', () => evaluate(simpleSlow, 'update', job, undefined, ctx)],
  ['simple condition: bare jsonata (peer)', () => rawSimple.evaluate(job)],
  ['simple condition: hand-written async JS (peer)', async () => (job.status as { phase?: string }).phase === 'Failed'],
  ['compound condition: engine evaluate() (fires, plans a delete)', () => evaluate(compound, 'update', job, undefined, ctx)],
  ['compound condition: bare jsonata (peer)', () => rawCompound.evaluate(job, bindings)],
  ['template render: engine evaluate() (4 expressions, 1 patch)', () => evaluate(template, 'update', job, undefined, ctx)],
];
const ROUNDS = 5;
const samples: number[][] = cases.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < cases.length; i++) samples[i].push(await rate(cases[i][1], (seconds * 1000) / ROUNDS, 200));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const m = samples.map(median);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio: Record<number, string> = {
  1: `fast path = ${(m[0] / m[1]).toFixed(1)}× this`,
  2: `engine = ${(m[0] / m[2]).toFixed(2)}×; fast path off = ${(m[1] / m[2]).toFixed(2)}×`,
  3: `engine = ${(m[0] / m[3]).toFixed(3)}×`,
  5: `engine = ${(m[4] / m[5]).toFixed(2)}×`,
};
const rows = cases.map(([name], i) => [name, m[i], ratio[i] ?? ''] as [string, number, string]);
const engineSimple = m[0];

console.log(`Engine benchmark: ${seconds} s per case in ${ROUNDS} interleaved rounds (median), one core (${cpus()[0]?.model ?? 'unknown CPU'}), Node.js ${process.version}`);
console.log('| case | evaluations/s (median) | ratio to the peer |');
console.log('|---|---|---|');
for (const [name, n, r] of rows) console.log(`| ${name} | ${fmt(n)} | ${r} |`);
console.log(`\nsimple conditions per second: ${fmt(engineSimple)} (target ≥ 150,000): ${engineSimple >= 150_000 ? 'met' : 'NOT met'}`);

/**
 * The functions Reflex adds, each in a condition evaluated by the engine, next to the engine
 * evaluating the nearest plain-JSONata equivalent on the same object (the peer; for the regex
 * literal, bare jsonata with JavaScript's backtracking RegExp): the difference is the function's
 * cost per evaluation.
 */
const annotated: KubeObject = { ...job, metadata: { ...job.metadata, annotations: { ttl: '1h30m', expires: '2026-03-10T13:00', pattern: '^build-[0-9]+$' } } };
const FUNCTION_CASES: [string, string, string][] = [
  ['$duration', '$duration(metadata.annotations.ttl) > 3600000', '$number($substringBefore(metadata.annotations.ttl, "h")) * 3600000 > 3600000'],
  ['$parseTime', '$parseTime(metadata.annotations.expires) < $millis()', '$toMillis(metadata.annotations.expires & ":00Z") < $millis()'],
  ['$now with an IANA zone', '$now("[H01]:[m01]", "Europe/Berlin") > "07:00"', '$now("[H01]:[m01]", "+0100") > "07:00"'],
  ['$hash of the pod spec', '$hash(spec) != "x"', '$string(spec) != "x"'],
  ['$regex from an annotation', '$contains(metadata.name, $regex(metadata.annotations.pattern))', '$contains(metadata.name, /^build-[0-9]+$/)'],
  ['regex literal (re2js)', '$contains(metadata.name, /^build-[0-9]+$/)', '$contains(metadata.name, /^build-[0-9]+$/)'],
];
const fnCases: [string, () => Promise<unknown>][] = [];
for (const [name, expr, peer] of FUNCTION_CASES) {
  const r = rule(`fn-${fnCases.length}`, `  when: '${expr.replace(/'/g, "''")}'\n  actions: [{ delete: {} }]\n`);
  const p = rule(`fn-peer-${fnCases.length}`, `  when: '${peer.replace(/'/g, "''")}'\n  actions: [{ delete: {} }]\n`);
  const raw = jsonata(peer);
  fnCases.push([`${name}: engine evaluate()`, () => evaluate(r, 'update', annotated, undefined, ctx)]);
  fnCases.push(
    name.startsWith('regex literal')
      ? [`${name}: bare jsonata, native RegExp (peer)`, () => raw.evaluate(annotated, bindings)]
      : [`${name}: engine evaluate(), plain equivalent (peer)`, () => evaluate(p, 'update', annotated, undefined, ctx)],
  );
}
const fnSamples: number[][] = fnCases.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < fnCases.length; i++) fnSamples[i].push(await rate(fnCases[i][1], (seconds * 500) / ROUNDS, 200));
}
const fm = fnSamples.map(median);
console.log('\n| function (condition) | with the function, evaluations/s | plain-JSONata peer, evaluations/s | µs per evaluation, function − peer |');
console.log('|---|---|---|---|');
for (let i = 0; i < FUNCTION_CASES.length; i++) {
  const [e, p] = [fm[2 * i], fm[2 * i + 1]];
  console.log(`| ${FUNCTION_CASES[i][0]}: \`${FUNCTION_CASES[i][1]}\` vs \`${FUNCTION_CASES[i][2]}\` | ${fmt(e)} | ${fmt(p)} | ${(1e6 / e - 1e6 / p).toFixed(1)} |`);
}
