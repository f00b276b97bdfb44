/**
 * go-build: builds a binary from one of the project's small Go modules (the test control plane,
 * helm, the client-go benchmark) and caches it by name, version and a hash of the module's files
 * (its Go sources and the module file it builds with) and linker flags, so a second run never
 * rebuilds and an edit always does. Builds with CGO_ENABLED=0 and GOTOOLCHAIN=local (unless GOTOOLCHAIN is set); Go's own caches are reused.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Where built binaries are cached: $REFLEX_CACHE_DIR, else $XDG_CACHE_HOME/reflex, else ~/.cache/reflex. */
export function cacheDir(): string {
  if (process.env.REFLEX_CACHE_DIR) return process.env.REFLEX_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'reflex');
}

export interface GoBinary {
  /** Name of the binary and of its cache folder, e.g. `reflex-cluster`. */
  name: string;
  /** The Go module's directory. */
  moduleDir: string;
  /**
   * The module file to build with instead of go.mod (`go build -modfile`), e.g. `go.1.35.mod`; its
   * go.sum is the same name ending in `.sum`. Only it (not go.mod) then enters the cache key.
   */
  modfile?: string;
  /** What `go build` builds: `.` or an import path. */
  pkg: string;
  /** The version the cache folder is named after. */
  version: string;
  ldflags: string;
  /** Said once when a build starts (how long it takes). */
  buildNote: string;
}

/** The module and sum files `b` builds with. */
function moduleFiles(b: GoBinary): (name: string) => boolean {
  if (!b.modfile) return (n) => /\.(mod|sum)$/.test(n);
  const sum = b.modfile.replace(/\.mod$/, '.sum');
  return (n) => n === b.modfile || n === sum;
}

/** The cache key of `b`: its version plus a hash of its Go sources, module files and linker flags. */
function key(b: GoBinary): string {
  const h = createHash('sha256').update(b.ldflags);
  const isModuleFile = moduleFiles(b);
  for (const f of readdirSync(b.moduleDir).filter((n) => n.endsWith('.go') || isModuleFile(n)).sort()) {
    h.update(f).update(readFileSync(join(b.moduleDir, f)));
  }
  return `${b.version}-${h.digest('hex').slice(0, 12)}`;
}

/** The cached binary's path (it may not exist yet). */
export function goBinaryPath(b: GoBinary): string {
  return join(cacheDir(), b.name, key(b), b.name);
}

/**
 * Returns the binary, building it when it is not cached yet. Throws an Error whose message is one
 * line: Go missing, or the last lines of a failed build.
 */
export function ensureGoBinary(b: GoBinary, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const bin = goBinaryPath(b);
  if (existsSync(bin)) return bin;
  const env = { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local', CGO_ENABLED: '0', GOFLAGS: '-mod=mod' };
  const go = spawnSync('go', ['version'], { encoding: 'utf8', env });
  if (go.error || go.status !== 0) {
    throw new Error(`cannot build ${b.name}: Go is not installed (go not found on PATH); install Go, or run REFLEX_SKIP_CLUSTER=1 npm test for unit tests only`);
  }
  mkdirSync(dirname(bin), { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}`;
  log(`building ${b.name} ${b.version} into ${dirname(bin)}; ${b.buildNote}…`);
  const started = Date.now();
  const modfile = b.modfile && b.modfile !== 'go.mod' ? [`-modfile=${b.modfile}`] : [];
  const res = spawnSync('go', ['build', ...modfile, '-trimpath', '-ldflags', b.ldflags, '-o', tmp, b.pkg], { cwd: b.moduleDir, env, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (res.error || res.status !== 0) {
    rmSync(tmp, { force: true });
    const last = res.error?.message ?? (res.stderr ?? '').trim().split('\n').slice(-5).join(' | ');
    throw new Error(`cannot build ${b.name} (go build in ${b.moduleDir} failed): ${last}`);
  }
  renameSync(tmp, bin);
  log(`built ${b.name} in ${Math.round((Date.now() - started) / 1000)} s`);
  return bin;
}

/** `go1.x.y` of the toolchain builds use, or `unknown`. */
export function goVersion(): string {
  const res = spawnSync('go', ['version'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local' } });
  return /go\d+\.\d+(\.\d+)?/.exec(res.stdout ?? '')?.[0] ?? 'unknown';
}
