import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { evaluate, generatedKinds, generatingRule, planPrunes, ruleLabelValue, stampGenerated } from '../../src/engine/index.js';
import { clock, listerOf, problems, ruleFrom, ruleText } from './helpers.js';

const ns = (name: string, labels: Record<string, string> = { team: 'a' }): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `uid-${name}`, labels } });
const source: KubeObject = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'regcred', namespace: 'platform' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': 'e30=' } };

const copyRule = (extra = '') =>
  ruleFrom(
    ruleText(
      'copy-regcred',
      `watch: { apiVersion: v1, kind: Namespace, labelSelector: team }
when: "metadata.name != 'platform' and $exists($get('v1', 'Secret', 'platform', 'regcred'))"
generate:${extra}
  objects:
    - apiVersion: v1
      kind: Secret
      metadata: { name: regcred, namespace: "{{ metadata.name }}" }
      type: "{{ $get('v1', 'Secret', 'platform', 'regcred').type }}"
      data: "{{ $get('v1', 'Secret', 'platform', 'regcred').data }}"`,
    ),
  );

const ctx = (objects: KubeObject[] = [source]) => ({ clock: clock(), lister: listerOf(objects), scopeOf: () => 'Namespaced' as const });

describe('engine/generate: loading spec.generate', () => {
  it('defaults synchronize to true and orphan to false, and listens to every change and its dependencies', () => {
    const r = copyRule();
    expect(r.generate).to.include({ synchronize: true, orphan: false });
    expect(r.generate?.objects).to.have.length(1);
    expect(r.actions).to.deep.equal([]);
    expect(r.on).to.deep.equal(['sync', 'create', 'update', 'delete', 'resync', 'dependency']);
  });

  it('reads synchronize and orphan as written', () => {
    expect(copyRule('\n  synchronize: false\n  orphan: true').generate).to.include({ synchronize: false, orphan: true });
  });

  it('names file:line:col of a literal object without apiVersion, kind or metadata.name', () => {
    const text = ruleText('g', 'watch: { apiVersion: v1, kind: Namespace }\ngenerate:\n  objects:\n    - kind: Secret\n      metadata: { namespace: x }');
    expect(problems(text)).to.deep.equal(['rule.yaml:9:9: rule "g" (document 1): spec.generate.objects[0]: missing apiVersion, metadata.name; a generated object needs apiVersion, kind and metadata.name']);
  });

  it('rejects unknown fields of spec.generate and of a forEach item', () => {
    const text = ruleText(
      'g',
      'watch: { apiVersion: v1, kind: Namespace }\ngenerate:\n  prune: true\n  objects:\n    - forEach: "{{ [1,2] }}"\n      objekt: {}\n      object: { apiVersion: v1, kind: ConfigMap, metadata: { name: "c{{ $item }}" } }',
    );
    const found = problems(text);
    expect(found).to.have.length(2);
    expect(found[0]).to.match(/^rule\.yaml:8:5: .*spec\.generate: unknown field "prune"; expected one of synchronize, orphan, objects$/);
    expect(found[1]).to.match(/^rule\.yaml:11:9: .*spec\.generate\.objects\[0\]: unknown field "objekt"; an item with forEach has exactly forEach and object$/);
  });

  it('rejects a rule with both actions and generate, and one with neither', () => {
    const both = ruleText('g', 'watch: { apiVersion: v1, kind: Namespace }\nactions:\n  - delete: {}\ngenerate:\n  objects:\n    - { apiVersion: v1, kind: ConfigMap, metadata: { name: c } }');
    expect(problems(both)).to.deep.equal(['rule.yaml:9:3: rule "g" (document 1): spec.generate: set together with spec.actions; a rule either runs actions or generates objects (split it into two rules)']);
    const neither = ruleText('g', 'watch: { apiVersion: v1, kind: Namespace }');
    expect(problems(neither)[0]).to.match(/spec: missing "actions" \(what to do\) or "generate"/);
  });

  it('rejects on, changes and schedule beside generate', () => {
    const text = ruleText('g', 'watch: { apiVersion: v1, kind: Namespace }\non: [create]\ngenerate:\n  objects:\n    - { apiVersion: v1, kind: ConfigMap, metadata: { name: c } }');
    expect(problems(text)).to.deep.equal(['rule.yaml:7:3: rule "g" (document 1): spec.on: not allowed with spec.generate; a generate rule reconciles every change of its triggers and of the objects it reads']);
  });

  it('places an expression error inside an object template', () => {
    const text = ruleText('g', 'watch: { apiVersion: v1, kind: Namespace }\ngenerate:\n  objects:\n    - { apiVersion: v1, kind: ConfigMap, metadata: { name: "{{ ( }}" } }');
    expect(problems(text)[0]).to.match(/^rule\.yaml:9:\d+: rule "g" \(document 1\): spec\.generate\.objects\[0\]: /);
  });

  it('knows the kinds a rule names literally', () => {
    expect(generatedKinds(copyRule())).to.deep.equal([{ apiVersion: 'v1', kind: 'Secret' }]);
  });
});

