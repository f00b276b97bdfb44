/**
 * Builds bench/client-go (a client-go shared informer) like the test control plane is
 * built: GOTOOLCHAIN=local (unless set), CGO_ENABLED=0, cached by a hash of its sources
 * under the same cache directory.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheDir, repoRoot } from '../../test/support/control-plane.js';

const moduleDir = join(repoRoot, 'bench', 'client-go');

function sourceHash(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(moduleDir).filter((n) => /\.(go|mod|sum)$/.test(n)).sort()) h.update(f).update(readFileSync(join(moduleDir, f)));
  return h.digest('hex').slice(0, 12);
}

/** The client-go benchmark binary, built when not cached yet. Throws with go's last lines when the build fails. */
export function clientGoBinary(log: (line: string) => void): string {
  const bin = join(cacheDir(), 'bench-client-go', sourceHash(), 'bench-client-go');
  if (existsSync(bin)) return bin;
  mkdirSync(dirname(bin), { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}`;
  log('building bench/client-go…');
  const res = spawnSync('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', tmp, '.'], {
    cwd: moduleDir,
    env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local', CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  if (res.error || res.status !== 0) {
    rmSync(tmp, { force: true });
    const why = res.error?.message ?? (res.stderr ?? '').trim().split('\n').slice(-5).join(' | ');
    throw new Error(`cannot build bench/client-go (go build failed): ${why}`);
  }
  renameSync(tmp, bin);
  return bin;
}

/** `go1.x.y` of the Go toolchain that builds bench/client-go, or `unknown`. */
export function goVersion(): string {
  const res = spawnSync('go', ['version'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local' } });
  return /go\d+\.\d+(\.\d+)?/.exec(res.stdout ?? '')?.[0] ?? 'unknown';
}
