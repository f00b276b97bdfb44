import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { evaluate, selects } from '../../src/engine/index.js';
import { clock, listerOf, pod, problems, ruleFrom, ruleText } from './helpers.js';

const multi = ruleText(
  'm',
  `watch:
  - { apiVersion: v1, kind: Pod, labelSelector: "app=web" }
  - { apiVersion: v1, kind: ConfigMap, namespaces: [team] }
  - { apiVersion: v1, kind: Namespace, namespaceSelector: "tier=dev" }
actions:
  - delete: {}`,
);
const cm = (name: string, namespace: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, uid: `uid-${name}` } });
const ns = (name: string, labels: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

describe('engine: a rule with a list of watches', () => {
  it('compiles each watch with its own selectors, in order', () => {
    const r = ruleFrom(multi);
    expect(r.watches.map((w) => [w.index, w.kind, w.labelSelector?.toString(), w.namespaces, w.namespaceSelector?.toString()])).to.deep.equal([
      [0, 'Pod', 'app=web', undefined, undefined],
      [1, 'ConfigMap', undefined, ['team'], undefined],
      [2, 'Namespace', undefined, undefined, 'tier=dev'],
    ]);
    expect(r.watch).to.equal(r.watches[0]);
  });

  it('selects an object of each watched kind by that watch\'s selectors only', async () => {
    const r = ruleFrom(multi);
    const ctx = { lister: listerOf([]) };
    expect(await selects(r, pod('a', { labels: { app: 'web' } }), ctx)).to.equal(true);
    expect(await selects(r, pod('b', { labels: { app: 'db' } }), ctx)).to.equal(false);
    expect(await selects(r, cm('c', 'team'), ctx)).to.equal(true);
    expect(await selects(r, cm('c', 'other'), ctx)).to.equal(false);
    expect(await selects(r, ns('dev-1', { tier: 'dev' }), ctx)).to.equal(true);
    expect(await selects(r, ns('prod', { tier: 'prod' }), ctx)).to.equal(false);
    expect(await selects(r, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'team' } }, ctx)).to.equal(false);
  });

  it('selects an object when any of two watches of its kind does', async () => {
    const r = ruleFrom(ruleText('two', 'watch:\n  - { apiVersion: v1, kind: Pod, labelSelector: "a=1" }\n  - { apiVersion: v1, kind: Pod, labelSelector: "b=1" }\nactions:\n  - delete: {}'));
    expect(await selects(r, pod('x', { labels: { b: '1' } }))).to.equal(true);
    expect(await selects(r, pod('y', { labels: { c: '1' } }))).to.equal(false);
  });

  it('defaults each action\'s target to the trigger, whatever its kind', async () => {
    const r = ruleFrom(multi);
    const ctx = { clock: clock(), lister: listerOf([]) };
    const [onCm] = await evaluate(r, 'sync', cm('c', 'team'), undefined, ctx);
    expect(onCm.target).to.deep.equal({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'team', name: 'c' });
    const [onNs] = await evaluate(r, 'sync', ns('dev-1', { tier: 'dev' }), undefined, ctx);
    expect(onNs.target).to.deep.equal({ apiVersion: 'v1', kind: 'Namespace', name: 'dev-1' });
  });

  it('reports problems of a watch in a list at its own position', () => {
    const text = ruleText('p', 'watch:\n  - { apiVersion: v1, kind: Pod }\n  - { apiVersion: v1, kind: ConfigMap, labelSelectr: a, fieldSelector: "x~y" }\nactions:\n  - delete: {}');
    expect(problems(text)).to.deep.equal([
      'rule.yaml:8:42: rule "p" (document 1): spec.watch[1]: unknown field "labelSelectr"; expected one of apiVersion, kind, namespaces, namespaceSelector, labelSelector, fieldSelector',
      'rule.yaml:8:75: rule "p" (document 1): spec.watch[1].fieldSelector: invalid field requirement "x~y": expected FIELD=VALUE, FIELD==VALUE or FIELD!=VALUE',
    ]);
  });

  it('rejects an empty list and a watch that is neither a mapping nor a list', () => {
    expect(problems(ruleText('e', 'watch: []\nactions:\n  - delete: {}'))).to.deep.equal(['rule.yaml:6:10: rule "e" (document 1): spec.watch: expected at least 1 item; got none']);
    expect(problems(ruleText('e', 'watch: Pod\nactions:\n  - delete: {}'))).to.deep.equal(['rule.yaml:6:10: rule "e" (document 1): spec.watch: expected a mapping or a list; got "Pod"']);
  });
});
