import { expect } from 'chai';
import { DaemonProcess } from '../support/daemon-process.js';
import { useCluster } from '../support/cluster.js';
import { kubectlApply, metricSum, metricValue, ruleConfigMap, writeConfig } from './daemon-support.js';

const LEASE_SECONDS = 4;

describe('reflex run with leader election (two replicas, end to end)', function () {
  this.timeout(180_000);
  const fx = useCluster();
  let daemons: DaemonProcess[] = [];
  afterEach(async () => {
    await Promise.all(daemons.map((d) => d.stop('SIGKILL')));
    daemons = [];
  });

  const config = () =>
    writeConfig(`namespace: ${fx.ns}
rules: { configMaps: { namespaces: [${fx.ns}] } }
leaderElection: { enabled: true, leaseName: reflex-e2e, leaseNamespace: ${fx.ns}, leaseDurationSeconds: ${LEASE_SECONDS}, renewDeadlineSeconds: 3, retryPeriodSeconds: 0.5 }
`);
  const start = async () => {
    const d = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', config()] });
    daemons.push(d);
    return d;
  };
  const leads = async (d: DaemonProcess) => metricValue((await d.get('/metrics', 'metrics')).text, 'reflex_leader') === 1;
  const actions = async (d: DaemonProcess) => metricSum((await d.get('/metrics', 'metrics')).text, 'reflex_actions_total', 'outcome="done"');
  const leaderOf = async (ds: DaemonProcess[]) =>
    fx.admin.eventually(async () => {
      const states = await Promise.all(ds.map((d) => leads(d).catch(() => false)));
      return states.filter(Boolean).length === 1 ? ds[states.indexOf(true)] : undefined;
    }, 20_000, 'exactly one leader');
  const cm = (name: string) => fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { app: 'demo' } } });
  const stamped = (name: string, timeoutMs: number) =>
    fx.admin.eventually(async () => {
      const c = await fx.admin.ok<{ metadata: { annotations?: Record<string, string> } }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps/${name}`);
      return c.metadata.annotations?.stamp === 'yes';
    }, timeoutMs, `${name} to be stamped`);

  it('lets only the leader write; after SIGKILL of the leader the other takes over within the lease duration; after SIGTERM at once', async () => {
    kubectlApply(
      fx,
      ruleConfigMap(
        fx.ns,
        'rules-stamp',
        `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: stamp }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: app=demo }
  when: "$not(metadata.annotations.stamp = 'yes')"
  actions:
    - patch: { patch: { metadata: { annotations: { stamp: "yes" } } } }
`,
      ),
    );
    const a = await start();
    const b = await start();
    const leader = await leaderOf([a, b]);
    const follower = leader === a ? b : a;
    for (let i = 0; i < 5; i++) await cm(`one-${i}`);
    for (let i = 0; i < 5; i++) await stamped(`one-${i}`, 10_000);
    expect(await actions(leader)).to.equal(5);
    expect(await actions(follower)).to.equal(0);
    expect((await follower.get('/readyz')).status).to.equal(200); // a follower keeps warm caches and is ready

    // SIGKILL: the lease is not released; the follower takes over once it expires.
    const killedAt = Date.now();
    await leader.stop('SIGKILL');
    await fx.admin.eventually(() => leads(follower), 20_000, 'the follower to lead');
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).to.be.at.most((LEASE_SECONDS + 2) * 1000);
    await cm('two');
    await stamped('two', 10_000);

    // SIGTERM: the leader releases the lease, and a new replica takes over at once.
    const c = await start();
    expect(await leads(c)).to.equal(false);
    const termAt = Date.now();
    const exit = await follower.stop('SIGTERM');
    expect(exit.code).to.equal(0);
    await fx.admin.eventually(() => leads(c), 10_000, 'the third replica to lead');
    const handoverMs = Date.now() - termAt;
    expect(handoverMs).to.be.below(LEASE_SECONDS * 1000);
    await cm('three');
    await stamped('three', 10_000);
    console.log(`      (takeover after SIGKILL: ${takeoverMs} ms; after SIGTERM: ${handoverMs} ms; lease ${LEASE_SECONDS} s)`);
  });
});
