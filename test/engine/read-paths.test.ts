import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadAll } from 'js-yaml';
import type { KubeObject } from '../../src/core/index.js';
import { keptPaths, kindKey, loadRules, mergeReads, readsOf, type CompiledRule } from '../../src/engine/index.js';
import { repoRoot } from '../support/control-plane.js';
import { ruleFrom, ruleText } from './helpers.js';
import { expectSameOnTrimmed, trimmed, withNoise } from './trimmed-support.js';

const POD = kindKey('v1', 'Pod');
const podRule = (name: string, rest: string) => ruleFrom(ruleText(name, `watch: { apiVersion: v1, kind: Pod }\n${rest}`));
/** What the caches of Pods keep for `rules`: sorted dotted paths, or 'whole'. */
const kept = (...rules: CompiledRule[]) => {
  const paths = keptPaths(mergeReads(rules.map(readsOf)), POD);
  return paths ? [...new Set(paths.map((p) => p.join('.')))].sort() : 'whole';
};
const log = 'actions:\n  - log: { message: "{{ metadata.name }}" }';

/** Pods that differ in what rules read: phases, labels, containers, nodes, missing parts. */
function pods(): KubeObject[] {
  const c = (name: string, image: string, extra: Record<string, unknown> = {}) => ({ name, image, ports: [{ containerPort: 80 }], ...extra });
  const base = (name: string, spec: unknown, status: unknown, labels: Record<string, string> = {}): KubeObject =>
    withNoise({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '7', labels, annotations: { note: name } }, spec, status } as KubeObject);
  return [
    base('running', { nodeName: 'n1', replicas: 0, containers: [c('app', 'nginx'), c('side', 'envoy')], args: ['a', 'b'] }, { phase: 'Running', hostIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] }, { app: 'web' }),
    base('failed', { nodeName: 'n2', replicas: 3, containers: [c('app', 'busybox', { env: [{ name: 'X', value: '1' }] })] }, { phase: 'Failed', conditions: [{ type: 'Ready', status: 'False' }] }, { app: 'web', tier: 'db' }),
    base('pending', { containers: [] }, { phase: 'Pending' }),
    base('bare', undefined, undefined, { app: 'batch' }),
    base('nulls', { nodeName: null, containers: [{ name: 'x' }, 'not-an-object', [1, 2]] }, { phase: null }),
  ];
}
/** The same pods after an update, for `$old` and `changes`. */
const updated = () => pods().map((p) => ({ ...p, metadata: { ...p.metadata, resourceVersion: '8' }, status: { ...(p.status as object), phase: 'Succeeded' } }) as KubeObject);

