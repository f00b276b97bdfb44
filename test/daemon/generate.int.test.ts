import { expect } from 'chai';
import { DaemonProcess } from '../support/daemon-process.js';
import { useCluster, type ClusterFixture } from '../support/cluster.js';
import { kubectlApply, ruleConfigMap, testConfig } from './daemon-support.js';

type Obj = { metadata: { name: string; uid: string; resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> }; type?: string; data?: Record<string, string> };

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A rule copying Secret `<ns>/regcred` into every namespace labelled `reflex-test=<ns>` but those labelled excluded=true. */
function copyRule(ns: string, name = 'copy-regcred', extra = ''): string {
  return `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: ${name}}
spec:
  watch: {apiVersion: v1, kind: Namespace, labelSelector: "reflex-test=${ns}"}
  when: "$not(metadata.labels.excluded = 'true') and $exists($get('v1', 'Secret', '${ns}', 'regcred'))"
  generate:${extra}
    objects:
      - apiVersion: v1
        kind: Secret
        metadata: {name: regcred, namespace: "{{ metadata.name }}"}
        type: "{{ $get('v1', 'Secret', '${ns}', 'regcred').type }}"
        data: "{{ $get('v1', 'Secret', '${ns}', 'regcred').data }}"
`;
}

async function team(fx: ClusterFixture, name: string, labels: Record<string, string> = {}) {
  await fx.admin.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'reflex-test': fx.ns, ...labels } } });
}

