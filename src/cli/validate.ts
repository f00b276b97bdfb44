/** `reflex validate PATH…`: schema + JSONata compile of rule files; every problem as `file:line:col: message`. */
import { parseArgs } from 'node:util';
import { readSourceFiles } from '../daemon/index.js';
import { loadRules } from '../engine/index.js';
import type { CommandIO } from './commands.js';

/** Validates the rule files and directories in `args`; 0 when all are valid, 1 when any is not, 2 on usage errors. */
export async function runValidate(args: string[], io: CommandIO): Promise<number> {
  let paths: string[];
  try {
    paths = parseArgs({ args, allowPositionals: true, options: {} }).positionals;
  } catch (err) {
    io.err(`reflex validate: ${(err as Error).message}\nUsage: reflex validate PATH…`);
    return 2;
  }
  if (paths.length === 0) {
    io.err('reflex validate: no paths given\nUsage: reflex validate PATH…');
    return 2;
  }
  let sources;
  try {
    sources = await readSourceFiles(paths);
  } catch (err) {
    io.err(`reflex validate: ${(err as Error).message}`);
    return 1;
  }
  const { rules, errors } = loadRules(sources);
  for (const e of errors) io.err(`${e.location.file}:${e.location.line}:${e.location.column}: ${e.reason}`);
  const files = `${sources.length} file${sources.length === 1 ? '' : 's'}`;
  if (errors.length > 0) {
    io.err(`${errors.length} problem${errors.length === 1 ? '' : 's'} in ${files}; ${rules.length} valid rule${rules.length === 1 ? '' : 's'}`);
    return 1;
  }
  io.out(`${rules.length} rule${rules.length === 1 ? '' : 's'} valid in ${files}`);
  return 0;
}
