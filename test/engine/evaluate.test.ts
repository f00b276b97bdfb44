import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { evaluate, renderUpdate, sortPlan, type PlannedAction } from '../../src/engine/index.js';
import { clock, listerOf, pod, ruleFrom, ruleText } from './helpers.js';

const podRule = (name: string, rest: string) => ruleFrom(ruleText(name, `watch: { apiVersion: v1, kind: Pod }\n${rest}`));
const trigger = (name: string, event = 'sync', namespace = 'default') => ({ apiVersion: 'v1', kind: 'Pod', namespace, name, event });
const target = (name: string, namespace = 'default') => ({ apiVersion: 'v1', kind: 'Pod', namespace, name });
const stamps = (rule: string) => ({ labels: { 'app.kubernetes.io/managed-by': 'reflex' }, annotations: { 'reflex.dev/rule': rule } });

describe('engine/evaluate: the planned shape of every action', () => {
  const ctx = () => ({ clock: clock(), lister: listerOf([pod('p'), pod('cm-holder')]) });

  it('apply: the rendered object, stamped, its own identity as target, force in options', async () => {
    const r = podRule('a', 'actions:\n  - apply:\n      force: true\n      object: { apiVersion: v1, kind: ConfigMap, metadata: { name: "{{ metadata.name }}-cfg", namespace: "{{ metadata.namespace }}" }, data: { n: "{{ $string(1) }}" } }');
    expect(await evaluate(r, 'sync', pod('p'), undefined, ctx())).to.deep.equal([
      {
        rule: 'a',
        trigger: trigger('p'),
        action: 'apply',
        target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'p-cfg' },
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'p-cfg', namespace: 'default', ...stamps('a') }, data: { n: '1' } },
        options: { force: true },
      },
    ]);
  });

  it('create: ifExists in options; a cluster-scoped object has no namespace key', async () => {
    const r = podRule('c', 'actions:\n  - create:\n      ifExists: fail\n      object: { apiVersion: v1, kind: Namespace, metadata: { name: "ns-{{ metadata.name }}" } }');
    const [p] = await evaluate(r, 'create', pod('p'), undefined, ctx());
    expect(p.target).to.deep.equal({ apiVersion: 'v1', kind: 'Namespace', name: 'ns-p' });
    expect(p.body).to.deep.equal({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns-p', ...stamps('c') } });
    expect(p.options).to.deep.equal({ ifExists: 'fail' });
    expect(p.trigger.event).to.equal('create');
  });

  it('update: the object rendered with $target = the cached target', async () => {
    const r = podRule('u', 'actions:\n  - update:\n      target: { name: cm-holder }\n      object: "{{ $target ~> |metadata|{\'labels\': {\'seen\': \'yes\'}}| }}"');
    const [p] = await evaluate(r, 'sync', pod('p'), undefined, ctx());
    expect(p).to.deep.equal({
      rule: 'u',
      trigger: trigger('p'),
      action: 'update',
      target: target('cm-holder'),
      body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cm-holder', namespace: 'default', uid: 'uid-cm-holder', labels: { seen: 'yes' } } },
      options: {},
    });
    const fresher: KubeObject = { ...pod('cm-holder'), metadata: { ...pod('cm-holder').metadata, resourceVersion: '9' } };
    expect((await renderUpdate(p, fresher)).metadata).to.deep.equal({ name: 'cm-holder', namespace: 'default', uid: 'uid-cm-holder', labels: { seen: 'yes' }, resourceVersion: '9' });
  });

  it('update of a target that is not cached plans a null body', async () => {
    const r = podRule('u2', 'actions:\n  - update:\n      target: { name: nowhere }\n      object: "{{ $target }}"');
    expect((await evaluate(r, 'sync', pod('p'), undefined, ctx()))[0].body).to.equal(null);
  });

  it('patch: the rendered patch as body, type, subresource and ignoreMissing in options', async () => {
    const r = podRule('p', 'actions:\n  - patch:\n      type: json\n      subresource: status\n      ignoreMissing: true\n      patch: [{ op: add, path: /status/x, value: "{{ $event }}" }]');
    expect(await evaluate(r, 'resync', pod('p'), undefined, ctx())).to.deep.equal([
      {
        rule: 'p',
        trigger: trigger('p', 'resync'),
        action: 'patch',
        target: target('p'),
        body: [{ op: 'add', path: '/status/x', value: 'resync' }],
        options: { type: 'json', subresource: 'status', ignoreMissing: true },
      },
    ]);
  });

  it('delete: a null body; options as written (defaults are the executor\'s)', async () => {
    const r = podRule('d', 'on: [delete, sync]\nactions:\n  - delete: { propagationPolicy: Orphan, gracePeriodSeconds: "{{ 3 * 10 }}", ignoreMissing: false }\n  - delete:');
    expect(await evaluate(r, 'sync', pod('p'), undefined, ctx())).to.deep.equal([
      { rule: 'd', trigger: trigger('p'), action: 'delete', target: target('p'), body: null, options: { propagationPolicy: 'Orphan', gracePeriodSeconds: 30, ignoreMissing: false } },
      { rule: 'd', trigger: trigger('p'), action: 'delete', target: target('p'), body: null, options: {} },
    ]);
  });

  it('event: type (default Normal), reason and message as body; target templated', async () => {
    const r = podRule('e', 'actions:\n  - event: { reason: Seen, message: "saw {{ metadata.name }}" }\n  - event: { type: Warning, target: { apiVersion: v1, kind: Namespace, name: "{{ metadata.namespace }}" }, reason: R, message: m }');
    const plan = await evaluate(r, 'sync', pod('p'), undefined, { ...ctx(), scopeOf: () => 'Cluster' as const });
    expect(plan.map((p) => [p.target, p.body])).to.deep.equal([
      [target('p'), { type: 'Normal', reason: 'Seen', message: 'saw p' }],
      [{ apiVersion: 'v1', kind: 'Namespace', name: 'default' }, { type: 'Warning', reason: 'R', message: 'm' }],
    ]);
  });

  it('log: the message as body, level in options, the trigger as target', async () => {
    const r = podRule('l', 'actions:\n  - log: { level: warn, message: "{{ metadata.name }} at {{ $now() }}" }');
    expect(await evaluate(r, 'sync', pod('p'), undefined, ctx())).to.deep.equal([
      { rule: 'l', trigger: trigger('p'), action: 'log', target: target('p'), body: 'p at 2026-03-10T12:00:00.000Z', options: { level: 'warn' } },
    ]);
  });

  it('webhook: the request as body (method defaults to POST), timeout in options', async () => {
    const r = podRule('w', 'actions:\n  - webhook: { url: "https://hooks.example.com/{{ metadata.name }}", headers: { x-a: b }, body: { pod: "{{ metadata.name }}", n: "{{ 2 }}" }, timeout: 3s }');
    expect((await evaluate(r, 'sync', pod('p'), undefined, ctx()))[0]).to.deep.equal({
      rule: 'w',
      trigger: trigger('p'),
      action: 'webhook',
      target: target('p'),
      body: { method: 'POST', url: 'https://hooks.example.com/p', headers: { 'x-a': 'b' }, body: { pod: 'p', n: 2 } },
      options: { timeout: '3s' },
    });
  });

  it('serialises keys in the documented order', async () => {
    const r = podRule('k', 'actions:\n  - delete: {}');
    const [p] = await evaluate(r, 'sync', pod('p'), undefined, ctx());
    expect(JSON.stringify(p)).to.equal(
      '{"rule":"k","trigger":{"apiVersion":"v1","kind":"Pod","namespace":"default","name":"p","event":"sync"},"action":"delete","target":{"apiVersion":"v1","kind":"Pod","namespace":"default","name":"p"},"body":null,"options":{}}',
    );
  });
});

