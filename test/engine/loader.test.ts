import { expect } from 'chai';
import { loadRules, RuleLoadError } from '../../src/engine/index.js';
import { problems, ruleFrom, ruleText } from './helpers.js';

const minimal = (name = 'r') => ruleText(name, 'watch: { apiVersion: v1, kind: Pod }\nactions:\n  - delete: {}');

describe('engine/loader: the rule format', () => {
  it('fills the defaults: on sync/create/update/resync, mode enforce, limits 10/100, when true, not suspended', () => {
    const r = ruleFrom(minimal());
    expect(r.on).to.deep.equal(['sync', 'create', 'update', 'resync']);
    expect(r.mode).to.equal('enforce');
    expect(r.limits).to.deep.equal({ actionsPerObjectPerMinute: 10, maxActionsPerRun: 100 });
    expect(r.when).to.equal(undefined);
    expect(r.suspend).to.equal(false);
    expect(r.timezone).to.equal('UTC');
  });

  it('defaults on to [schedule] for a rule with a schedule and no on', () => {
    const r = ruleFrom(ruleText('s', 'watch: { apiVersion: v1, kind: Pod }\nschedule: "*/5 * * * *"\nactions:\n  - delete: {}'));
    expect(r.on).to.deep.equal(['schedule']);
    expect(r.schedule?.expression).to.equal('*/5 * * * *');
  });

  it('reads every field of the rule format', () => {
    const r = ruleFrom(
      ruleText(
        'full',
        `description: everything
suspend: true
mode: audit
watch:
  apiVersion: batch/v1
  kind: Job
  namespaces: [ci, builds]
  namespaceSelector: "env in (dev,ci)"
  labelSelector: { matchLabels: { a: b }, matchExpressions: [{ key: c, operator: NotIn, values: [d] }] }
  fieldSelector: "status.successful=1"
on: [sync, update, resync, schedule, delete, create]
changes: metadata.labels
resync: 1h30m
schedule: "0 0 22 * * 1-5"
timezone: Europe/Berlin
when: "true"
limits: { actionsPerObjectPerMinute: 3, maxActionsPerRun: 7 }
actions:
  - log: { message: hi }`,
      ),
    );
    expect(r.description).to.equal('everything');
    expect(r.suspend).to.equal(true);
    expect(r.mode).to.equal('audit');
    expect(r.watch.namespaces).to.deep.equal(['ci', 'builds']);
    expect(r.watch.namespaceSelector?.toString()).to.equal('env in (dev,ci)');
    expect(r.watch.labelSelector?.toString()).to.equal('a=b,c notin (d)');
    expect(r.watch.fieldSelector?.toString()).to.equal('status.successful=1');
    expect(r.on).to.deep.equal(['sync', 'update', 'resync', 'schedule', 'delete', 'create']);
    expect(r.changes?.source).to.equal('metadata.labels');
    expect(r.resyncMs).to.equal(5_400_000);
    expect(r.schedule?.timezone).to.equal('Europe/Berlin');
    expect(r.limits).to.deep.equal({ actionsPerObjectPerMinute: 3, maxActionsPerRun: 7 });
    expect(r.source).to.deep.equal({ file: 'rule.yaml', document: 0 });
  });

  it('loads several documents of one file and skips empty ones', () => {
    const { rules, errors } = loadRules([{ file: 'a.yaml', text: `${minimal('one')}---\n---\n${minimal('two')}` }]);
    expect(errors).to.deep.equal([]);
    expect(rules.map((r) => r.name)).to.deep.equal(['one', 'two']);
    expect(rules[1].source.document).to.equal(2);
  });

  it('still yields the good rules of a file with a bad one', () => {
    const bad = ruleText('bad', 'watch: { apiVersion: v1, kind: Pod }\nmode: sometimes\nactions:\n  - delete: {}');
    const { rules, errors } = loadRules([{ file: 'a.yaml', text: `${minimal('good')}---\n${bad}---\n${minimal('also-good')}` }]);
    expect(rules.map((r) => r.name)).to.deep.equal(['good', 'also-good']);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.be.instanceOf(RuleLoadError);
    expect(errors[0].location).to.deep.equal({ file: 'a.yaml', document: 1, line: 16, column: 9 });
    expect(errors[0].rule).to.equal('bad');
  });

  it('reports a duplicate rule name at the second definition, naming the first', () => {
    const { rules, errors } = loadRules([
      { file: 'a.yaml', text: minimal('same') },
      { file: 'b.yaml', text: minimal('same') },
    ]);
    expect(rules).to.have.length(1);
    expect(errors.map(String)).to.deep.equal(['RuleLoadError: b.yaml:4:9: rule "same" (document 1): duplicate rule name; first defined at a.yaml:4:9']);
  });
});