describe('engine/read-paths: what rules read of their objects', () => {
  it('keeps only status.phase for a rule that reads labels and the phase (metadata is always kept)', () => {
    expect(kept(podRule('r', `when: "metadata.labels.app = 'web' and status.phase = 'Failed'"\n${log}`))).to.deep.equal(['status.phase']);
  });

  it('merges the paths of every rule on a kind, and a path read whole covers the paths below it', () => {
    const a = podRule('a', `when: "status.phase = 'Running'"\n${log}`);
    const b = podRule('b', `when: "$exists(spec.nodeName) and status.conditions[type = 'Ready'].status = 'True'"\n${log}`);
    const c = podRule('c', `when: "$count(status.conditions) > 0"\n${log}`);
    expect(kept(a, b)).to.deep.equal(['spec.nodeName', 'status.conditions.status', 'status.conditions.type', 'status.phase']);
    expect(kept(a, b, c)).to.deep.include.members(['status.conditions', 'status.phase']);
  });

  it('follows predicates, indexes, variables, conditions and blocks to the fields they reach', () => {
    expect(kept(podRule('r', `when: "spec.containers[name = 'app'].image = 'nginx'"\n${log}`))).to.deep.equal(['spec.containers.image', 'spec.containers.name']);
    expect(kept(podRule('r', `when: "spec.containers[1].name = 'side'"\n${log}`))).to.deep.equal(['spec.containers.name']);
    expect(kept(podRule('r', `when: "($s := status; $s.phase = 'Running')"\n${log}`))).to.deep.equal(['status.phase']);
    expect(kept(podRule('r', `when: "(status.phase = 'Running' ? spec : status).hostIP = '10.0.0.1'"\n${log}`))).to.deep.equal(['spec.hostIP', 'status.hostIP', 'status.phase']);
  });

  it('reads $old, changes, forEach items and every template like the object itself', () => {
    const r = podRule('r', `changes: status.phase\nwhen: "$old.spec.nodeName != spec.nodeName"\nactions:\n  - forEach: "{{ spec.containers }}"\n    log: { message: "{{ $item.name }} {{ status.hostIP }}" }`);
    expect(kept(r)).to.deep.equal(['spec.containers', 'spec.nodeName', 'status.hostIP', 'status.phase']);
  });

  it('keeps the whole subtree under a wildcard', () => {
    expect(kept(podRule('r', `when: '$count(status.*) > 0'\n${log}`))).to.deep.equal(['status']);
  });

  it('needs whole objects for $ read wholesale, a descendant, a parent step, a focus, $eval, or $lookup on $', () => {
    for (const when of ['$string($) != ""', '$count(**.image) > 0', "spec.containers[image = 'nginx'].%.nodeName = 'n1'", 'spec.containers@$c.($c.name) = "app"', '$eval("spec.nodeName") = "n1"', '$lookup($, "spec").nodeName = "n1"', '$keys() = "x"']) {
      expect(kept(podRule('r', `when: ${JSON.stringify(when)}\n${log}`)), when).to.equal('whole');
    }
  });

  it('reads the context of a function that is short of arguments (name.$uppercase())', () => {
    expect(kept(podRule('r', `when: "spec.nodeName.$uppercase() = 'N1'"\n${log}`))).to.deep.equal(['spec.nodeName']);
    expect(kept(podRule('r', `when: "status.$string() != ''"\n${log}`))).to.deep.equal(['status']);
  });

  it('makes every kind whole for a $get or $list of a kind that is not a literal', () => {
    const reads = readsOf(podRule('r', `when: "$exists($get('v1', spec.kindName, null, 'x'))"\n${log}`));
    expect(reads.dynamic).to.equal(true);
    expect(keptPaths(reads, kindKey('v1', 'ConfigMap'))).to.equal(undefined);
  });

  it('keeps kinds looked up with $get or $list whole (their caches are the lister\'s), and reads the arguments', () => {
    const reads = readsOf(podRule('r', `when: "$get('v1', 'ConfigMap', metadata.namespace, spec.configName).data.x = '1'"\n${log}`));
    expect(keptPaths(reads, kindKey('v1', 'ConfigMap'))).to.equal(undefined);
    expect(keptPaths(reads, POD)).to.deep.equal([['spec', 'configName']]);
  });

  it('keeps what patches write, so the no-op check sees the same fields; a computed patch needs whole objects', () => {
    expect(kept(podRule('r', 'actions:\n  - patch: { patch: { spec: { replicas: 0 } } }'))).to.deep.equal(['spec.replicas']);
    expect(kept(podRule('r', 'actions:\n  - patch: { type: json, patch: [{ op: replace, path: /spec/template/replicas, value: 0 }] }'))).to.deep.equal(['spec.template']);
    expect(kept(podRule('r', 'actions:\n  - patch: { patch: "{{ { \'spec\': { \'replicas\': 0 } } }}" }'))).to.equal('whole');
    expect(kept(podRule('r', 'actions:\n  - patch: { type: json, patch: [{ op: remove, path: "/spec/{{ metadata.name }}" }] }'))).to.equal('whole');
  });

  it('keeps the fields a field selector compares', () => {
    expect(kept(ruleFrom(ruleText('r', `watch: { apiVersion: v1, kind: Pod, fieldSelector: "status.phase!=Running,spec.nodeName=n1" }\n${log}`)))).to.deep.equal(['spec.nodeName', 'status.phase']);
  });
});

