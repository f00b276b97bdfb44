import { expect } from 'chai';
import { DaemonProcess } from '../support/daemon-process.js';
import { useCluster, type ClusterFixture } from '../support/cluster.js';
import { kubectlApply, metricValue, ruleConfigMap, testConfig } from './daemon-support.js';

type ConfigMap = { metadata: { name: string; uid: string; resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> } };
type Event = { reason: string; note: string; type: string; regarding: { name: string } };

/**
 * One case: a rule (on ConfigMaps labelled `case=<name>`) whose action takes a value from the
 * object's annotation `v`, and the value that renders to the wrong type.
 */
interface Case {
  name: string;
  action: string;
  bad: string;
  /** The field the failure names. */
  field: string;
}

const CASES: Case[] = [
  // Annotations are text: digits are made a number, anything else is passed on as it is.
  { name: 'grace', action: 'delete: {gracePeriodSeconds: "{{ $contains(metadata.annotations.v, /^[0-9]+$/) ? $number(metadata.annotations.v) : metadata.annotations.v }}"}', bad: 'soon', field: 'actions[0].delete.gracePeriodSeconds' },
  { name: 'force', action: 'apply: {force: "{{ metadata.annotations.v }}", object: {apiVersion: v1, kind: ConfigMap, metadata: {name: "{{ metadata.name }}-copy", namespace: "{{ metadata.namespace }}"}}}', bad: 'yes', field: 'actions[0].apply.force' },
  { name: 'ignore', action: 'delete: {ignoreMissing: "{{ metadata.annotations.v }}"}', bad: 'false', field: 'actions[0].delete.ignoreMissing' },
  { name: 'reason', action: `event: {reason: "{{ $split(metadata.annotations.v, ',') }}", message: hello}`, bad: '1,2', field: 'actions[0].event.reason' },
  { name: 'note', action: 'event: {reason: Seen, message: "{{ metadata.annotations }}"}', bad: 'x', field: 'actions[0].event.message' },
  { name: 'body', action: 'patch: {patch: "{{ $number(metadata.annotations.v) }}"}', bad: '42', field: 'actions[0].patch.patch' },
];

const ruleOf = (c: Case, ns: string) => `apiVersion: reflex.dev/v1alpha1
kind: ClusterRule
metadata: {name: rendered-${c.name}}
spec:
  watch: {apiVersion: v1, kind: ConfigMap, namespaces: [${ns}], labelSelector: "case=${c.name}"}
  actions:
    - ${c.action}
`;