describe('engine/loader: every invalid input has a precise error', () => {
  it('bad YAML: names the line and column of the syntax error', () => {
    expect(problems('apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata: { name: x\nspec: {}\n')).to.deep.equal([
      'rule.yaml:4:1: document 1: invalid YAML: deficient indentation',
    ]);
  });

  it('schema: an unknown field names the field and what is allowed', () => {
    expect(problems(ruleText('u', 'watch: { apiVersion: v1, kind: Pod, labelSelectr: a }\nactions:\n  - delete: {}'))).to.deep.equal([
      'rule.yaml:6:39: rule "u" (document 1): spec.watch: unknown field "labelSelectr"; expected one of apiVersion, kind, namespaces, namespaceSelector, labelSelector, fieldSelector',
    ]);
  });

  it('schema: a missing required field, a wrong enum and a wrong type', () => {
    expect(problems(ruleText('m', 'watch: { apiVersion: v1 }\nmode: loud\nsuspend: "yes"\nactions:\n  - delete: {}'))).to.deep.equal([
      'rule.yaml:6:10: rule "m" (document 1): spec.watch: missing required field "kind"',
      'rule.yaml:7:9: rule "m" (document 1): spec.mode: expected one of enforce, audit; got "loud"',
      'rule.yaml:8:12: rule "m" (document 1): spec.suspend: expected boolean; got "yes"',
    ]);
  });

  it('schema: a wrong apiVersion and a name that is not DNS-1123', () => {
    const text = 'apiVersion: reflex.dev/v1\nkind: Rule\nmetadata: { name: Bad_Name }\nspec:\n  watch: { apiVersion: v1, kind: Pod }\n  actions: [{ delete: {} }]\n';
    expect(problems(text)).to.deep.equal([
      'rule.yaml:1:13: rule "Bad_Name" (document 1): apiVersion: expected "reflex.dev/v1alpha1"; got "reflex.dev/v1"',
      'rule.yaml:3:19: rule "Bad_Name" (document 1): metadata.name: expected a DNS-1123 name (lowercase letters, digits, "-" and "."); got "Bad_Name"',
    ]);
  });

  it('JSONata syntax error: points at the offending token in the file', () => {
    expect(problems(ruleText('j', 'watch: { apiVersion: v1, kind: Pod }\nwhen: "status.phase = = 1"\nactions:\n  - delete: {}'))).to.deep.equal([
      'rule.yaml:7:25: rule "j" (document 1): spec.when: JSONata syntax error: The symbol "=" cannot be used as a unary operator',
    ]);
  });

  it('JSONata syntax error inside a folded block and inside a template', () => {
    const text = ruleText(
      'k',
      'watch: { apiVersion: v1, kind: Pod }\nwhen: >-\n  $exists(status)\n  and foo bar\nactions:\n  - log: { message: "x {{ metadata.( }} y" }',
    );
    expect(problems(text)).to.deep.equal([
      'rule.yaml:9:13: rule "k" (document 1): spec.when: JSONata syntax error: Syntax error: "bar"',
      'rule.yaml:11:40: rule "k" (document 1): spec.actions[0].log: JSONata syntax error: Expected ")" before end of expression',
    ]);
  });

  it('an unknown action, two action keys in one item, an item without an action', () => {
    const text = ruleText('a', 'watch: { apiVersion: v1, kind: Pod }\nactions:\n  - destroy: {}\n  - delete: {}\n    log: { message: m }\n  - forEach: "{{ [1] }}"');
    expect(problems(text)).to.deep.equal([
      'rule.yaml:8:7: rule "a" (document 1): spec.actions[0]: unknown action "destroy"; expected exactly one of apply, create, update, patch, delete, event, log, webhook (plus an optional forEach)',
      'rule.yaml:10:7: rule "a" (document 1): spec.actions[1]: two action keys (delete, log); each item has exactly one action key (split it into 2 items)',
      'rule.yaml:11:7: rule "a" (document 1): spec.actions[2]: no action key; expected exactly one of apply, create, update, patch, delete, event, log, webhook',
    ]);
  });

  it('a bad cron expression: out of range, and the wrong number of fields', () => {
    expect(problems(ruleText('c', 'watch: { apiVersion: v1, kind: Pod }\nschedule: "0 25 * * *"\nactions:\n  - delete: {}'))).to.deep.equal([
      'rule.yaml:7:13: rule "c" (document 1): spec.schedule: invalid cron expression "0 25 * * *": Constraint error, got value 25 expected range 0-23',
    ]);
    expect(problems(ruleText('c', 'watch: { apiVersion: v1, kind: Pod }\nschedule: "* * * *"\nactions:\n  - delete: {}'))).to.deep.equal([
      'rule.yaml:7:13: rule "c" (document 1): spec.schedule: cron expression "* * * *" has 4 fields; expected 5 (minute hour day month weekday) or 6 (second first)',
    ]);
  });

  it('a bad timezone', () => {
    expect(problems(ruleText('z', 'watch: { apiVersion: v1, kind: Pod }\nschedule: "0 3 * * *"\ntimezone: Mars/Olympus\nactions:\n  - delete: {}'))).to.deep.equal([
      'rule.yaml:8:13: rule "z" (document 1): spec.timezone: unknown time zone "Mars/Olympus": expected an IANA name such as UTC or Europe/Berlin',
    ]);
  });

  it('a bad selector: string form and structured form', () => {
    expect(problems(ruleText('s', 'watch: { apiVersion: v1, kind: Pod, labelSelector: "env in (a b)" }\nactions:\n  - delete: {}'))).to.deep.equal([
      'rule.yaml:6:65: rule "s" (document 1): spec.watch.labelSelector: invalid label selector: expected "," or ")" in the values of in',
    ]);
    expect(problems(ruleText('s', 'watch: { apiVersion: v1, kind: Pod, namespaceSelector: "env >> 3" }\nactions:\n  - delete: {}'))).to.deep.equal([
      'rule.yaml:6:63: rule "s" (document 1): spec.watch.namespaceSelector: invalid label selector: unknown operator ">>": expected =, ==, !=, in, notin, or "," after an existence check',
    ]);
    const structured = 'watch:\n  apiVersion: v1\n  kind: Pod\n  labelSelector: { matchExpressions: [{ key: a, operator: In }] }\nactions:\n  - delete: {}';
    expect(problems(ruleText('s', structured))).to.deep.equal([
      'rule.yaml:9:20: rule "s" (document 1): spec.watch.labelSelector: invalid label selector: operator In of key "a" needs at least one value',
    ]);
  });

  it('a bad field selector and a bad resync period', () => {
    expect(problems(ruleText('f', 'watch: { apiVersion: v1, kind: Pod, fieldSelector: "status.phase~Running" }\nresync: 10 minutes\nactions:\n  - delete: {}'))).to.deep.equal([
      'rule.yaml:6:55: rule "f" (document 1): spec.watch.fieldSelector: invalid field requirement "status.phase~Running": expected FIELD=VALUE, FIELD==VALUE or FIELD!=VALUE',
      'rule.yaml:7:11: rule "f" (document 1): spec.resync: "10 minutes" does not match the expected form ^([0-9]+(ms|s|m|h))+$',
    ]);
  });

  it('inconsistent events: on schedule without a schedule', () => {
    expect(problems(ruleText('e', 'watch: { apiVersion: v1, kind: Pod }\non: [schedule]\nactions:\n  - delete: {}'))).to.deep.equal([
      'rule.yaml:7:7: rule "e" (document 1): spec.on: includes "schedule" but spec.schedule is not set',
    ]);
  });

  it('an object to apply without a name', () => {
    expect(problems(ruleText('o', 'watch: { apiVersion: v1, kind: Pod }\nactions:\n  - apply: { object: { apiVersion: v1, kind: ConfigMap } }'))).to.deep.equal([
      'rule.yaml:8:24: rule "o" (document 1): spec.actions[0].apply.object: missing metadata.name; the object to write needs apiVersion, kind and metadata.name',
    ]);
  });

  it('a document that is not a mapping', () => {
    expect(problems('- just\n- a list\n')).to.deep.equal([
      'rule.yaml:1:1: document 1: expected a mapping with apiVersion: reflex.dev/v1alpha1 and kind: ClusterRule (or Rule); got a list',
    ]);
  });
});
