import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DaemonProcess } from '../support/daemon-process.js';
import { useCluster } from '../support/cluster.js';
import { aliasBomb } from '../engine/helpers.js';
import { kubectlApply, ruleConfigMap, testConfig } from './daemon-support.js';

type Meta = { metadata: { annotations?: Record<string, string> } };

/** 94,466 small rules in one file (about 25 MB), as the issue measured. */
function manyRules(ns: string): string {
  const one = (i: number) =>
    `apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata:\n  name: many-${i}\nspec:\n  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${ns}] }\n  when: "metadata.labels.app = 'a${i}'"\n  actions:\n    - patch: { patch: { metadata: { annotations: { seen: "yes" } } } }\n`;
  return Array.from({ length: 94_466 }, (_, i) => one(i)).join('---\n');
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

describe('loader limits (end to end): an alias bomb and 94k rules in one file', function () {
  this.timeout(180_000);
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  afterEach(async () => {
    await daemon?.stop('SIGKILL');
    daemon = undefined;
  });

  it('stays up and answering, reports both sources, and keeps running the healthy rule', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reflex-limits-'));
    writeFileSync(join(dir, 'many.yaml'), manyRules(fx.ns));
    writeFileSync(
      join(dir, 'healthy.yaml'),
      `apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata:\n  name: healthy\nspec:\n  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: app=demo }\n  actions:\n    - patch: { patch: { metadata: { annotations: { healthy: "yes" } } } }\n`,
    );
    // Samples /healthz every second for the whole test: each answer must come within 1 s.
    const samples: number[] = [];
    const failures: string[] = [];
    const d = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns), '--rules', dir], waitReady: false });
    daemon = d;
    await fx.admin.eventually(() => fetch(`http://127.0.0.1:${d.healthPort}/healthz`).then((r) => r.ok, () => false), 20_000, 'the health listener');
    const sampler = setInterval(() => {
      const t0 = Date.now();
      fetch(`http://127.0.0.1:${d.healthPort}/healthz`, { signal: AbortSignal.timeout(1000) })
        .then((r) => (r.status === 200 ? samples.push(Date.now() - t0) : failures.push(`status ${r.status}`)))
        .catch((err: unknown) => failures.push(String(err)));
    }, 1000);
    try {
      await d.waitReady(60_000);
      const many = await d.waitForLog((l) => l.message === 'invalid rule' && String(l.error).includes('many.yaml'), 30_000, 'the report of many.yaml');
      expect(String(many.error)).to.match(/many\.yaml:1:1: the source holds [\d,]+ characters, more than the limit of 4,194,304/);
      kubectlApply(fx, ruleConfigMap(fx.ns, 'bomb', aliasBomb()));
      const bomb = await d.waitForLog((l) => l.message === 'invalid rule' && String(l.error).includes('/bomb/'), 30_000, 'the report of the bomb');
      expect(String(bomb.error)).to.match(/configmap\/.+\/bomb\/rules\.yaml:\d+:\d+: document 1: too large: .*aliases are expanded/);
      await fx.admin.eventually(async () => {
        const events = await fx.admin.ok<{ items: { reason: string; message?: string; note?: string; regarding?: { name: string } }[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${fx.ns}/events`);
        return events.items.some((e) => e.reason === 'InvalidRule' && e.regarding?.name === 'bomb');
      }, 20_000, 'a Warning Event on the bomb ConfigMap');

      // The healthy rule's effect arrives within 2 s of its trigger.
      const started = Date.now();
      await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'demo', labels: { app: 'demo' } } });
      await fx.admin.eventually(async () => (await fx.admin.ok<Meta>('GET', `/api/v1/namespaces/${fx.ns}/configmaps/demo`)).metadata.annotations?.healthy === 'yes', 2000, 'the healthy rule within 2 s');
      expect(Date.now() - started).to.be.at.most(2000);
      expect(rssMiB(d.pid)).to.be.below(512);
      await new Promise((r) => setTimeout(r, 2500)); // samples after everything, too
    } finally {
      clearInterval(sampler);
    }
    expect(failures).to.deep.equal([]);
    expect(samples.length).to.be.greaterThan(2);
    expect(Math.max(...samples)).to.be.below(1000);
  });
});
