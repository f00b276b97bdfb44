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

async function rate(fn: () => Promise<unknown> | unknown): Promise<number> {
  const warm = Date.now() + 300;
  while (Date.now() < warm) await fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    for (let i = 0; i < 200; i++) await fn();
    n += 200;
  }
  return n / (Number(process.hrtime.bigint() - start) / 1e9);
}

const ctx = { clock, lister };
const rawSimple = jsonata(SIMPLE);
const rawCompound = jsonata(COMPOUND);
const bindings = { millis: () => clock.now() };
const rows: [string, number, string][] = [];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const engineSimple = await rate(() => evaluate(simple, 'update', job, undefined, ctx));
rows.push(['simple condition: engine evaluate()', engineSimple, '']);
const engineSimpleSlow = await rate(() => evaluate(simpleSlow, 'update', job, undefined, ctx));
rows.push(['simple condition: engine evaluate(), fast path off (JSONata)', engineSimpleSlow, `fast path = ${(engineSimple / engineSimpleSlow).toFixed(1)}× JSONata path`]);
const jsonataSimple = await rate(() => rawSimple.evaluate(job));
rows.push(['simple condition: bare jsonata', jsonataSimple, `engine = ${(engineSimple / jsonataSimple).toFixed(2)}× bare jsonata; fast path off = ${(engineSimpleSlow / jsonataSimple).toFixed(2)}×`]);
const jsSimple = await rate(async () => (job.status as { phase?: string }).phase === 'Failed');
rows.push(['simple condition: hand-written JS (async)', jsSimple, `engine = ${(engineSimple / jsSimple).toFixed(3)}× JS`]);

const engineCompound = await rate(() => evaluate(compound, 'update', job, undefined, ctx));
rows.push(['compound condition: engine evaluate() (fires, plans a delete)', engineCompound, '']);
const jsonataCompound = await rate(() => rawCompound.evaluate(job, bindings));
rows.push(['compound condition: bare jsonata', jsonataCompound, `engine = ${(engineCompound / jsonataCompound).toFixed(2)}× bare jsonata`]);

const engineTemplate = await rate(() => evaluate(template, 'update', job, undefined, ctx));
rows.push(['template render: engine evaluate() (4 expressions, 1 patch)', engineTemplate, '']);

console.log(`Engine benchmark: ${seconds} s per case, one core (${cpus()[0]?.model ?? 'unknown CPU'}), Node.js ${process.version}`);
console.log('| case | evaluations/s | ratio |');
console.log('|---|---|---|');
for (const [name, n, ratio] of rows) console.log(`| ${name} | ${fmt(n)} | ${ratio} |`);
console.log(`\nsimple conditions per second: ${fmt(engineSimple)} (target ≥ 150,000): ${engineSimple >= 150_000 ? 'met' : 'NOT met'}`);
