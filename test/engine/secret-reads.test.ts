import { expect } from 'chai';
import { evaluate, loadRules } from '../../src/engine/index.js';
import { redactPlanned } from '../../src/daemon/redact.js';
import { clock, listerOf, pod, ruleText } from './helpers.js';

const load = (spec: string) => loadRules([{ file: 'r.yaml', text: ruleText('r', spec) }]);

describe('engine: rules that read Secrets', () => {
  it('marks a rule that watches Secrets or looks them up (or looks up a computed kind), unless it opts in with a warning', () => {
    expect(load('watch: { apiVersion: v1, kind: Secret }\nactions:\n  - log: { message: "{{ data.password }}" }').rules[0].sensitive).to.equal(true);
    expect(load(`watch: { apiVersion: v1, kind: Pod }\nactions:\n  - log: { message: "{{ $get('v1', 'Secret', 'ns', 's').data.password }}" }`).rules[0].sensitive).to.equal(true);
    expect(load(`watch: { apiVersion: v1, kind: Pod }\nactions:\n  - log: { message: "{{ $get('v1', metadata.labels.k, 'ns', 's') }}" }`).rules[0].sensitive).to.equal(true);
    expect(load(`watch: { apiVersion: v1, kind: Pod }\nactions:\n  - log: { message: "{{ $get('v1', 'ConfigMap', 'ns', 's') }}" }`).rules[0].sensitive).to.equal(false);
    const open = load('watch: { apiVersion: v1, kind: Secret }\nrevealSecretValues: true\nactions:\n  - log: { message: "{{ data.password }}" }');
    expect(open.rules[0].sensitive).to.equal(false);
    expect(open.warnings.map((w) => `${w.location.line}: ${w.reason}`)).to.deep.equal([
      '7: rule "r" (document 1): spec.revealSecretValues: rendered values of this rule, Secret data included, appear in logs, traces, dry-run output and Event notes',
    ]);
  });

  it('masks the whole rendered body of its planned actions where they are shown, whatever kind they write', async () => {
    const { rules } = load(`watch: { apiVersion: v1, kind: Pod }
actions:
  - apply: { object: { apiVersion: v1, kind: ConfigMap, metadata: { name: copy, namespace: default }, data: "{{ $get('v1', 'Secret', 'default', 's').data }}" } }`);
    const lister = listerOf([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, data: { password: 'aHVudGVyMg==' } }]);
    const [planned] = await evaluate(rules[0], 'create', pod('p'), undefined, { clock: clock(), lister });
    expect(planned.sensitive).to.equal(true);
    expect(JSON.stringify(planned.body)).to.include('aHVudGVyMg==');
    expect(JSON.stringify(redactPlanned(planned))).not.to.include('aHVudGVyMg==');
  });
});
