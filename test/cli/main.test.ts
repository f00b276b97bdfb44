import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { repoRoot } from '../support/control-plane.js';
import { runReflex } from '../support/reflex-cli.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

describe('reflex (command line)', () => {
  it('lists every command of the design in --help', async () => {
    const c = capture();
    expect(await main(['--help'], c.io)).to.equal(0);
    for (const name of ['run', 'validate', 'dry-run', 'test', 'explain', 'rbac']) {
      expect(c.out.join('\n')).to.match(new RegExp(`^  ${name} `, 'm'));
    }
  });

  it('rejects an unknown command with exit 2, naming the commands', async () => {
    const c = capture();
    expect(await main(['frobnicate'], c.io)).to.equal(2);
    expect(c.err.join('')).to.contain('unknown command "frobnicate"');
  });
});

describe('kubectl reflex (the kubectl-reflex plugin bin)', () => {
  it('runs reflex when kubectl finds kubectl-reflex on the PATH, as npm installs it', async () => {
    const direct = await runReflex(['validate', 'rules/']);
    const dir = mkdtempSync(join(tmpdir(), 'reflex-plugin-'));
    try {
      const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string> };
      symlinkSync(join(repoRoot, pkg.bin['kubectl-reflex']), join(dir, 'kubectl-reflex'));
      const r = spawnSync('kubectl', ['reflex', 'validate', 'rules/'], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, timeout: 30_000 });
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.equal(direct.out).and.to.match(/^\d+ rules valid in \d+ files\n$/);
      expect(r.status).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
