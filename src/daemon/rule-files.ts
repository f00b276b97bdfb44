/** rule-files: reads rule (or manifest) files and directories from disk into `{ file, text }` sources for the engine's loader. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import { ReflexError } from '../core/index.js';
import { decodeRuleText } from '../engine/index.js';

/** A file's name (as the user gave it, for messages) and its text; `unreadable` when it is not UTF-8 (`text` is then empty). */
export interface SourceFile {
  file: string;
  text: string;
  unreadable?: { line: number; column: number; reason: string };
}

/** A path could not be read. */
export class RuleFileError extends ReflexError {
  constructor(
    readonly path: string,
    message: string,
    cause?: unknown,
  ) {
    super(message, { code: 'ERR_RULE_FILE', cause });
  }
}

export interface ReadSourcesOptions {
  /** File name endings taken from directories. Default `.yaml`, `.yml` (and `.json`). */
  extensions?: string[];
  /**
   * Which files of a directory are taken (by file name). Default: every file but rule tests
   * (`*.test.yaml`, `*.test.yml`), which live beside the rules they test.
   */
  select?: (fileName: string) => boolean;
  signal?: AbortSignal;
}

/** Whether a file name is a rule test (`*.test.yaml` / `*.test.yml`). */
export const isRuleTestFile = (name: string): boolean => /\.test\.ya?ml$/.test(name);

/**
 * Reads every path: a file is read as is; a directory contributes its YAML files, recursively, in
 * name order (so loads are deterministic). Files are named relative to the working directory when
 * they lie under it. Rejects with RuleFileError naming the path when one cannot be read.
 */
export async function readSourceFiles(paths: string[], options: ReadSourcesOptions = {}): Promise<SourceFile[]> {
  const ext = options.extensions ?? ['.yaml', '.yml', '.json'];
  const out: SourceFile[] = [];
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch (err) {
      throw new RuleFileError(p, `cannot read ${p}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`, err);
    }
    const files = info.isDirectory() ? await walk(p, ext, options.select ?? ((n) => !isRuleTestFile(n)), options.signal) : [p];
    for (const f of files) {
      options.signal?.throwIfAborted();
      try {
        const decoded = decodeRuleText(await readFile(f, { signal: options.signal }));
        out.push('text' in decoded ? { file: displayName(f), text: decoded.text } : { file: displayName(f), text: '', unreadable: decoded.unreadable });
      } catch (err) {
        throw new RuleFileError(f, `cannot read ${f}: ${(err as Error).message}`, err);
      }
    }
  }
  return out;
}

async function walk(dir: string, ext: string[], select: (name: string) => boolean, signal?: AbortSignal): Promise<string[]> {
  signal?.throwIfAborted();
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    // Hidden entries are skipped: a ConfigMap volume holds its files twice, in `..2026_…/` and
    // behind the `..data` link the visible names point through.
    if (e.name.startsWith('.')) continue;
    const full = join(dir, e.name);
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await stat(full).then((i) => i.isDirectory(), () => false)));
    if (isDir) out.push(...(await walk(full, ext, select, signal)));
    else if (ext.some((x) => e.name.endsWith(x)) && select(e.name)) out.push(full);
  }
  return out;
}

function displayName(f: string): string {
  if (!isAbsolute(f)) return f;
  const rel = relative(process.cwd(), f);
  return rel.startsWith('..') ? f : rel;
}