async function source(fx: ClusterFixture, value: string) {
  const body = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'regcred', namespace: fx.ns }, type: 'Opaque', data: { token: b64(value) } };
  const r = await fx.admin.call('PUT', `/api/v1/namespaces/${fx.ns}/secrets/regcred`, body);
  if (r.status === 404) await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/secrets`, body);
  else if (r.status > 299) throw new Error(`PUT source: ${r.status}`);
}

const copyPath = (ns: string) => `/api/v1/namespaces/${ns}/secrets/regcred`;

async function copy(fx: ClusterFixture, ns: string): Promise<Obj | undefined> {
  const r = await fx.admin.call<Obj>('GET', copyPath(ns));
  return r.status === 200 ? r.body : undefined;
}

/** Polls until `check` holds; returns how long it took, ms. */
async function within(fx: ClusterFixture, check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<number> {
  const t0 = Date.now();
  await fx.admin.eventually(async () => (await check()) || undefined, timeoutMs, what);
  return Date.now() - t0;
}

async function startDaemon(fx: ClusterFixture): Promise<DaemonProcess> {
  return DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns), '--log-level', process.env.GEN_DEBUG ? 'debug' : 'info'], readyTimeoutMs: 60_000 });
}

function setRules(fx: ClusterFixture, rules: string) {
  kubectlApply(fx, ruleConfigMap(fx.ns, 'generate-rules', rules));
}

async function metric(d: DaemonProcess, name: string): Promise<number> {
  const text = (await d.get('/metrics', 'metrics')).text;
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

describe('generate rules (daemon end to end, against the control plane)', function () {
  this.timeout(240_000);
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && daemon) console.log(daemon.lastLines(30), daemon.stderr.join(''));
    await daemon?.stop('SIGKILL');
    daemon = undefined;
  });

  it('back-fills, copies into new namespaces within 2 s, never into excluded ones, and follows the source, drift and the condition', async () => {
    const ns = fx.ns;
    await source(fx, 'v1');
    for (const i of [1, 2, 3]) await team(fx, `${ns}-a${i}`);
    await team(fx, `${ns}-x`, { excluded: 'true' });
    setRules(fx, copyRule(ns));
    daemon = await startDaemon(fx);

    // Existing namespaces are back-filled; the copy is stamped.
    await within(fx, async () => (await Promise.all([1, 2, 3].map((i) => copy(fx, `${ns}-a${i}`)))).every((c) => c?.data?.token === b64('v1')), 'back-fill');
    const stamped = (await copy(fx, `${ns}-a1`))!;
    const trigger = await fx.admin.ok<Obj>('GET', `/api/v1/namespaces/${ns}-a1`);
    expect(stamped.metadata.labels).to.include({ 'app.kubernetes.io/managed-by': 'reflex', 'reflex.dev/rule': 'copy-regcred', 'reflex.dev/trigger-uid': trigger.metadata.uid });
    expect(stamped.metadata.annotations).to.include({ 'reflex.dev/rule': 'copy-regcred', 'reflex.dev/trigger': `v1 Namespace ${ns}-a1` });

    // A new labelled namespace gets its copy within 2 s.
    await team(fx, `${ns}-new`);
    expect(await within(fx, async () => (await copy(fx, `${ns}-new`)) !== undefined, 'copy in a new namespace')).to.be.at.most(2000);

    // The source changes: every copy follows within 2 s.
    await source(fx, 'v2');
    const all = [`${ns}-a1`, `${ns}-a2`, `${ns}-a3`, `${ns}-new`];
    expect(await within(fx, async () => (await Promise.all(all.map((n) => copy(fx, n)))).every((c) => c?.data?.token === b64('v2')), 'copies updated')).to.be.at.most(2000);

    // A tenant deletes a copy: it is back within 2 s.
    await fx.admin.ok('DELETE', copyPath(`${ns}-a2`));
    expect(await within(fx, async () => (await copy(fx, `${ns}-a2`)) !== undefined, 'deleted copy restored')).to.be.at.most(2000);

    // A tenant edits .data (as kubectl would, its own field manager): reverted within 2 s.
    await fx.admin.ok('PATCH', `${copyPath(`${ns}-a3`)}?fieldManager=kubectl-edit`, { data: { token: b64('tampered') } }, 'application/merge-patch+json');
    expect(await within(fx, async () => (await copy(fx, `${ns}-a3`))?.data?.token === b64('v2'), 'edited copy reverted')).to.be.at.most(2000);

    // The namespace loses its label: its copy is deleted. The condition turns false: likewise.
    await fx.admin.ok('PATCH', `/api/v1/namespaces/${ns}-a1`, { metadata: { labels: { 'reflex-test': null } } }, 'application/merge-patch+json');
    await within(fx, async () => (await copy(fx, `${ns}-a1`)) === undefined, 'copy deleted when the label went');
    await fx.admin.ok('PATCH', `/api/v1/namespaces/${ns}-new`, { metadata: { labels: { excluded: 'true' } } }, 'application/merge-patch+json');
    await within(fx, async () => (await copy(fx, `${ns}-new`)) === undefined, 'copy deleted when the condition went false');

    // The source is deleted: so are the copies (declared only while it exists).
    await fx.admin.ok('DELETE', `/api/v1/namespaces/${ns}/secrets/regcred`);
    await within(fx, async () => (await Promise.all([`${ns}-a2`, `${ns}-a3`].map((n) => copy(fx, n)))).every((c) => c === undefined), 'copies deleted with the source');

    // The excluded namespace never had one.
    expect(await copy(fx, `${ns}-x`)).to.equal(undefined);
    expect(await metric(daemon, 'reflex_loop_guard_total')).to.equal(0);
  });

  it('deletes what a rule generated when it is removed while running; leaves it with orphan: true; reports orphans after a restart without the rule', async () => {
    const ns = fx.ns;
    await source(fx, 'v1');
    await team(fx, `${ns}-a`);
    await team(fx, `${ns}-b`);
    setRules(fx, copyRule(ns) + '---\n' + copyRule(ns, 'copy-kept', '\n    orphan: true').replace(/name: regcred, /, 'name: regcred-kept, '));
    daemon = await startDaemon(fx);
    const kept = (n: string) => fx.admin.call<Obj>('GET', `/api/v1/namespaces/${n}/secrets/regcred-kept`);
    await within(fx, async () => (await copy(fx, `${ns}-b`)) !== undefined && (await kept(`${ns}-b`)).status === 200, 'copies of both rules');

    // Both rules removed from the ConfigMap (it still loads): copy-regcred's copies go, copy-kept's stay, labels kept.
    setRules(fx, `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: placeholder}
spec:
  watch: {apiVersion: v1, kind: ConfigMap, labelSelector: "never-${ns}"}
  actions:
    - log: {message: x}