describe('engine/evaluate: rule fields', () => {
  const plan = (r: ReturnType<typeof podRule>, obj: KubeObject, event: 'sync' | 'update' | 'delete' | 'schedule' = 'sync', old?: KubeObject, objects: KubeObject[] = []) =>
    evaluate(r, event, obj, old, { clock: clock(), lister: listerOf(objects) }).then((p) => p.length);

  it('a suspended rule plans nothing', async () => {
    expect(await plan(podRule('s', 'suspend: true\nactions:\n  - delete: {}'), pod('p'))).to.equal(0);
  });

  it('only the events in `on` are seen', async () => {
    const r = podRule('o', 'on: [delete]\nactions:\n  - log: { message: "gone: {{ $event }}" }');
    expect(await plan(r, pod('p'), 'sync')).to.equal(0);
    expect(await plan(r, pod('p'), 'delete')).to.equal(1);
  });

  it('watch: kind, namespaces, labelSelector and fieldSelector select locally', async () => {
    const r = podRule('w', 'actions:\n  - delete: {}'.replace('actions', 'actions'));
    expect(await plan(r, { ...pod('p'), kind: 'Service' })).to.equal(0);
    const scoped = ruleFrom(ruleText('n', 'watch: { apiVersion: v1, kind: Pod, namespaces: [a], labelSelector: "app=x", fieldSelector: "spec.nodeName=n1" }\nactions:\n  - delete: {}'));
    const p = (ns: string, labels: Record<string, string>, node: string) => ({ ...pod('p', { namespace: ns, labels }), spec: { nodeName: node } });
    expect(await plan(scoped, p('a', { app: 'x' }, 'n1'))).to.equal(1);
    expect(await plan(scoped, p('b', { app: 'x' }, 'n1'))).to.equal(0);
    expect(await plan(scoped, p('a', { app: 'y' }, 'n1'))).to.equal(0);
    expect(await plan(scoped, p('a', { app: 'x' }, 'n2'))).to.equal(0);
  });

  it('namespaceSelector reads the Namespace from the lister', async () => {
    const r = ruleFrom(ruleText('ns', 'watch: { apiVersion: v1, kind: Pod, namespaceSelector: { matchLabels: { env: dev } } }\nactions:\n  - delete: {}'));
    const nss = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'd', labels: { env: 'dev' } } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'p', labels: { env: 'prod' } } },
    ];
    expect(await plan(r, pod('x', { namespace: 'd' }), 'sync', undefined, nss)).to.equal(1);
    expect(await plan(r, pod('x', { namespace: 'p' }), 'sync', undefined, nss)).to.equal(0);
    expect(await plan(r, pod('x', { namespace: 'unknown' }), 'sync', undefined, nss)).to.equal(0);
  });

  it('changes: an update fires only when the projection changed', async () => {
    const r = podRule('ch', 'changes: metadata.labels\nactions:\n  - delete: {}');
    const before = pod('p', { labels: { a: '1' } });
    expect(await plan(r, { ...before, status: { phase: 'Running' } }, 'update', before)).to.equal(0);
    expect(await plan(r, pod('p', { labels: { a: '2' } }), 'update', before)).to.equal(1);
    expect(await plan(r, before, 'sync', before)).to.equal(1);
  });

  it('when: truthy runs the actions; $old and $event are bound', async () => {
    const r = podRule('wh', 'when: "$event = \'update\' and $old.metadata.labels.v != metadata.labels.v"\nactions:\n  - delete: {}');
    expect(await plan(r, pod('p', { labels: { v: '2' } }), 'update', pod('p', { labels: { v: '1' } }))).to.equal(1);
    expect(await plan(r, pod('p', { labels: { v: '1' } }), 'update', pod('p', { labels: { v: '1' } }))).to.equal(0);
    expect(await plan(podRule('wf', 'when: false\nactions:\n  - delete: {}'), pod('p'))).to.equal(0);
  });

  it('$rule holds the metadata and mode of the rule', async () => {
    const r = podRule('meta', 'mode: audit\ndescription: d\nactions:\n  - log: { message: "{{ $rule.name }}/{{ $rule.mode }}/{{ $rule.description }}" }');
    expect((await evaluate(r, 'sync', pod('p'), undefined, {}))[0].body).to.equal('meta/audit/d');
  });
});

