import { expect } from 'chai';
import { evaluate, RenderedValueError, RENDERED_VALUE_ERROR, type PlannedAction } from '../../src/engine/index.js';
import { classify } from '../../src/daemon/outcome.js';
import { clock, listerOf, pod, problems, ruleFrom, ruleText } from './helpers.js';

/** A rule on Pods with one action (YAML flow mapping, under `actions:`), e.g. `delete: {gracePeriodSeconds: "{{ spec.v }}"}`. */
const ruleWith = (action: string, name = 'r') => ruleFrom(ruleText(name, `watch: { apiVersion: v1, kind: Pod }\nactions:\n  - ${action}`));
/** A Pod whose `spec.v` is `v` (what `{{ spec.v }}` renders to). */
const podWith = (v: unknown) => pod('p', { spec: { v } as never });
const ctx = () => ({ clock: clock(), lister: listerOf([pod('p'), pod('holder')]) });

async function failure(action: string, v: unknown): Promise<RenderedValueError> {
  try {
    const plan = await evaluate(ruleWith(action), 'sync', podWith(v), undefined, ctx());
    throw new Error(`expected a RenderedValueError, got a plan: ${JSON.stringify(plan)}`);
  } catch (err) {
    if (!(err instanceof RenderedValueError)) throw err;
    return err;
  }
}