describe('engine/read-paths: rules plan the same on trimmed caches as on whole objects', () => {
  const hard: Record<string, string> = {
    'labels and phase': `when: "metadata.labels.app = 'web' and status.phase = 'Failed'"\n${log}`,
    'a predicate on containers': `when: "spec.containers[name = 'app'].image = 'nginx'"\nactions:\n  - log: { message: "{{ spec.containers[name = 'app'].image }}" }`,
    'an index and a count': `when: "spec.containers[1].name = 'side' or $count(spec.containers) = 1"\n${log}`,
    'forEach over containers': `actions:\n  - forEach: "{{ spec.containers }}"\n    log: { message: "{{ $item.name }}:{{ $item.ports[0].containerPort }}" }`,
    'forEach over images, flattened': `actions:\n  - forEach: "{{ spec.containers.image }}"\n    log: { message: "{{ $item }}" }`,
    'a variable and a block': `when: "($s := status; $s.phase = 'Running' or $s.phase = 'Pending')"\n${log}`,
    'a condition choosing the object': `when: "(status.phase = 'Running' ? spec : status).hostIP"\nactions:\n  - log: { message: "{{ status.hostIP }}" }`,
    'context functions': `when: "spec.nodeName.$uppercase() = 'N1' or status.phase.$lowercase() = 'failed'"\n${log}`,
    'an array constructor': `when: "[spec.nodeName, status.hostIP][1] = '10.0.0.1'"\n${log}`,
    'a group-by rendered': `actions:\n  - log: { message: "{{ $string(spec.containers{name: image}) }}" }`,
    'a lambda over containers': `when: "'nginx' in $map(spec.containers, function($c) { $c.image })"\n${log}`,
    'a sort step': `actions:\n  - log: { message: "{{ spec.containers^(name)[0].image }}" }`,
    'a computed index': `actions:\n  - log: { message: "{{ spec.containers[$count($$.spec.containers) - 1].name }}" }`,
    'a parent step': `when: "spec.containers[image = 'nginx'].%.nodeName = 'n1'"\n${log}`,
    'a wildcard': `actions:\n  - log: { message: "{{ $join(status.*.$string(), ',') }}" }`,
    'the object rendered whole': `actions:\n  - log: { message: "{{ $string($) }}" }`,
    'a truth test of an object also read in part': `when: "status and status.phase != 'Pending'"\n${log}`,
    'primitives and nulls on a path': `when: "$count(spec.args.foo) = 0 and $exists(spec.nodeName)"\nactions:\n  - log: { message: "{{ $string(status.phase) }}" }`,
    'changes and $old': `changes: status.phase\nwhen: "$old.status.phase != status.phase"\n${log}`,
    'a merge patch of the trigger': `actions:\n  - patch: { patch: { spec: { replicas: 0 } } }`,
    'a JSON patch of the trigger': `when: "$exists(spec.replicas)"\nactions:\n  - patch: { type: json, patch: [{ op: replace, path: /spec/replicas, value: 0 }] }`,
    'a strategic patch of containers': `when: "$exists(spec.containers)"\nactions:\n  - patch: { type: strategic, patch: { spec: { containers: [{ name: app, image: nginx }] } } }`,
  };
  for (const [name, spec] of Object.entries(hard)) {
    it(`${name}`, async () => {
      const rule = podRule(name.replace(/[^a-z]+/g, '-'), spec);
      const n = await expectSameOnTrimmed([rule], pods(), updated());
      expect(n).to.be.greaterThan(0);
    });
  }

  it('all the hard cases at once (each trimmed for the union of their reads)', async () => {
    const rules = Object.entries(hard).map(([name, spec], i) => podRule(`r${i}-${name.replace(/[^a-z]+/g, '-')}`, spec));
    expect(await expectSameOnTrimmed(rules, pods(), updated())).to.be.greaterThan(rules.length);
  });

  it('tells when a cache drops a path a rule reads (the check can fail)', async () => {
    const rule = podRule('r', `when: "status.phase = 'Failed'"\n${log}`);
    const tooSmall = { kinds: new Map([[POD, { whole: false as const, paths: [['status', 'hostIP']] }]]), looked: new Set<string>(), dynamic: false };
    const err = await expectSameOnTrimmed([rule], pods(), [], tooSmall).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/^r on sync of v1 Pod default\/failed/);
  });

  it('trims Pods to a few fields for labels and phase, dropping spec', () => {
    const reads = readsOf(podRule('r', `when: "metadata.labels.app = 'web' and status.phase = 'Failed'"\n${log}`));
    const small = trimmed(reads, pods()[0]);
    expect(Object.keys(small)).to.deep.equal(['apiVersion', 'kind', 'metadata', 'status']);
    expect(small.status).to.deep.equal({ phase: 'Running' });
  });

  /** Every shipped rule against the objects of its own rule tests, with noise added. */
  const dir = join(repoRoot, 'rules');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))) {
    it(`the shipped rule ${file}`, async () => {
      const { rules, errors } = loadRules([{ file, text: readFileSync(join(dir, file), 'utf8') }]);
      expect(errors).to.deep.equal([]);
      const objects: KubeObject[] = [];
      const later: KubeObject[] = [];
      const testFile = join(dir, file.replace(/\.yaml$/, '.test.yaml'));
      for (const doc of loadAll(readFileSync(testFile, 'utf8')) as { spec?: { objects?: KubeObject[]; steps?: Record<string, KubeObject>[] } }[]) {
        objects.push(...(doc?.spec?.objects ?? []));
        for (const step of doc?.spec?.steps ?? []) for (const o of Object.values(step)) if (o && typeof o === 'object' && 'kind' in o) later.push(o);
      }
      const all = [...objects, ...later];
      const noisy = all.map(withNoise);
      expect(await expectSameOnTrimmed(rules, [...all, ...noisy], [...objects, ...objects.map(withNoise)])).to.be.greaterThan(0);
    });
  }
});