describe('engine/generate: the declared set as planned applies', () => {
  it('plans one forced apply per object, stamped with the rule, the trigger uid and the trigger', async () => {
    const plan = await evaluate(copyRule(), 'sync', ns('team-a'), undefined, ctx());
    expect(plan).to.deep.equal([
      {
        rule: 'copy-regcred',
        trigger: { apiVersion: 'v1', kind: 'Namespace', name: 'team-a', event: 'sync' },
        action: 'apply',
        target: { apiVersion: 'v1', kind: 'Secret', namespace: 'team-a', name: 'regcred' },
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            name: 'regcred',
            namespace: 'team-a',
            labels: { 'app.kubernetes.io/managed-by': 'reflex', 'reflex.dev/rule': 'copy-regcred', 'reflex.dev/trigger-uid': 'uid-team-a' },
            annotations: { 'reflex.dev/rule': 'copy-regcred', 'reflex.dev/trigger': 'v1 Namespace team-a' },
          },
          type: 'kubernetes.io/dockerconfigjson',
          data: { '.dockerconfigjson': 'e30=' },
        },
        options: { force: true, generate: true },
      },
    ]);
  });

  it('declares nothing when when is false (the source is gone), for a trigger that went, or one the selector drops', async () => {
    expect(await evaluate(copyRule(), 'sync', ns('team-a'), undefined, ctx([]))).to.deep.equal([]);
    expect(await evaluate(copyRule(), 'delete', ns('team-a'), undefined, ctx())).to.deep.equal([]);
    expect(await evaluate(copyRule(), 'update', ns('other', {}), undefined, ctx())).to.deep.equal([]);
  });

  it('re-evaluates on a dependency event like on any other', async () => {
    const plan = await evaluate(copyRule(), 'dependency', ns('team-a'), undefined, ctx());
    expect(plan.map((p) => p.trigger.event)).to.deep.equal(['dependency']);
  });

  it('plans creates without force when synchronize is false', async () => {
    const [p] = await evaluate(copyRule('\n  synchronize: false'), 'sync', ns('team-a'), undefined, ctx());
    expect(p.action).to.equal('create');
    expect(p.options).to.deep.equal({ generate: true });
  });

  it('repeats a forEach item per element with $item, and places a namespaced object in the trigger namespace', async () => {
    const r = ruleFrom(
      ruleText(
        'per-port',
        'watch: { apiVersion: v1, kind: Service }\ngenerate:\n  objects:\n    - forEach: "{{ spec.ports.name }}"\n      object: { apiVersion: v1, kind: ConfigMap, metadata: { name: "{{ $$.metadata.name }}-{{ $item }}" } }',
      ),
    );
    const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop', uid: 'u1' }, spec: { ports: [{ name: 'http' }, { name: 'admin' }] } };
    const plan = await evaluate(r, 'sync', svc, undefined, ctx());
    expect(plan.map((p) => p.target)).to.deep.equal([
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'web-http' },
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'shop', name: 'web-admin' },
    ]);
  });

  it('fails the evaluation when an object renders without a name, or two items declare one object', async () => {
    const noName = ruleFrom(ruleText('n', 'watch: { apiVersion: v1, kind: Namespace }\ngenerate:\n  objects:\n    - { apiVersion: v1, kind: ConfigMap, metadata: { name: "{{ nothing }}" } }'));
    await evaluate(noName, 'sync', ns('a'), undefined, ctx()).then(
      () => expect.fail('expected an evaluation error'),
      (err: Error) => expect(err.message).to.match(/generate\.objects\[0\].*has no metadata\.name/),
    );
    const twice = ruleFrom(
      ruleText('t', 'watch: { apiVersion: v1, kind: Namespace }\ngenerate:\n  objects:\n    - forEach: "{{ [1, 1] }}"\n      object: { apiVersion: v1, kind: ConfigMap, metadata: { name: c, namespace: x } }'),
    );
    await evaluate(twice, 'sync', ns('a'), undefined, ctx()).then(
      () => expect.fail('expected an evaluation error'),
      (err: Error) => expect(err.message).to.match(/ConfigMap x\/c is declared twice/),
    );
  });
});

describe('engine/generate: stamps and prunes', () => {
  it('keeps a short rule name as its label value and hashes a long one to 63 characters', () => {
    expect(ruleLabelValue('copy-regcred')).to.equal('copy-regcred');
    const long = `${'a'.repeat(60)}.${'b'.repeat(60)}`;
    const value = ruleLabelValue(long);
    expect(value).to.have.length(63);
    expect(value).to.match(/^a{52}-[0-9a-f]{10}$/);
    expect(ruleLabelValue(`${'a'.repeat(60)}.${'c'.repeat(60)}`)).to.not.equal(value);
  });

  it('reads the full rule name back from a stamped object', () => {
    const long = 'r'.repeat(100);
    const stamped = stampGenerated({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, long, ns('a'));
    expect(generatingRule(stamped)).to.equal(long);
    expect(generatingRule({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { 'reflex.dev/rule': 'x' } } })).to.equal('x');
  });

  it('prunes the generated objects the declared set no longer names, with options prune', () => {
    const trigger = { apiVersion: 'v1', kind: 'Namespace', name: 'a', event: 'sync' as const };
    const kept = { apiVersion: 'v1', kind: 'Secret', namespace: 'a', name: 'keep' };
    const declared = [{ rule: 'r', trigger, action: 'apply' as const, target: kept, body: {}, options: {} }];
    const existing: KubeObject[] = [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'keep', namespace: 'a' } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'old', namespace: 'a' } },
    ];
    expect(planPrunes('r', trigger, declared, existing)).to.deep.equal([
      { rule: 'r', trigger, action: 'delete', target: { apiVersion: 'v1', kind: 'Secret', namespace: 'a', name: 'old' }, body: null, options: { prune: true } },
    ]);
  });
});
