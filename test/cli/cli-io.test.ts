import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReflex } from '../support/reflex-cli.js';
import { parseXml } from '../support/xml.js';

const jobRule = readFileSync('rules/delete-finished-jobs.yaml', 'utf8');
const jobs = readFileSync('examples/delete-finished-jobs.yaml', 'utf8');
const NOW = '2026-03-10T21:30:00Z';

describe('cli: standard input, machine-readable output, kubectl habits', () => {
  it('dry-run reads the manifests from stdin with --manifests - (kubectl get -o yaml | reflex dry-run)', async () => {
    const fromFile = await runReflex(['dry-run', '--rules', 'rules/delete-finished-jobs.yaml', '--manifests', 'examples/delete-finished-jobs.yaml', '--now', NOW, '-o', 'json']);
    const fromStdin = await runReflex(['dry-run', '--rules', 'rules/delete-finished-jobs.yaml', '--manifests', '-', '--now', NOW, '-o', 'json'], { stdin: jobs });
    expect(fromStdin.code, fromStdin.err).to.equal(0);
    expect(JSON.parse(fromStdin.out)).to.deep.equal(JSON.parse(fromFile.out));
    expect(JSON.parse(fromStdin.out)).to.have.length(2);
  });

  it('reads a kubectl List from stdin and places objects without a namespace in -n', async () => {
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'old' }, status: { succeeded: 1, completionTime: '2026-03-10T10:00:00Z' } }] });
    const r = await runReflex(['dry-run', '--rules', 'rules/delete-finished-jobs.yaml', '--manifests', '-', '-n', 'ci', '--now', NOW, '-o', 'json'], { stdin: list });
    expect(r.code, r.err).to.equal(0);
    expect((JSON.parse(r.out) as { target: { namespace: string } }[]).map((p) => p.target.namespace)).to.deep.equal(['ci', 'ci']);
  });

  it('reads rules from stdin with --rules -, naming <stdin> in errors, and refuses stdin for two flags', async () => {
    const ok = await runReflex(['dry-run', '--rules', '-', '--manifests', 'examples/delete-finished-jobs.yaml', '--now', NOW], { stdin: jobRule });
    expect(ok.code, ok.err).to.equal(0);
    expect(ok.out).to.contain('delete-finished-jobs');
    const bad = await runReflex(['validate', '-'], { stdin: 'apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata: {name: x}\nspec: {}\n' });
    expect(bad.code).to.equal(1);
    expect(bad.err).to.match(/^<stdin>:4:7: /);
    const twice = await runReflex(['dry-run', '--rules', '-', '--manifests', '-'], { stdin: jobRule });
    expect(twice.code).to.equal(2);
    expect(twice.err).to.contain('standard input (-) can feed only one flag; --rules already reads it, so --manifests cannot');
  });

  it('validate -o json reports the rules and every problem with its position', async () => {
    const good = await runReflex(['validate', 'rules/', '-o', 'json']);
    expect(good.code).to.equal(0);
    const report = JSON.parse(good.out) as { valid: boolean; files: number; rules: string[]; problems: unknown[] };
    const shipped = readdirSync('rules').filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'));
    expect(report).to.deep.include({ valid: true, files: shipped.length, problems: [] });
    expect(report.rules).to.have.length(shipped.length);
    expect(report.rules).to.include('delete-finished-jobs');
    const bad = await runReflex(['validate', '-o', 'json', '-'], { stdin: 'apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata: {name: x}\nspec:\n  watch: {apiVersion: v1, kind: Pod}\n  when: "(("\n  actions: [{delete: {}}]\n' });
    expect(bad.code).to.equal(1);
    const problems = (JSON.parse(bad.out) as { problems: { file: string; line: number; column: number; message: string }[] }).problems;
    expect(problems).to.have.length(1);
    expect(problems[0]).to.deep.include({ file: '<stdin>', line: 6 });
    expect(bad.err).to.equal('');
  });

  describe('reflex test -o junit and -o json', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'reflex-junit-'));
      writeFileSync(join(dir, 'jobs.yaml'), jobRule);
      const ok = readFileSync('rules/delete-finished-jobs.test.yaml', 'utf8');
      const failing = ok.replace('expect: none                       # 30 minutes old', 'expect: [{action: delete}]');
      writeFileSync(join(dir, 'jobs.test.yaml'), failing.replace('name: deletes a Job on the first resync more than an hour after it succeeded', 'name: "deletes <a> Job & more"'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('writes JUnit XML that parses, with the right counts, and the failure message escaped', async () => {
      const r = await runReflex(['test', dir, '-o', 'junit']);
      expect(r.code).to.equal(1);
      const root = parseXml(r.out);
      expect(root.name).to.equal('testsuites');
      const suites = root.children;
      expect(suites.map((s) => s.name)).to.deep.equal(['testsuite']);
      const cases = suites[0].children;
      expect(Number(root.attributes.tests)).to.equal(cases.length).and.to.be.greaterThan(1);
      const failed = cases.filter((c) => c.children.some((f) => f.name === 'failure'));
      expect(failed.map((c) => c.attributes.name)).to.deep.equal(['deletes <a> Job & more']);
      expect([root.attributes.failures, suites[0].attributes.failures, suites[0].attributes.tests]).to.deep.equal(['1', '1', String(cases.length)]);
      expect(failed[0].children[0].attributes.message).to.match(/^initial sync: expected 1 planned action/);
    });

    it('writes JSON with the counts and each test', async () => {
      const r = await runReflex(['test', dir, '-o', 'json']);
      const report = JSON.parse(r.out) as { passed: number; failed: number; files: { tests: { name: string; passed: boolean }[] }[] };
      expect(report.failed).to.equal(1);
      expect(report.passed).to.equal(report.files[0].tests.length - 1);
    });
  });

  it('explain takes kubectl kind names and -n for --object', async () => {
    const base = ['explain', '--rules', 'rules/', '--rule', 'delete-finished-jobs', '--manifests', 'examples/delete-finished-jobs.yaml', '--now', NOW];
    for (const ref of [['--object', 'jobs/ci/build-7'], ['--object', 'job.batch/build-7', '-n', 'ci'], ['-n', 'ci', '--object', 'Job/build-7']]) {
      const r = await runReflex([...base, ...ref]);
      expect(r.code, `${ref.join(' ')}: ${r.err}`).to.equal(0);
      expect(r.out).to.contain('verdict: the rule acts on this object');
    }
    const wrong = await runReflex([...base, '--object', 'deploy/ci/build-7']);
    expect(wrong.err).to.contain('--object names a Deployment (apps/v1), but rule "delete-finished-jobs" watches batch/v1 Job');
  });

  it('reflex run fails fast, in one line with exit 2, when a --rules path does not exist', async () => {
    const r = await runReflex(['run', '--rules', 'rules/', '--rules', '/no/such/rules']);
    expect(r).to.deep.equal({ code: 2, out: '', err: 'reflex run: --rules /no/such/rules: no such file or directory\n' });
  });

  it('prints completion scripts for bash, zsh and fish holding every command and its flags', async () => {
    const bash = await runReflex(['completion', 'bash']);
    expect(bash.code).to.equal(0);
    expect(bash.out).to.contain('complete -o default -F _reflex reflex kubectl-reflex');
    expect(bash.out).to.match(/ {4}validate\) flags='--output -o --help -h' ;;/);
    expect(bash.out).to.contain("dry-run:--output|dry-run:-o) COMPREPLY=($(compgen -W 'text json yaml' -- \"$cur\")); return ;;");
    expect((await runReflex(['completion', 'zsh'])).out).to.match(/^autoload -U \+X bashcompinit && bashcompinit$/m);
    const fish = (await runReflex(['completion', 'fish'])).out;
    expect(fish).to.contain("complete -c reflex -n '__fish_seen_subcommand_from test' -l output -s o -x -a 'text json junit'");
    expect((await runReflex(['completion', 'tcsh'])).code).to.equal(2);
  });
});