`);
    await within(fx, async () => (await copy(fx, `${ns}-a`)) === undefined && (await copy(fx, `${ns}-b`)) === undefined, 'copies of the removed rule deleted');
    const left = await kept(`${ns}-a`);
    expect(left.status).to.equal(200);
    expect(left.body.metadata.labels).to.include({ 'reflex.dev/rule': 'copy-kept' });

    // Restarted without copy-kept: nothing deleted, its objects reported as orphans.
    await daemon.stop('SIGTERM');
    daemon = await startDaemon(fx);
    await daemon.waitForLog((l) => /orphans/.test(String(l.message)) && (l as { rule?: string }).rule === 'copy-kept', 40_000, 'the orphan report');
    await within(fx, async () => (await metric(daemon!, 'reflex_generated_orphans{rule="copy-kept"}')) >= 2, 'the orphan metric');
    expect((await kept(`${ns}-a`)).status).to.equal(200);
    expect((await kept(`${ns}-b`)).status).to.equal(200);
  });

  it('lets one of two rules declaring one object write it, reports the other, and does not flap', async () => {
    const ns = fx.ns;
    await source(fx, 'v1');
    await team(fx, `${ns}-a`);
    setRules(fx, copyRule(ns, 'copy-one') + '---\n' + copyRule(ns, 'copy-two'));
    daemon = await startDaemon(fx);
    await within(fx, async () => (await copy(fx, `${ns}-a`)) !== undefined, 'the copy');
    // Reported by the rule that lost, once the winner's object is in its inventory (the first writes of the two may race).
    await within(fx, async () => (await metric(daemon!, 'reflex_generate_conflicts_total')) >= 1, 'a reported conflict');
    const first = (await copy(fx, `${ns}-a`))!;
    const reported = await metric(daemon, 'reflex_generate_conflicts_total');
    // Both rules evaluate the trigger again (an update of it): neither writes the contested object.
    const evaluations = async (rule: string) => metric(daemon!, `reflex_rule_evaluations_total{rule="${rule}"`);
    const before = { one: await evaluations('copy-one'), two: await evaluations('copy-two') };
    await fx.admin.ok('PATCH', `/api/v1/namespaces/${ns}-a`, { metadata: { labels: { touched: 'yes' } } }, 'application/merge-patch+json');
    await within(fx, async () => (await evaluations('copy-one')) > before.one && (await evaluations('copy-two')) > before.two, 'both rules to evaluate the trigger again');
    const later = (await copy(fx, `${ns}-a`))!;
    expect(later.metadata.resourceVersion, 'writes to the contested object').to.equal(first.metadata.resourceVersion);
    // Reported once per rule that lost (both, at most, when their first writes raced), never again.
    expect(reported).to.be.within(1, 2);
    expect(await metric(daemon, 'reflex_generate_conflicts_total')).to.equal(reported);
  });

  it('updates 50 copies within 2 s of a source change, and a change made while stopped within 5 s of start', async () => {
    const ns = fx.ns;
    await source(fx, 'v1');
    const names = Array.from({ length: 50 }, (_, i) => `${ns}-n${i}`);
    await Promise.all(names.map((n) => team(fx, n)));
    setRules(fx, copyRule(ns));
    daemon = await startDaemon(fx);
    const allAre = (v: string) => async () => (await Promise.all(names.map((n) => copy(fx, n)))).every((c) => c?.data?.token === b64(v));
    await within(fx, allAre('v1'), '50 copies', 60_000);

    await source(fx, 'v2');
    expect(await within(fx, allAre('v2'), '50 copies updated')).to.be.at.most(2000);
    expect(await metric(daemon, 'reflex_loop_guard_total')).to.equal(0);

    await daemon.stop('SIGTERM');
    await source(fx, 'v3');
    daemon = await startDaemon(fx);
    // From the daemon's start (its first log line; the Node.js runtime loading before it is not the daemon's).
    const started = Date.parse(String((await daemon.waitForLog((l) => l.message === 'starting')).time));
    await within(fx, allAre('v3'), '50 copies updated after start');
    expect(Date.now() - started, 'from the daemon starting to every copy updated').to.be.at.most(5000);
  });

  it('after a SIGKILL in the middle of generating for 1,000 triggers, a restart leaves every object once, none extra, triggers deleted while stopped have their objects pruned, and a last start writes nothing', async function () {
    this.timeout(600_000);
    const ns = fx.ns;
    const n = 1000;
    const names = Array.from({ length: n }, (_, i) => `t${i}`);
    for (let i = 0; i < n; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((name) => fx.admin.ok('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { trigger: 'yes' } } })));
    }
    setRules(fx, `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: per-trigger}