describe('rendered values of the wrong type (reflex run against the control plane)', function () {
  this.timeout(180_000);
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && daemon) {
      console.log((await daemon.get('/metrics', 'metrics')).text.split('\n').filter((l) => l.startsWith('reflex_rule_failures_total') || l.startsWith('reflex_rules_loaded')).join('\n'));
      console.log(daemon.lastLines(30));
    }
    await daemon?.stop();
    daemon = undefined;
  });

  const cmPath = (name = '') => `/api/v1/namespaces/${fx.ns}/configmaps${name ? `/${name}` : ''}`;
  const getCm = async (name: string) => {
    const r = await fx.admin.call<ConfigMap>('GET', cmPath(name));
    return r.status === 200 ? r.body : undefined;
  };
  const events = async () => (await fx.admin.ok<{ items: Event[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${fx.ns}/events`)).items;
  const create = (fxc: ClusterFixture, name: string, label: string, v: string) =>
    fxc.admin.ok<ConfigMap>('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { case: label }, annotations: { v } }, data: { a: 'b' } });

  it('fails each action terminally with one Warning Event naming rule, action and field, and leaves every object untouched', async () => {
    const before = new Map<string, ConfigMap>();
    for (const c of CASES) before.set(c.name, await create(fx, `bad-${c.name}`, c.name, c.bad));
    // A control: the same delete with a good value does delete, so an untouched object means the check held it.
    await create(fx, 'good-grace', 'grace', '0');
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rendered-rules', CASES.map((c) => ruleOf(c, fx.ns)).join('---\n')));
    daemon = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns)], readyTimeoutMs: 60_000 });

    // The positive signal: a terminal InvalidValue failure counted for every rule.
    await fx.admin.eventually(async () => {
      const text = (await daemon!.get('/metrics', 'metrics')).text;
      return CASES.every((c) => (metricValue(text, 'reflex_rule_failures_total', `rule="rendered-${c.name}",outcome="terminal",reason="InvalidValue"`) ?? 0) >= 1) || undefined;
    }, 60_000, 'a terminal InvalidValue failure of every rule');
    const counted = (await daemon.get('/metrics', 'metrics')).text;
    await fx.admin.eventually(async () => (await getCm('good-grace')) === undefined || undefined, 30_000, 'the control object to be deleted');

    const warnings = await fx.admin.eventually(async () => {
      const all = (await events()).filter((e) => e.reason === 'ReflexActionFailed');
      return CASES.every((c) => all.some((e) => e.regarding.name === `bad-${c.name}`)) ? all : undefined;
    }, 30_000, 'a ReflexActionFailed Warning Event about every object');
    for (const c of CASES) {
      const mine = warnings.filter((e) => e.regarding.name === `bad-${c.name}`);
      expect(mine, c.name).to.have.length(1);
      expect(mine[0].type).to.equal('Warning');
      expect(mine[0].note).to.contain(`rule rendered-${c.name}: rule "rendered-${c.name}": ${c.field}: expected `).and.contain('nothing was sent').and.not.contain('\n');
    }

    // Untouched: every object still there, unchanged; no copy applied; no Event from the rules themselves.
    for (const c of CASES) {
      const now = await getCm(`bad-${c.name}`);
      expect(now, `bad-${c.name} still exists`).to.not.equal(undefined);
      expect(now!.metadata.resourceVersion, `bad-${c.name} unchanged`).to.equal(before.get(c.name)!.metadata.resourceVersion);
    }
    expect(await getCm('bad-force-copy')).to.equal(undefined);
    const written = (await events()).filter((e) => e.reason !== 'ReflexActionFailed' && e.regarding.name.startsWith('bad-'));
    expect(written.map((e) => `${e.reason}: ${e.note}`)).to.deep.equal([]);
    // Not retried: with the default 5 ms base delay a retried key would have counted many more failures by now.
    await new Promise((r) => setTimeout(r, 1500));
    const later = (await daemon.get('/metrics', 'metrics')).text;
    for (const c of CASES) {
      const fragment = `rule="rendered-${c.name}",outcome="terminal",reason="InvalidValue"`;
      expect(metricValue(later, 'reflex_rule_failures_total', fragment), c.name).to.equal(metricValue(counted, 'reflex_rule_failures_total', fragment));
    }
  });

  it('tries a failed action again when the object changes, and then acts', async () => {
    const bad = await create(fx, 'fix-me', 'grace', 'soon');
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rendered-rules', ruleOf(CASES[0], fx.ns)));
    daemon = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns)], readyTimeoutMs: 60_000 });
    await fx.admin.eventually(async () => {
      const text = (await daemon!.get('/metrics', 'metrics')).text;
      return metricValue(text, 'reflex_rule_failures_total', 'rule="rendered-grace",outcome="terminal",reason="InvalidValue"') === 1 || undefined;
    }, 60_000, 'the terminal failure');
    expect((await getCm('fix-me'))?.metadata.uid).to.equal(bad.metadata.uid);
    await fx.admin.ok('PATCH', cmPath('fix-me'), { metadata: { annotations: { v: '0' } } }, 'application/merge-patch+json');
    await fx.admin.eventually(async () => (await getCm('fix-me')) === undefined || undefined, 30_000, 'the fixed object to be deleted');
  });
});
