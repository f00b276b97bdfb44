import { expect } from 'chai';
import { main } from '../../src/cli/main.js';

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