describe('engine/evaluate: templates and forEach', () => {
  it('a lone expression keeps its type; mixed text interpolates; undefined drops the field', async () => {
    const r = podRule('t', 'actions:\n  - patch:\n      patch: { n: "{{ 1 + 1 }}", b: "{{ true }}", o: "{{ metadata.labels }}", s: "n={{ 1 + 1 }} o={{ metadata.labels }}", gone: "{{ nothing.here }}", list: ["{{ 1 }}", "{{ nothing }}", x] }');
    const [p] = await evaluate(r, 'sync', pod('p', { labels: { a: 'b' } }), undefined, {});
    expect(p.body).to.deep.equal({ n: 2, b: true, o: { a: 'b' }, s: 'n=2 o={"a":"b"}', list: [1, 'x'] });
  });

  it('a "}}" inside a JSONata string or object does not end the expression', async () => {
    const r = podRule('t2', 'actions:\n  - log: { message: "{{ \'}}\' & $string({\'a\': {\'b\': 1}}) }}" }');
    expect((await evaluate(r, 'sync', pod('p'), undefined, {}))[0].body).to.equal('}}{"a":{"b":1}}');
  });

  it('forEach repeats an action for every element, bound to $item; the target namespace follows the scope', async () => {
    const r = podRule('fe', 'actions:\n  - forEach: "{{ $list(\'v1\', \'ConfigMap\', metadata.namespace) }}"\n    delete: { target: { apiVersion: v1, kind: ConfigMap, name: "{{ $item.metadata.name }}" } }\n  - log: { message: done }');
    const cms = ['x', 'y'].map((n) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n, namespace: 'default' } }));
    const plan = await evaluate(r, 'sync', pod('p'), undefined, { lister: listerOf(cms), scopeOf: () => 'Namespaced' as const });
    expect(plan.map((p) => [p.action, p.target])).to.deep.equal([
      ['delete', { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'x' }],
      ['delete', { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'y' }],
      ['log', target('p')],
    ]);
  });

  it('forEach over nothing plans nothing; over a single value plans once', async () => {
    const none = podRule('fe0', 'actions:\n  - forEach: "{{ nothing }}"\n    log: { message: "{{ $item }}" }');
    expect(await evaluate(none, 'sync', pod('p'), undefined, {})).to.deep.equal([]);
    const one = podRule('fe1', 'actions:\n  - forEach: "{{ \'only\' }}"\n    log: { message: "{{ $item }}" }');
    expect((await evaluate(one, 'sync', pod('p'), undefined, {})).map((p) => p.body)).to.deep.equal(['only']);
  });
});

