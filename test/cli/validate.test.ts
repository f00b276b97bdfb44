import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runReflex } from '../support/reflex-cli.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

const reflex = (args: string[]) => runReflex(args);

describe('cli/validate', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reflex-validate-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts the shipped rules with a one-line summary and exit code 0', async () => {
    const r = await reflex(['validate', join(root, 'rules')]);
    expect(r).to.deep.equal({ code: 0, out: '12 rules valid in 12 files\n', err: '' });
  });

  it('prints every problem as file:line:col: message and exits 1', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: bad }
spec:
  watch: { apiVersion: v1, kind: Pod, labelSelector: "a in (" }
  schedule: "0 0 * * * * *"
  actions:
    - delete: {}
      log: { message: x }
`,
    );
    const r = await reflex(['validate', file, join(root, 'rules', 'namespace-ttl.yaml')]);
    expect(r.code).to.equal(1);
    expect(r.out).to.equal('');
    expect(r.err.split('\n')).to.deep.equal([
      `${file}:5:60: rule "bad" (document 1): spec.watch.labelSelector: invalid label selector: expected "," or ")" in the values of in`,
      `${file}:6:13: rule "bad" (document 1): spec.schedule: cron expression "0 0 * * * * *" has 7 fields; expected 5 (minute hour day month weekday) or 6 (second first)`,
      `${file}:9:7: rule "bad" (document 1): spec.actions[0]: two action keys (delete, log); each item has exactly one action key (split it into 2 items)`,
      '3 problems in 2 files; 1 valid rule',
      '',
    ]);
  });

  it('says which path cannot be read', async () => {
    const r = await reflex(['validate', join(dir, 'missing.yaml')]);
    expect(r.code).to.equal(1);
    expect(r.err).to.equal(`reflex validate: cannot read ${join(dir, 'missing.yaml')}: no such file or directory\n`);
  });

  it('needs at least one path', async () => {
    expect((await reflex(['validate'])).code).to.equal(2);
  });

  it('warns, with a position, about a webhook whose whole URL is an expression, and still exits 0', async () => {
    const file = join(dir, 'hook.yaml');
    await writeFile(
      file,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: hook }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  actions:
    - webhook: { url: "{{ data.endpoint }}" }
`,
    );
    const r = await reflex(['validate', file]);
    expect(r.code).to.equal(0);
    expect(r.err).to.match(/hook\.yaml:7:23: warning: rule "hook" \(document 1\): spec\.actions\[0\]\.webhook\.url: the whole URL is the expression \{\{ data\.endpoint \}\}/);
  });
});
