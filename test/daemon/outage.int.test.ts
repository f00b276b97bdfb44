import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { expect } from 'chai';
import { DaemonProcess } from '../support/daemon-process.js';
import { useCluster, type ClusterFixture } from '../support/cluster.js';
import { StatusProxy } from '../support/status-proxy.js';
import { kubectlApply, metricValue, ruleConfigMap, testConfig } from './daemon-support.js';

const OBJECTS = 200;
const OUTAGE_MS = 90_000;

const markRule = (ns: string) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: mark-done }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${ns}], labelSelector: batch=outage }
  when: "$not($exists(metadata.annotations.done))"
  actions:
    - patch: { patch: { metadata: { annotations: { done: "yes" } } } }
`;

/** A ceiling of 10 s instead of 5 min, so the test waits less for the keys once the server is back; nothing else differs from the defaults (no give-up). */
const QUEUE = 'queue: { maxDelayMs: 10000 }\n';

async function createObjects(fx: ClusterFixture): Promise<void> {
  for (let i = 0; i < OBJECTS; i += 20) {
    await Promise.all(
      Array.from({ length: 20 }, (_, j) =>
        fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `obj-${i + j}`, labels: { batch: 'outage' } } }),
      ),
    );
  }
}

/** Waits until the rule acts: a first object of the batch, `probe`, gets its patch. */
async function ruleWorking(fx: ClusterFixture): Promise<void> {
  await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe', labels: { batch: 'outage' } } });
  await fx.admin.eventually(async () => {
    const probe = await fx.admin.ok<{ metadata: { annotations?: Record<string, string> } }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps/probe`);
    return probe.metadata.annotations?.done === 'yes';
  }, 30_000, 'the rule to patch its probe');
}

const metric = async (d: DaemonProcess, name: string, labels: string) => metricValue((await d.get('/metrics', 'metrics')).text, name, labels);

/** Waits until every object (and the probe) carries the annotation, then checks each action was done exactly once and no key was given up. */
async function expectAllDoneOnce(fx: ClusterFixture, d: DaemonProcess): Promise<void> {
  await fx.admin.eventually(async () => {
    const list = await fx.admin.ok<{ items: { metadata: { annotations?: Record<string, string> } }[] }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps?labelSelector=batch%3Doutage`);
    return list.items.filter((o) => o.metadata.annotations?.done === 'yes').length === OBJECTS + 1;
  }, 120_000, `all ${OBJECTS} objects patched`);
  await fx.admin.eventually(async () => (await metric(d, 'reflex_actions_total', 'rule="mark-done",action="patch",outcome="done"')) === OBJECTS + 1, 10_000, 'the done count to arrive');
  expect(await metric(d, 'reflex_actions_total', 'rule="mark-done",action="patch",outcome="skipped-noop"')).to.equal(undefined);
  expect(await metric(d, 'reflex_retries_exhausted_total', 'rule="mark-done"')).to.equal(undefined);
  await fx.admin.eventually(async () => (await metric(d, 'reflex_rule_keys_in_retry', 'rule="mark-done"')) === undefined, 10_000, 'no key left in retry');
}

describe('retries through an outage (daemon as a child process, against the control plane)', function () {
  this.timeout(400_000);
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  afterEach(async () => {
    daemon?.child.kill('SIGCONT');
    await daemon?.stop('SIGKILL');
    daemon = undefined;
  });

  it(`does every one of ${OBJECTS} pending patches exactly once after the control plane was stopped for 90 s`, async () => {
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-mark', markRule(fx.ns)));
    const d = (daemon = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns, QUEUE)] }));
    await ruleWorking(fx);
    // Frozen, the daemon still receives the watch events into its socket; it works on them once
    // thawed, with the control plane already gone.
    d.child.kill('SIGSTOP');
    let down = false;
    try {
      await createObjects(fx);
      await fx.cp.pause();
      down = true;
      const stopped = Date.now();
      d.child.kill('SIGCONT');
      await fx.admin.eventually(async () => ((await metric(d, 'reflex_rule_keys_in_retry', 'rule="mark-done"')) ?? 0) > 0, 30_000, 'keys in retry while the control plane is down');
      expect((await d.get('/healthz')).status).to.equal(200);
      await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - stopped))));
      expect(await metric(d, 'reflex_rule_keys_in_retry', 'rule="mark-done"')).to.be.greaterThan(0);
      await fx.cp.resume();
      down = false;
    } finally {
      if (down) await fx.cp.resume();
    }
    await expectAllDoneOnce(fx, d);
  });

  it(`does every one of ${OBJECTS} pending patches exactly once after the API server answered 503 for 90 s`, async () => {
    const proxy = await StatusProxy.start(fx.cp.server, fx.cp.dir);
    try {
      const kubeconfig = join(mkdtempSync(join(tmpdir(), 'reflex-proxy-')), 'kubeconfig');
      writeFileSync(
        kubeconfig,
        `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${proxy.url}" } }]
users: [{ name: u, user: { token: "${fx.cp.state.adminToken}" } }]
contexts: [{ name: ctx, context: { cluster: c, user: u, namespace: ${fx.ns} } }]
current-context: ctx
`,
      );
      kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-mark', markRule(fx.ns)));
      const d = (daemon = await DaemonProcess.start({ kubeconfig, args: ['--config', testConfig(fx.ns, QUEUE)] }));
      await ruleWorking(fx);
      proxy.fail('writes'); // the daemon sees the objects, but every patch gets 503
      await createObjects(fx);
      await fx.admin.eventually(async () => (await metric(d, 'reflex_rule_keys_in_retry', 'rule="mark-done"')) === OBJECTS, 60_000, `all ${OBJECTS} keys in retry`);
      proxy.fail('all'); // and now everything, watches included, for 90 s
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      expect(proxy.failed.GET ?? 0, 'lists and watches were answered 503 too').to.be.greaterThan(0);
      expect(await metric(d, 'reflex_rule_keys_in_retry', 'rule="mark-done"')).to.equal(OBJECTS);
      expect(await metric(d, 'reflex_rule_failures_total', 'rule="mark-done",outcome="transient",reason="ServiceUnavailable"')).to.be.greaterThan(OBJECTS);
      proxy.fail('none');
      await expectAllDoneOnce(fx, d);
    } finally {
      await proxy.close();
    }
  });
});