describe('engine/sortPlan', () => {
  it('sorts by rule name, then trigger namespace/name, keeping action order', () => {
    const p = (rule: string, ns: string, name: string, action: PlannedAction['action']): PlannedAction => ({
      rule,
      trigger: { ...target(name, ns), event: 'sync' },
      action,
      target: target(name, ns),
      body: null,
      options: {},
    });
    const sorted = sortPlan([p('b', 'a', 'x', 'delete'), p('a', 'z', 'x', 'log'), p('a', 'a', 'y', 'patch'), p('a', 'a', 'y', 'delete'), p('a', 'a', 'x', 'event')]);
    expect(sorted.map((s) => `${s.rule} ${s.trigger.namespace}/${s.trigger.name} ${s.action}`)).to.deep.equal([
      'a a/x event',
      'a a/y patch',
      'a a/y delete',
      'a z/x log',
      'b a/x delete',
    ]);
  });
});

describe('engine/rejects (deciding "no plan" without JSONata)', () => {
  it('is true only when the fast path decides `when` false on the object', async () => {
    const { loadRules, rejects } = await import('../../src/engine/index.js');
    const rule = (when: string) =>
      loadRules([{ file: 'r.yaml', text: `apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata: { name: r }\nspec:\n  watch: { apiVersion: v1, kind: ConfigMap }\n  when: ${JSON.stringify(when)}\n  actions:\n    - log: { message: hi }\n` }]).rules[0];
    const on = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', labels: { flag: 'on' } } };
    const off = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } };
    expect(rejects(rule("metadata.labels.flag = 'on'"), off)).to.equal(true);
    expect(rejects(rule("metadata.labels.flag = 'on'"), on)).to.equal(false);
    expect(rejects(rule("metadata.labels.flag = 'on' and $count(data) > 1"), off)).to.equal(true);
    expect(rejects(rule("metadata.labels.flag = 'on' and $count(data) > 1"), on), 'undecided: JSONata must tell').to.equal(false);
    expect(rejects(rule('$count(data) > 1'), off), 'outside the fast path').to.equal(false);
  });
});