describe('engine/rendered-check: rendered values of the wrong type fail the action, before anything is planned', () => {
  // [action, value of spec.v, field named, what it expects]
  const wrong: [string, unknown, string, string][] = [
    ['delete: { gracePeriodSeconds: "{{ spec.v }}" }', 'soon', 'actions[0].delete.gracePeriodSeconds', 'expected an integer >= 0; {{ spec.v }} rendered "soon"'],
    ['delete: { gracePeriodSeconds: "{{ spec.v }}" }', -1, 'actions[0].delete.gracePeriodSeconds', 'expected an integer >= 0'],
    ['delete: { gracePeriodSeconds: "{{ spec.v }}" }', 1.5, 'actions[0].delete.gracePeriodSeconds', 'expected an integer >= 0'],
    ['delete: { gracePeriodSeconds: "{{ spec.v }}" }', '30', 'actions[0].delete.gracePeriodSeconds', 'rendered "30"'],
    ['delete: { ignoreMissing: "{{ spec.v }}" }', 'false', 'actions[0].delete.ignoreMissing', 'expected a boolean; {{ spec.v }} rendered "false"'],
    ['apply: { force: "{{ spec.v }}", object: { apiVersion: v1, kind: ConfigMap, metadata: { name: x, namespace: default } } }', 'yes', 'actions[0].apply.force', 'expected a boolean'],
    ['patch: { ignoreMissing: "{{ spec.v }}", patch: { a: 1 } }', 'false', 'actions[0].patch.ignoreMissing', 'expected a boolean'],
    ['patch: { patch: "{{ spec.v }}" }', 42, 'actions[0].patch.patch', 'expected a mapping or a list (json patch); {{ spec.v }} rendered 42'],
    ['patch: { patch: "{{ spec.v }}" }', 'text', 'actions[0].patch.patch', 'expected a mapping or a list'],
    ['patch: { patch: "{{ spec.v }}" }', [{ op: 'add', path: '/a', value: 1 }], 'actions[0].patch.patch', 'a list needs type: json'],
    ['patch: { type: json, patch: "{{ spec.v }}" }', { a: 1 }, 'actions[0].patch.patch', 'expected a list of JSON patch operations'],
    ['patch: { subresource: "{{ spec.v }}", patch: { a: 1 } }', 5, 'actions[0].patch.subresource', 'expected text'],
    ['patch: { target: { name: "{{ spec.v }}" }, patch: { a: 1 } }', 7, 'actions[0].patch.target.name', 'expected non-empty text'],
    ['patch: { target: { name: "{{ spec.v }}" }, patch: { a: 1 } }', '', 'actions[0].patch.target.name', 'expected non-empty text'],
    ['delete: { target: { kind: ConfigMap, name: x, namespace: "{{ spec.v }}" } }', { a: 1 }, 'actions[0].delete.target.namespace', 'expected text'],
    ['event: { reason: "{{ spec.v }}", message: hello }', [1, 2], 'actions[0].event.reason', 'expected text; {{ spec.v }} rendered [1,2]'],
    ['event: { reason: Seen, message: "{{ spec.v }}" }', { a: 1 }, 'actions[0].event.message', 'expected text; {{ spec.v }} rendered {"a":1}'],
    ['event: { reason: "{{ spec.missing }}", message: hello }', 1, 'actions[0].event.reason', 'expected text; {{ spec.missing }} rendered nothing'],
    ['log: { message: "{{ spec.v }}" }', { a: 1 }, 'actions[0].log.message', 'expected text'],
    ['apply: { object: "{{ spec.v }}" }', 'x', 'actions[0].apply.object', 'expected a mapping'],
    ['apply: { object: "{{ spec.v }}" }', { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }, 'actions[0].apply.object.metadata.name', 'expected non-empty text'],
    ['create: { object: "{{ spec.v }}" }', { kind: 'ConfigMap', metadata: { name: 'x' } }, 'actions[0].create.object.apiVersion', 'expected non-empty text'],
    ['update: { target: { name: holder }, object: "{{ spec.v }}" }', 'x', 'actions[0].update.object', 'expected a mapping'],
    ['webhook: { url: "{{ spec.v }}" }', 5, 'actions[0].webhook.url', 'expected text'],
    ['webhook: { url: "https://h.example", headers: "{{ spec.v }}" }', { 'x-a': 1 }, 'actions[0].webhook.headers.x-a', 'expected text'],
    ['webhook: { url: "https://h.example", headers: "{{ spec.v }}" }', 'x', 'actions[0].webhook.headers', 'expected a mapping of strings'],
  ];
  for (const [action, v, where, expected] of wrong) {
    it(`${action} with ${JSON.stringify(v)}: ${where} fails`, async () => {
      const err = await failure(action, v);
      expect(err.code).to.equal(RENDERED_VALUE_ERROR);
      expect(err.where).to.equal(where);
      expect(err.actionWhere).to.equal(where.split('.').slice(0, 2).join('.'));
      expect(err.message).to.contain(`rule "r": ${where}: `).and.contain(expected).and.match(/; nothing was sent$/);
    });
  }

  it('fails a forEach action on the first item that renders wrong', async () => {
    const rule = ruleWith('delete: { gracePeriodSeconds: "{{ $item }}" }\n    forEach: "{{ [1, \'x\'] }}"');
    const err = await evaluate(rule, 'sync', pod('p'), undefined, ctx()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RenderedValueError);
    expect((err as Error).message).to.contain('rendered "x"');
  });

  it('fails the whole evaluation when a later action is wrong: nothing of the rule is planned', async () => {
    const rule = ruleFrom(ruleText('two', 'watch: { apiVersion: v1, kind: Pod }\nactions:\n  - patch: { patch: { a: 1 } }\n  - delete: { gracePeriodSeconds: "{{ spec.v }}" }'));
    const err = await evaluate(rule, 'sync', podWith('soon'), undefined, ctx()).catch((e: unknown) => e);
    expect((err as RenderedValueError).where).to.equal('actions[1].delete.gracePeriodSeconds');
  });

  it('hides the value of a rule that reads Secrets', async () => {
    const rule = ruleFrom(ruleText('s', 'watch: { apiVersion: v1, kind: Secret }\nactions:\n  - delete: { gracePeriodSeconds: "{{ data.token }}" }'));
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, data: { token: 'c2VjcmV0' } };
    const err = (await evaluate(rule, 'sync', secret, undefined, ctx()).catch((e: unknown) => e)) as Error;
    expect(err).to.be.instanceOf(RenderedValueError);
    expect(err.message).to.not.contain('c2VjcmV0');
    expect(err.message).to.contain('rendered text (value hidden: the rule reads Secrets)');
  });

  it('is a terminal failure of the action for the daemon (reason InvalidValue), not retried', async () => {
    const err = await failure('delete: { gracePeriodSeconds: "{{ spec.v }}" }', 'soon');
    expect(classify(err)).to.deep.include({ kind: 'terminal' });
    expect(classify(err).failure).to.include({ reason: 'InvalidValue', action: 'delete' });
  });

  // [action, value of spec.v, the planned options or body part checked]
  const valid: [string, unknown, (p: PlannedAction) => unknown, unknown][] = [
    ['delete: { gracePeriodSeconds: 0 }', 1, (p) => p.options, { gracePeriodSeconds: 0 }],
    ['delete: { gracePeriodSeconds: "{{ spec.v }}" }', 30, (p) => p.options, { gracePeriodSeconds: 30 }],
    ['delete: { gracePeriodSeconds: "{{ $number(spec.v) }}" }', '5', (p) => p.options, { gracePeriodSeconds: 5 }],
    ['delete: { gracePeriodSeconds: "{{ spec.missing }}" }', 1, (p) => p.options, {}],
    ['delete: { ignoreMissing: "{{ spec.v }}" }', false, (p) => p.options, { ignoreMissing: false }],
    ['delete: { ignoreMissing: "{{ spec.v = \'true\' }}" }', 'false', (p) => p.options, { ignoreMissing: false }],
    ['delete:', 1, (p) => p.options, {}],
    ['apply: { force: "{{ spec.v }}", object: { apiVersion: v1, kind: ConfigMap, metadata: { name: x, namespace: default } } }', true, (p) => p.options, { force: true }],
    ['patch: { patch: "{{ spec.v }}" }', { metadata: { labels: { a: 'b' } } }, (p) => p.body, { metadata: { labels: { a: 'b' } } }],
    ['patch: { type: json, patch: "{{ spec.v }}" }', [{ op: 'add', path: '/a', value: 1 }], (p) => p.body, [{ op: 'add', path: '/a', value: 1 }]],
    ['patch: { patch: { metadata: { labels: { n: "{{ spec.v }}" } } } }', 3, (p) => p.body, { metadata: { labels: { n: 3 } } }],
    ['event: { reason: "Seen{{ spec.v }}", message: "{{ spec.v }} seen" }', 5, (p) => p.body, { type: 'Normal', reason: 'Seen5', message: '5 seen' }],
    ['event: { type: Warning, reason: "{{ spec.v }}", message: "{{ metadata.name }}" }', 'Odd', (p) => p.body, { type: 'Warning', reason: 'Odd', message: 'p' }],
    ['log: { message: "{{ spec.v }}" }', 'text', (p) => p.body, 'text'],
    ['webhook: { url: "https://h.example/{{ spec.v }}", timeout: 1500, body: "{{ spec.v }}" }', 42, (p) => [p.body, p.options], [{ method: 'POST', url: 'https://h.example/42', body: 42 }, { timeout: 1500 }]],
    ['update: { target: { name: gone }, object: "{{ spec.v }}" }', 'x', (p) => p.body, null],
  ];
  for (const [action, v, part, expected] of valid) {
    it(`plans ${action} with ${JSON.stringify(v)}`, async () => {
      const [p] = await evaluate(ruleWith(action), 'sync', podWith(v), undefined, ctx());
      expect(part(p)).to.deep.equal(expected);
    });
  }
});

