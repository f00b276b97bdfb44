import { spawn } from 'node:child_process';
import { expect } from 'chai';
import { dump } from 'js-yaml';
import { DaemonProcess } from '../support/daemon-process.js';
import { useCluster } from '../support/cluster.js';
import { kubectlApply, metricSum, metricValue, writeConfig } from './daemon-support.js';
import { deleteClusterRules, getRule, installCrds, removeCrds, waitCondition } from './crd-support.js';

const OBJECTS = 1000;
const CHURN_MS = 20_000;

describe('rule object status with two replicas and 1,000 objects churning (end to end)', function () {
  this.timeout(300_000);
  // Registered before useCluster's: it runs before the admin client closes.
  after(async () => {
    if (fx.admin) await removeCrds(fx);
  });
  const fx = useCluster();
  let daemons: DaemonProcess[] = [];
  afterEach(async () => {
    await Promise.all(daemons.map((d) => d.stop('SIGKILL')));
    daemons = [];
    await deleteClusterRules(fx);
  });

  const start = async () => {
    const config = writeConfig(`namespace: ${fx.ns}
rules: { configMaps: { enabled: false } }
leaderElection: { enabled: true, leaseName: reflex-crd-e2e, leaseNamespace: ${fx.ns}, leaseDurationSeconds: 4, renewDeadlineSeconds: 3, retryPeriodSeconds: 0.5 }
`);
    const d = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', config] });
    daemons.push(d);
    return d;
  };
  const scrape = async (d: DaemonProcess) => (await d.get('/metrics', 'metrics')).text;
  const leads = async (d: DaemonProcess) => metricValue(await scrape(d), 'reflex_leader') === 1;
  const writes = async (d: DaemonProcess) => metricSum(await scrape(d), 'reflex_rule_status_writes_total', 'rule="ClusterRule/churn"');
  /** Runs `fn` over 0..n-1, `width` at a time. */
  const pool = async (n: number, width: number, fn: (i: number) => Promise<unknown>) => {
    let next = 0;
    await Promise.all(Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }));
  };
  const cmPath = `/api/v1/namespaces/`;

  it('only the leader writes status, at most once per 5 s while every object keeps changing; the next leader takes it over', async () => {
    await installCrds(fx);
    await pool(OBJECTS, 16, (i) => fx.admin.ok('POST', `${cmPath}${fx.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c-${i}`, labels: { churn: 'yes' } }, data: { v: '0' } }));
    const a = await start();
    const b = await start();
    const leader = await fx.admin.eventually(async () => {
      const states = await Promise.all([a, b].map((d) => leads(d).catch(() => false)));
      return states.filter(Boolean).length === 1 ? [a, b][states.indexOf(true)] : undefined;
    }, 20_000, 'exactly one leader');
    const follower = leader === a ? b : a;
    kubectlApply(fx, dump({
      apiVersion: 'reflex.dev/v1alpha1',
      kind: 'ClusterRule',
      metadata: { name: 'churn' },
      spec: {
        watch: { apiVersion: 'v1', kind: 'ConfigMap', namespaces: [fx.ns], labelSelector: 'churn=yes' },
        when: 'true',
        actions: [{ log: { level: 'debug', message: 'seen {{ metadata.name }} at {{ data.v }}' } }],
      },
    }));
    await waitCondition(fx, 'churn', 'Ready', 'True', 30_000);

    // Every status write is a new resourceVersion of the object: a watch sees each.
    const watch = spawn('kubectl', ['--kubeconfig', fx.cp.kubeconfig, 'get', 'clusterrule', 'churn', '--watch', '-o', 'jsonpath={.metadata.resourceVersion} {.status.evaluations}{"\\n"}']);
    const seen: { at: number; rv: string; evaluations: number }[] = [];
    watch.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        const [rv, ev] = line.split(' ');
        seen.push({ at: Date.now(), rv, evaluations: Number(ev) });
      }
    });
    await fx.admin.eventually(async () => seen.length > 0, 10_000, 'the watch to start');
    const begin = Date.now();
    let round = 0;
    while (Date.now() - begin < CHURN_MS) {
      round++;
      await pool(OBJECTS, 16, (i) => fx.admin.ok('PATCH', `${cmPath}${fx.ns}/configmaps/c-${i}`, { data: { v: String(round) } }, 'application/merge-patch+json'));
    }
    const churnMs = Date.now() - begin;
    await new Promise((r) => setTimeout(r, 6000)); // the last counters of the churn get written
    watch.kill();
    const during = seen.filter((s) => s.at >= begin);
    const rvs = new Set(during.map((s) => s.rv));
    const allowed = Math.floor((churnMs + 6000) / 5000) + 1;
    console.log(`      ${round} rounds of ${OBJECTS} changes in ${churnMs} ms; ${rvs.size} status writes (at most ${allowed} allowed); evaluations counted: ${during.at(-1)?.evaluations}`);
    expect(rvs.size, 'status writes while churning').to.be.within(2, allowed);
    // Changes of one object coalesce while it waits in the queue: at least a round's worth was evaluated.
    expect(during.at(-1)!.evaluations - seen[0].evaluations).to.be.at.least(OBJECTS);
    const leaderWrites = await writes(leader);
    expect(leaderWrites).to.be.at.least(rvs.size);
    expect(await writes(follower)).to.equal(0);
    const managers = (await fx.admin.ok<{ metadata: { managedFields: { manager: string; subresource?: string }[] } }>('GET', '/apis/reflex.dev/v1alpha1/clusterrules/churn?showManagedFields=true')).metadata.managedFields;
    expect(managers.filter((m) => m.subresource === 'status').map((m) => m.manager)).to.deep.equal(['reflex']);

    // The leader goes (SIGTERM releases the lease): the other one writes from now on.
    await leader.stop('SIGTERM');
    await fx.admin.eventually(() => leads(follower), 20_000, 'the follower to lead');
    await pool(50, 8, (i) => fx.admin.ok('PATCH', `${cmPath}${fx.ns}/configmaps/c-${i}`, { data: { v: 'after' } }, 'application/merge-patch+json'));
    await fx.admin.eventually(async () => (await writes(follower)) >= 1, 20_000, 'the new leader to write the status');
    const after = await getRule(fx, 'churn');
    expect(after.status?.evaluations).to.be.at.least(50);
  });
});