spec:
  watch: {apiVersion: v1, kind: ConfigMap, namespaces: [${ns}], labelSelector: trigger=yes}
  generate:
    objects:
      - apiVersion: v1
        kind: Secret
        metadata: {name: "gen-{{ metadata.name }}"}
        stringData: {for: "{{ metadata.name }}"}
`);
    const generated = async () => (await fx.admin.ok<{ items: Obj[] }>('GET', `/api/v1/namespaces/${ns}/secrets?labelSelector=reflex.dev/rule=per-trigger`)).items;
    daemon = await startDaemon(fx);
    await within(fx, async () => (await generated()).length >= 100, 'generation under way', 120_000);
    await daemon.stop('SIGKILL');
    const before = (await generated()).length;

    daemon = await startDaemon(fx);
    await within(fx, async () => (await generated()).length === n, 'every object generated after the restart', 180_000);
    const triggers = (await fx.admin.ok<{ items: Obj[] }>('GET', `/api/v1/namespaces/${ns}/configmaps?labelSelector=trigger=yes`)).items;
    const uidOf = new Map(triggers.map((t) => [t.metadata.name, t.metadata.uid]));
    const objects = await generated();
    expect(new Set(objects.map((o) => o.metadata.name)).size).to.equal(n);
    for (const o of objects) expect(o.metadata.labels?.['reflex.dev/trigger-uid']).to.equal(uidOf.get(o.metadata.name.slice('gen-'.length)));
    console.log(`      (${before} of ${n} generated before the SIGKILL)`);

    // Triggers deleted while the daemon is stopped: their objects are pruned after the next start.
    await daemon.stop('SIGTERM');
    for (const name of ['t1', 't2', 't3']) await fx.admin.ok('DELETE', `/api/v1/namespaces/${ns}/configmaps/${name}`);
    daemon = await startDaemon(fx);
    await within(fx, async () => (await generated()).length === n - 3, 'the objects of the deleted triggers pruned', 120_000);
    expect((await generated()).map((o) => o.metadata.name)).to.not.include.members(['gen-t1', 'gen-t2', 'gen-t3']);

    // The last start finds everything as declared: it evaluates every trigger and sends no write.
    await daemon.stop('SIGTERM');
    daemon = await startDaemon(fx);
    await within(fx, async () => (await metric(daemon!, 'reflex_rule_evaluations_total{rule="per-trigger"')) >= n - 3, 'the sync sweep of the last start', 120_000);
    expect(await metric(daemon, 'reflex_actions_total{rule="per-trigger",action="apply",outcome="done"}')).to.equal(0);
  });

  it('plans and logs in audit mode, and writes nothing', async () => {
    const ns = fx.ns;
    await source(fx, 'v1');
    await team(fx, `${ns}-a`);
    setRules(fx, copyRule(ns).replace('spec:\n', 'spec:\n  mode: audit\n'));
    daemon = await startDaemon(fx);
    await daemon.waitForLog((l) => /^audit: would apply Secret/.test(String(l.message)), 20_000, 'the audit line');
    expect(await copy(fx, `${ns}-a`)).to.equal(undefined);
  });

  it('keeps a default-deny NetworkPolicy in every namespace, restoring an edited one', async () => {
    const ns = fx.ns;
    await team(fx, `${ns}-p`);
    setRules(fx, `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: default-deny}
spec:
  watch: {apiVersion: v1, kind: Namespace, labelSelector: "reflex-test=${ns}"}
  generate:
    objects:
      - apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: default-deny-ingress, namespace: "{{ metadata.name }}"}
        spec: {podSelector: {}, policyTypes: [Ingress]}
`);
    daemon = await startDaemon(fx);
    const path = `/apis/networking.k8s.io/v1/namespaces/${ns}-p/networkpolicies/default-deny-ingress`;
    await within(fx, async () => (await fx.admin.call('GET', path)).status === 200, 'the policy');
    await fx.admin.ok('PATCH', `${path}?fieldManager=kubectl-edit`, { spec: { policyTypes: ['Ingress', 'Egress'] } }, 'application/merge-patch+json');
    expect(
      await within(fx, async () => JSON.stringify((await fx.admin.call<{ spec: { policyTypes: string[] } }>('GET', path)).body.spec.policyTypes) === '["Ingress"]', 'the policy restored'),
    ).to.be.at.most(2000);
  });
});