describe('engine/rendered-check at load time: what a template is sure to render is checked where it is written', () => {
  const at = (action: string) => problems(ruleText('r', `watch: { apiVersion: v1, kind: Pod }\nactions:\n  - ${action}`));
  // Line 8 is the action's line (5 header lines, watch, actions:); the column is the value's.
  const wrong: [string, string][] = [
    ['delete: { gracePeriodSeconds: "{{ \'soon\' }}" }', 'rule.yaml:8:37: rule "r" (document 1): spec.actions[0].delete.gracePeriodSeconds: expected an integer >= 0; the template always renders "soon"'],
    ['delete: { gracePeriodSeconds: "{{ -1 }}" }', 'rule.yaml:8:37: rule "r" (document 1): spec.actions[0].delete.gracePeriodSeconds: expected an integer >= 0; the template always renders -1'],
    ['apply: { force: "{{ \'yes\' }}", object: { apiVersion: v1, kind: ConfigMap, metadata: { name: x } } }', 'rule.yaml:8:23: rule "r" (document 1): spec.actions[0].apply.force: expected a boolean; the template always renders "yes"'],
    ['delete: { ignoreMissing: "{{ \'false\' }}" }', 'rule.yaml:8:32: rule "r" (document 1): spec.actions[0].delete.ignoreMissing: expected a boolean; the template always renders "false"'],
    ['event: { reason: "{{ [1, 2] }}", message: hi }', 'rule.yaml:8:24: rule "r" (document 1): spec.actions[0].event.reason: expected text; the template always renders [1,2]'],
    ['event: { reason: R, message: "{{ {\'a\': 1} }}" }', 'rule.yaml:8:36: rule "r" (document 1): spec.actions[0].event.message: expected text; the template always renders {"a":1}'],
    ['patch: { patch: "{{ 42 }}" }', 'rule.yaml:8:23: rule "r" (document 1): spec.actions[0].patch.patch: expected a mapping or a list (json patch); the template always renders 42'],
    ['delete: { gracePeriodSeconds: "{{ spec.a }} {{ spec.b }}" }', 'rule.yaml:8:37: rule "r" (document 1): spec.actions[0].delete.gracePeriodSeconds: expected an integer >= 0; the template always renders text (it has text around or between its expressions)'],
    ['patch: { target: { name: "{{ 7 }}" }, patch: { a: 1 } }', 'rule.yaml:8:32: rule "r" (document 1): spec.actions[0].patch.target.name: expected non-empty text; the template always renders 7'],
  ];
  for (const [action, problem] of wrong) {
    it(`reports ${action}`, () => {
      expect(at(action)).to.deep.equal([problem]);
    });
  }

  const fine = [
    'delete: { gracePeriodSeconds: "{{ 30 }}", ignoreMissing: "{{ false }}" }',
    'delete: { gracePeriodSeconds: "{{ spec.grace }}" }',
    'apply: { force: "{{ true }}", object: { apiVersion: v1, kind: ConfigMap, metadata: { name: "{{ metadata.name }}" } } }',
    'event: { reason: "{{ \'Fine\' }}", message: "{{ metadata.name }} and {{ metadata.namespace }}" }',
    'patch: { patch: "{{ {\'a\': 1} }}" }',
    'patch: { type: json, patch: "{{ [{\'op\': \'add\', \'path\': \'/a\', \'value\': 1}] }}" }',
    'webhook: { url: "https://h.example/{{ metadata.name }}", headers: { x-a: "{{ \'b\' }}" } }',
  ];
  for (const action of fine) {
    it(`accepts ${action}`, () => {
      expect(at(action)).to.deep.equal([]);
    });
  }
});
