/** rule-sources: reading rule files for `reflex test`, `explain` and `rbac`, leaving RuleTest files out. */
import { isRuleTestFile, type SourceFile } from '../daemon/index.js';
import { loadRules, type LoadResult } from '../engine/index.js';
import type { CommandIO } from './io.js';
import { readInputs, StdinOnce } from './inputs.js';

/** RuleTest files live beside the rules they test (`rules/x.test.yaml`); they are not rules. */
export { isRuleTestFile };

/** Reads `paths` (files, directories, `-` for stdin) and loads the rules in them, RuleTest files excluded. */
export async function loadRuleFiles(paths: string[], options: { signal?: AbortSignal; stdin?: StdinOnce; flag?: string } = {}): Promise<LoadResult & { files: SourceFile[] }> {
  const stdin = options.stdin ?? new StdinOnce({ out: () => undefined, err: () => undefined });
  const files = (await readInputs(paths, options.flag ?? '--rules', stdin, { signal: options.signal })).filter((f) => !isRuleTestFile(f.file));
  return { ...loadRules(files), files };
}

/** Prints load errors as `file:line:col: message`, and deprecation warnings; returns how many errors there were. */
export function reportLoadErrors(result: LoadResult, io: CommandIO): number {
  for (const e of result.errors) io.err(`${e.location.file}:${e.location.line}:${e.location.column}: ${e.reason}`);
  for (const w of result.warnings) if (w.code === 'WARN_DEPRECATED') io.err(`${w.location.file}:${w.location.line}:${w.location.column}: warning: ${w.reason}`);
  return result.errors.length;
}
