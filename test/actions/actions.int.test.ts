import { expect } from 'chai';
import { executeAction, type ActionResult } from '../../src/actions/index.js';
import { createClient, type DynamicClient } from '../../src/client/index.js';
import { FakeClock, type KubeObject } from '../../src/core/index.js';
import { evaluate, loadRules, renderUpdate, type PlannedAction } from '../../src/engine/index.js';
import { useCluster } from '../support/cluster.js';
import { RecordingClient } from './recording-client.js';

describe('actions against the control plane', function () {
  const fx = useCluster();
  let real: DynamicClient;
  let client: RecordingClient;

  before(async () => {
    real = await createClient({ kubeconfig: fx.cp.kubeconfig });
  });
  after(async () => {
    await real?.close();
  });
  beforeEach(() => {
    client = new RecordingClient(real);
  });

  const cmRef = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns, name });
  const cm = (name: string, data: Record<string, string> = { a: '1' }): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: fx.ns }, data });
  const planned = (action: PlannedAction['action'], name: string, body: unknown, options: Record<string, unknown> = {}): PlannedAction => ({
    rule: 'it-rule',
    trigger: { ...cmRef(name), event: 'sync' },
    action,
    target: cmRef(name),
    body,
    options,
  });
  const adminGet = (name: string) => fx.admin.ok<KubeObject>('GET', `/api/v1/namespaces/${fx.ns}/configmaps/${name}`);

  it('applying twice makes one change, and stamps ownership', async () => {
    const first = await executeAction(planned('apply', 'gen', cm('gen')), { client });
    expect(first.status).to.equal('done');
    const second = await executeAction(planned('apply', 'gen', cm('gen')), { client, current: first.object });
    expect(second).to.deep.include({ status: 'done', changed: false });
    expect(second.object?.metadata?.resourceVersion).to.equal(first.object?.metadata?.resourceVersion);
    const stored = await adminGet('gen');
    expect(stored.metadata?.labels).to.deep.equal({ 'app.kubernetes.io/managed-by': 'reflex' });
    expect(stored.metadata?.annotations).to.deep.equal({ 'reflex.dev/rule': 'it-rule' });
    expect((stored.metadata?.managedFields as { manager: string }[]).map((m) => m.manager)).to.deep.equal(['reflex/it-rule']);
  });

  it('a no-op patch is not sent; a real one is', async () => {
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm('p'));
    const current = await real.get(cmRef('p'));
    const noop = await executeAction(planned('patch', 'p', { data: { a: '1' } }), { client, current });
    expect(noop.status).to.equal('skipped-noop');
    expect(client.writes).to.deep.equal([]);
    const change = await executeAction(planned('patch', 'p', { data: { a: '2' } }), { client, current });
    expect(change).to.deep.include({ status: 'done', changed: true });
    expect(client.writes).to.have.length(1);
    expect((await adminGet('p')).data).to.deep.equal({ a: '2' });
  });

  it('a delete with a uid precondition leaves a re-created namesake alone', async () => {
    const original = await real.create(cm('victim'));
    await fx.admin.ok('DELETE', `/api/v1/namespaces/${fx.ns}/configmaps/victim`);
    const namesake = await real.create(cm('victim', { b: '2' }));
    const r = await executeAction(planned('delete', 'victim', null), { client, trigger: original });
    expect(r.status).to.equal('skipped-missing');
    expect(client.writes[0].options).to.deep.equal({ preconditions: { uid: original.metadata?.uid } });
    expect((await adminGet('victim')).metadata?.uid).to.equal(namesake.metadata?.uid);
    const own = await executeAction(planned('delete', 'victim', null), { client, trigger: namesake });
    expect(own.status).to.equal('done');
    const gone = await executeAction(planned('delete', 'victim', null), { client, trigger: namesake });
    expect(gone.status).to.equal('skipped-missing');
  });

  it('audit mode sends no write request', async () => {
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm('audited'));
    const results: ActionResult[] = [];
    for (const [action, body] of [
      ['apply', cm('new-one')],
      ['create', cm('new-two')],
      ['update', cm('audited', { a: 'x' })],
      ['patch', { data: { a: 'y' } }],
      ['delete', null],
      ['event', { type: 'Normal', reason: 'R', message: 'm' }],
    ] as const) {
      results.push(await executeAction(planned(action, 'audited', body), { client, mode: 'audit' }));
    }
    expect(results.map((r) => r.status)).to.deep.equal(['done', 'done', 'done', 'done', 'done', 'done']);
    expect(client.calls).to.deep.equal([]);
    expect((await adminGet('audited')).data).to.deep.equal({ a: '1' });
  });

  it('server dry-run sends dryRun=All and persists nothing', async () => {
    const r = await executeAction(planned('create', 'dry', cm('dry')), { client, dryRun: true });
    expect(r).to.deep.include({ status: 'done', dryRun: true });
    const status = await fx.admin.call('GET', `/api/v1/namespaces/${fx.ns}/configmaps/dry`);
    expect(status.status).to.equal(404);
  });

  it('update renders the rule against the fetched target and writes it', async () => {
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm('upd', { replicas: '3' }));
    const text = `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: zero }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  actions:
    - update:
        object: "{{ $target ~> |data|{'replicas': '0'}| }}"
`;
    const { rules } = loadRules([{ file: 'zero.yaml', text }]);
    const trigger = await real.get(cmRef('upd'));
    const [p] = await evaluate(rules[0], 'sync', trigger, undefined, { lister: { get: () => trigger, list: () => [] } });
    // Someone else writes first: the planned body is stale, the executor renders again against the fresh object.
    await fx.admin.ok('PATCH', `/api/v1/namespaces/${fx.ns}/configmaps/upd`, { data: { other: 'x' } }, 'application/merge-patch+json');
    const r = await executeAction(p, { client, renderUpdate });
    expect(r.status).to.equal('done');
    expect((await adminGet('upd')).data).to.deep.equal({ replicas: '0', other: 'x' });
    const again = await executeAction(p, { client, renderUpdate });
    expect(again.status).to.equal('skipped-noop');
  });

  it('an event is an events.k8s.io/v1 Event; a repeat counts in its series', async () => {
    const target = await real.create(cm('ev'));
    const p = planned('event', 'ev', { type: 'Warning', reason: 'Expired', message: 'ev expired' });
    const clock = new FakeClock(Date.now());
    const first = await executeAction(p, { client, trigger: target, clock });
    expect(first.status, String(first.cause)).to.equal('done');
    clock.advance(1000);
    const second = await executeAction(p, { client, trigger: target, clock });
    expect(second.status, String(second.cause)).to.equal('done');
    const list = await fx.admin.ok<{ items: Record<string, unknown>[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${fx.ns}/events`);
    const ours = list.items.filter((e) => e.reportingController === 'reflex.dev/reflex');
    expect(ours).to.have.length(1);
    expect(ours[0]).to.deep.include({ reason: 'Expired', note: 'ev expired', type: 'Warning' });
    expect((ours[0].regarding as { uid?: string }).uid).to.equal(target.metadata?.uid);
    expect((ours[0].series as { count: number }).count).to.equal(2);
  });
});
