/**
 * The Dockerfile's invariants, checked on its text: no Docker engine runs in this
 * test environment, so this keeps the image definition from rotting silently.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/control-plane.js';

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  body: Instruction[];
}

/** Parses a Dockerfile into global ARGs and stages (comments dropped, `\` continuations joined). */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, op, rest] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = op.toUpperCase();
    if (upper === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      stages.push({ from: m?.[1] ?? rest, name: m?.[2], body: [] });
    } else if (stages.length === 0 && upper === 'ARG') {
      const [k, v] = rest.split('=');
      args.set(k, v ?? '');
    } else {
      stages.at(-1)?.body.push({ op: upper, args: rest.replace(/\s+/g, ' ') });
    }
  }
  return { args, stages };
}

/**
 * Whether .dockerignore leaves `path` out of the build context: patterns in order, the last one
 * matching the path or one of its parent directories wins (Docker's rule).
 */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const glob = negate ? l.slice(1) : l;
      const re = glob
        .split('**')
        .map((part) => part.replace(/[.+^${}()|[\]]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
        .join('.*');
      return { re: new RegExp(`^${re}$`), excluded: !negate };
    });
  return (path) => {
    const parts = path.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = r.excluded;
    return excluded;
  };
}

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const { args, stages } = parseDockerfile(dockerfile);
const final = stages.at(-1) as Stage;
const build = stages[0];
const ops = (stage: Stage, op: string) => stage.body.filter((i) => i.op === op).map((i) => i.args);

describe('Dockerfile', () => {
  it('builds in two stages, both from the Node.js LTS slim base', () => {
    expect(stages).to.have.length(2);
    for (const s of stages) expect(s.from).to.equal('node:${NODE_VERSION}');
    const base = args.get('NODE_VERSION') ?? '';
    const [, major] = /^(\d+)-slim$/.exec(base) ?? [];
    expect(major, `NODE_VERSION=${base} must be MAJOR-slim`).to.not.equal(undefined);
    expect(Number(major) % 2, 'LTS lines of Node.js are even-numbered').to.equal(0);
    const engines = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).engines.node as string;
    expect(Number(major)).to.be.at.least(Number(/\d+/.exec(engines)?.[0]));
    expect(Number(major), 'Node.js 24 is the oldest line still in LTS at the time of writing').to.be.at.least(24);
  });

  it('runs the steps CI runs in the build stage: npm ci, then npm run build', () => {
    const runs = ops(build, 'RUN');
    const ci = runs.findIndex((r) => /^npm ci\b/.test(r));
    const b = runs.findIndex((r) => r === 'npm run build');
    expect(ci, runs.join(' | ')).to.be.at.least(0);
    expect(b).to.be.greaterThan(ci);
    expect(readFileSync(join(repoRoot, '.ci', 'run'), 'utf8')).to.match(/npm ci\b/);
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.scripts.build).to.equal('tsc -p tsconfig.json');
  });

  it('installs only production dependencies, without scripts, in the final stage', () => {
    const runs = ops(final, 'RUN');
    expect(runs.some((r) => /npm ci\b.*--omit=dev/.test(r) && /--ignore-scripts/.test(r)), runs.join(' | ')).to.equal(true);
    expect(runs.some((r) => /npm (install|i) /.test(r))).to.equal(false);
  });

  it('runs as a numeric non-root user, set after the last RUN', () => {
    const users = ops(final, 'USER');
    expect(users).to.have.length(1);
    const [uid, gid] = users[0].split(':');
    expect(uid).to.match(/^\d+$/);
    expect(Number(uid)).to.be.greaterThan(0);
    expect(gid ?? '1').to.match(/^[1-9]\d*$/);
    const idx = final.body.findIndex((i) => i.op === 'USER');
    expect(final.body.slice(idx).some((i) => i.op === 'RUN')).to.equal(false);
  });

  it('keeps HOME and TMPDIR in /tmp, so a read-only root filesystem works', () => {
    const env = ops(final, 'ENV').join(' ');
    expect(env).to.match(/\bHOME=\/tmp\b/);
    expect(env).to.match(/\bTMPDIR=\/tmp\b/);
    expect(env).to.match(/\bNODE_ENV=production\b/);
    expect(ops(final, 'VOLUME')).to.deep.equal([]);
  });

  it('carries the OCI labels', () => {
    const labels = ops(final, 'LABEL').join(' ');
    for (const key of ['title', 'description', 'licenses', 'source', 'version', 'revision', 'base.name']) {
      expect(labels).to.contain(`org.opencontainers.image.${key}=`);
    }
    const license = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).license as string;
    expect(labels).to.contain(`org.opencontainers.image.licenses="${license}"`);
  });

  it('starts the reflex command with `run` by default', () => {
    expect(ops(final, 'ENTRYPOINT')).to.deep.equal(['["node", "bin/reflex.js"]']);
    expect(ops(final, 'CMD')).to.deep.equal(['["run"]']);
    expect(readFileSync(join(repoRoot, 'bin', 'reflex.js'), 'utf8')).to.contain('../dist/src/cli/main.js');
    expect(ops(final, 'COPY')).to.include('--from=build /src/dist/src ./dist/src');
  });

  it('copies only paths that exist and that .dockerignore lets into the context', () => {
    const ignored = dockerignore(readFileSync(join(repoRoot, '.dockerignore'), 'utf8'));
    const sources = stages
      .flatMap((s) => ops(s, 'COPY'))
      .filter((c) => !c.startsWith('--from='))
      .flatMap((c) => c.split(' ').slice(0, -1));
    expect(sources).to.include.members(['package.json', 'package-lock.json', 'src', 'bin']);
    for (const src of sources) {
      expect(existsSync(join(repoRoot, src)), `${src} exists`).to.equal(true);
      const probe = src.includes('.') ? src : `${src}/x.ts`;
      expect(ignored(probe), `${probe} is in the build context`).to.equal(false);
    }
    for (const outside of ['node_modules/x/index.js', 'dist/src/cli/main.js', '.git/HEAD', 'test/cli/x.ts', 'rules/ttl.test.yaml']) {
      expect(ignored(outside), `${outside} stays out of the build context`).to.equal(true);
    }
  });
});
