import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DaemonProcess, type LogLine } from '../support/daemon-process.js';
import { useCluster } from '../support/cluster.js';
import { runReflex } from '../support/reflex-cli.js';
import { testConfig } from './daemon-support.js';

type Meta = { metadata: { annotations?: Record<string, string> } };

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const rule = (name: string, ns: string, when: string) =>
  `apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata:\n  name: ${name}\nspec:\n  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${ns}], labelSelector: probe=${name} }\n  when: '${when.replace(/'/g, "''")}'\n  actions:\n    - patch: { patch: { metadata: { annotations: { bad: "ran" } } } }\n`;

const CATASTROPHIC = `${'a'.repeat(39)}!`;

/** One probe: a bad rule, how many objects trigger it, and how the daemon must report it. */
interface Probe {
  name: string;
  when: string;
  objects: number;
  annotations?: Record<string, string>;
  /** The daemon's report of the bad rule: a log line it must write (none: a metric says it was evaluated). */
  reported?: (l: LogLine) => boolean;
  what: string;
}

const evaluationFailed = (rule: string, reason: RegExp) => (l: LogLine) =>
  l.rule === rule && String(l.message).startsWith('evaluation failed') && reason.test(String(l.error));

const PROBES: Probe[] = [
  {
    name: 'pad',
    when: '$length($pad("x", 500000000)) > 0',
    objects: 1,
    reported: evaluationFailed('pad', /exceeded an evaluation limit: \$pad to width 500000000/),
    what: 'the $pad limit error',
  },
  {
    name: 'regex',
    when: '$contains(metadata.annotations.s, /^(a+)+$/) or $contains(metadata.annotations.s, $regex(metadata.annotations.re))',
    objects: 1,
    annotations: { s: CATASTROPHIC, re: '^(a+)+$' },
    // Linear time: nothing to report; the rule simply evaluates (to false) instead of blocking for 84 s.
    what: 'nothing (the regex rule is evaluated, to false)',
  },
  {
    name: 'runaway',
    when: '($f := function($n){ $n = 0 ? 0 : $f($n-1) + $f($n-1) }; $f(40)) > 0',
    objects: 300,
    reported: (l) => l.rule === 'runaway' && /^rule runaway suspended for \d+ s: \d+ evaluations within 60 s ran out of their budget/.test(String(l.message)),
    what: 'the suspension of the runaway rule',
  },
  {
    name: 'strings',
    when: '$length($uppercase($reduce([1..40], function($a, $i){ $a & $a }, "x"))) > 0',
    objects: 1,
    reported: evaluationFailed('strings', /exceeded an evaluation limit: the string built with &/),
    what: 'the string limit error',
  },
];

describe('evaluation safety (end to end): no rule can crash, freeze or starve the daemon', function () {
  this.timeout(240_000);
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  afterEach(async () => {
    await daemon?.stop('SIGKILL');
    daemon = undefined;
  });

  for (const probe of PROBES) {
    it(`${probe.name}: stays up, answers /healthz within 1 s, runs the healthy rule within 2 s, stays under 512 MiB, reports ${probe.what}`, async () => {
      const dir = mkdtempSync(join(tmpdir(), `reflex-safety-${probe.name}-`));
      const badFile = join(dir, 'bad.yaml');
      writeFileSync(badFile, rule(probe.name, fx.ns, probe.when));
      writeFileSync(
        join(dir, 'healthy.yaml'),
        `apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata:\n  name: healthy\nspec:\n  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: app=demo }\n  actions:\n    - patch: { patch: { metadata: { annotations: { healthy: "yes" } } } }\n`,
      );

      const validateStarted = Date.now();
      const validated = await runReflex(['validate', badFile]);
      expect(Date.now() - validateStarted, 'reflex validate').to.be.below(5000);
      expect(validated.code, validated.err).to.equal(0);

      const samples: number[] = [];
      const failures: string[] = [];
      let rssMax = 0;
      const d = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns), '--rules', dir] });
      daemon = d;
      const t00 = Date.now();
      const sampler = setInterval(() => {
        const t0 = Date.now();
        rssMax = Math.max(rssMax, rssMiB(d.pid));
        fetch(`http://127.0.0.1:${d.healthPort}/healthz`, { signal: AbortSignal.timeout(1000) })
          .then((r) => (r.status === 200 ? samples.push(Date.now() - t0) : failures.push(`status ${r.status}`)))
          .catch((err: unknown) => failures.push(`${String(err)} at +${t0 - t00} ms`));
      }, 1000);
      try {
        const annotations = probe.annotations ?? {};
        for (let i = 0; i < probe.objects; i++) {
          await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: `${probe.name}-${i}`, labels: { probe: probe.name }, annotations },
          });
        }
        // The healthy rule's effect arrives within 2 s of its trigger while the bad rule is at work.
        const started = Date.now();
        await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'demo', labels: { app: 'demo' } } });
        await fx.admin.eventually(
          async () => (await fx.admin.ok<Meta>('GET', `/api/v1/namespaces/${fx.ns}/configmaps/demo`)).metadata.annotations?.healthy === 'yes',
          2000,
          'the healthy rule within 2 s',
        );
        expect(Date.now() - started).to.be.at.most(2000);

        if (probe.reported) await d.waitForLog(probe.reported, 60_000, probe.what);
        else {
          await fx.admin.eventually(
            async () => /reflex_rule_evaluations_total\{rule="regex",result="nomatch"\} [1-9]/.test((await d.get('/metrics', 'metrics')).text),
            20_000,
            'an evaluation of the regex rule',
          );
        }
        if (probe.name === 'runaway') {
          await fx.admin.eventually(async () => {
            const events = await fx.admin.ok<{ items: { reason: string; type: string; note?: string }[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${fx.ns}/events`);
            return events.items.some((e) => e.reason === 'ReflexRuleSuspended' && e.type === 'Warning' && /rule runaway suspended/.test(e.note ?? ''));
          }, 20_000, 'a ReflexRuleSuspended Warning Event');
          const metrics = await d.get('/metrics', 'metrics');
          expect(metrics.text).to.match(/reflex_rule_suspended\{rule="runaway"\} 1/);
        }
        // The bad rule never wrote anything.
        const bad = await fx.admin.ok<Meta>('GET', `/api/v1/namespaces/${fx.ns}/configmaps/${probe.name}-0`);
        expect(bad.metadata.annotations?.bad).to.equal(undefined);
        await new Promise((r) => setTimeout(r, 3500)); // samples after everything, too
        expect(d.child.exitCode, 'the daemon is still running').to.equal(null);
      } finally {
        clearInterval(sampler);
      }
      expect(failures).to.deep.equal([]);
      expect(samples.length).to.be.greaterThan(2);
      expect(Math.max(...samples)).to.be.below(1000);
      expect(rssMax).to.be.below(512);
    });
  }
});
