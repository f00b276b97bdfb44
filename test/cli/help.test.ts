import { expect } from 'chai';
import { commands } from '../../src/cli/commands.js';
import { flagTerm } from '../../src/cli/flags.js';
import { main } from '../../src/cli/main.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

/** A value each flag accepts, so that parsing it alone gets past the parser. */
const sample = (f: { type?: string; choices?: readonly string[] }) => (f.type === 'boolean' ? [] : [f.choices?.[0] ?? 'x']);

describe('reflex COMMAND --help (the flag table is the single source)', () => {
  for (const cmd of commands) {
    const { spec } = cmd;
    describe(`reflex ${spec.name}`, () => {
      it('lists every flag it parses, with its short form, and the exit codes', async () => {
        const c = capture();
        expect(await main([spec.name, '--help'], c.io)).to.equal(0);
        const help = c.out.join('\n');
        for (const f of spec.flags) {
          expect(help, `--${f.name}`).to.contain(flagTerm(f).trim());
          expect(help).to.contain(f.help);
        }
        expect(help).to.match(/^Exit codes:\n {2}0 /m);
        expect(help).to.match(/^ {2}2 {2}usage error/m);
        expect(help).to.contain('-h, --help');
      });

      it('parses each flag of its help, and rejects a flag it does not list with exit 2 pointing at --help', async () => {
        for (const f of spec.flags.filter((x) => x.name !== 'help')) {
          const c = capture();
          // Every listed flag passes the parser: whatever fails afterwards is not "unknown flag".
          await main([spec.name, `--${f.name}`, ...sample(f), '--help'], c.io);
          expect(c.err.join('\n'), `--${f.name}`).to.not.match(/unknown flag/);
        }
        const c = capture();
        expect(await main([spec.name, '--bogus'], c.io)).to.equal(2);
        expect(c.err.join('\n')).to.equal(`reflex ${spec.name}: unknown flag --bogus\nUsage: reflex ${spec.name} [flags]${spec.positionals ? ` ${spec.positionals.name}` : ''}; \`reflex ${spec.name} --help\` lists every flag`);
      });
    });
  }

  it('gives -h/--help to every command, and -o/--output wherever one prints data', () => {
    for (const { spec } of commands) {
      expect(spec.flags.find((f) => f.name === 'help')?.short, spec.name).to.equal('h');
      const o = spec.flags.find((f) => f.name === 'output');
      if (o) expect(o.short, spec.name).to.equal('o');
    }
    const printing = ['validate', 'dry-run', 'test', 'explain', 'rbac', 'tail'];
    for (const name of printing) expect(commands.find((c) => c.spec.name === name)?.spec.flags.some((f) => f.name === 'output'), name).to.equal(true);
    for (const name of ['run', 'explain']) {
      const flags = commands.find((c) => c.spec.name === name)!.spec.flags.map((f) => f.name);
      expect(flags, name).to.include.members(['kubeconfig', 'context', 'namespace']);
    }
  });

  it('answers reflex help COMMAND like COMMAND --help', async () => {
    const a = capture();
    const b = capture();
    await main(['help', 'rbac'], a.io);
    await main(['rbac', '--help'], b.io);
    expect(a.out).to.deep.equal(b.out);
  });
});
