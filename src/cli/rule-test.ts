/**
 * `reflex test PATH…`: runs RuleTest files (rule-test-format.ts) and reports like a test runner,
 * ending with `N passed, N failed`. A directory contributes its `*.test.yaml` files, recursively.
 * Exit 0 when every test passed, 1 when any failed (the first difference is named), 2 on usage errors.
 */
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readSourceFiles, type SourceFile } from '../daemon/index.js';
import type { CompiledRule } from '../engine/index.js';
import type { CommandIO } from './commands.js';
import { parseRuleTests, RuleTestFormatError, type RuleTest } from './rule-test-format.js';
import { runRuleTest, type RuleTestResult } from './rule-test-run.js';
import { isRuleTestFile, loadRuleFiles } from './rule-sources.js';

const USAGE = 'Usage: reflex test PATH…   (RuleTest files, or directories holding *.test.yaml)';

/** Reads the RuleTest files named by `paths`: files as given, `*.test.yaml` / `*.test.yml` from directories. */
export async function readRuleTestFiles(paths: string[]): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  for (const p of paths) {
    out.push(...(await readSourceFiles([p], { select: isRuleTestFile })));
  }
  return out;
}

/** The rule files a test names, relative to the test file; default: `x.yaml` beside `x.test.yaml`. */
function ruleFilesOf(test: RuleTest): string[] {
  const dir = dirname(test.file);
  if (test.rules) return test.rules.map((r) => resolve(dir, r));
  return [test.file.replace(/\.test\.(ya?ml)$/, '.$1')];
}

/** Loads the rules of a test; a string says why they cannot be used. */
async function rulesFor(test: RuleTest, cache: Map<string, Promise<CompiledRule[] | string>>): Promise<CompiledRule[] | string> {
  const files = ruleFilesOf(test);
  const key = files.join('\n');
  let loaded = cache.get(key);
  if (!loaded) {
    loaded = loadRuleFiles(files).then(
      (r) => (r.errors.length ? r.errors.map((e) => `${e.location.file}:${e.location.line}:${e.location.column}: ${e.reason}`).join('\n    ') : r.rules),
      (err: Error) => err.message,
    );
    cache.set(key, loaded);
  }
  const rules = await loaded;
  if (typeof rules === 'string') return `its rules do not load:\n    ${rules}`;
  if (test.rule === undefined) return rules;
  const one = rules.filter((r) => r.name === test.rule);
  return one.length ? one : `no rule "${test.rule}" in ${files.join(', ')} (rules there: ${rules.map((r) => r.name).join(', ') || 'none'})`;
}

/** Runs every test of every file; prints a line per test and the summary. Resolves to the exit code. */
export async function runTests(files: SourceFile[], io: CommandIO): Promise<number> {
  let passed = 0;
  let failed = 0;
  let first: string | undefined;
  const cache = new Map<string, Promise<CompiledRule[] | string>>();
  const failWith = (line: string, why: string) => {
    failed++;
    io.out(`  ✘ ${line}\n    ${why}`);
    first ??= `${line}: ${why}`;
  };
  for (const f of files) {
    io.out(f.file);
    let tests: RuleTest[];
    try {
      tests = parseRuleTests(f.file, f.text);
    } catch (err) {
      if (!(err instanceof RuleTestFormatError)) throw err;
      failWith(f.file, err.message);
      continue;
    }
    if (tests.length === 0) failWith(f.file, 'no RuleTest documents in this file');
    for (const test of tests) {
      const rules = await rulesFor(test, cache);
      if (typeof rules === 'string') {
        failWith(test.name, rules);
        continue;
      }
      const result: RuleTestResult = await runRuleTest(test, rules);
      if (result.passed) {
        passed++;
        io.out(`  ✔ ${test.name}`);
      } else {
        failWith(test.name, result.failure ?? 'failed');
      }
    }
  }
  io.out('');
  if (first) io.out(`first failure: ${first.split('\n')[0]}`);
  io.out(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

/** The command. */
export async function runRuleTestCommand(args: string[], io: CommandIO): Promise<number> {
  let positionals: string[];
  try {
    positionals = parseArgs({ args, allowPositionals: true, options: {} }).positionals;
  } catch (err) {
    io.err(`reflex test: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (positionals.length === 0) {
    io.err(`reflex test: give at least one RuleTest file or directory\n${USAGE}`);
    return 2;
  }
  let files: SourceFile[];
  try {
    files = await readRuleTestFiles(positionals);
  } catch (err) {
    io.err(`reflex test: ${(err as Error).message}`);
    return 1;
  }
  if (files.length === 0) {
    io.err(`reflex test: no RuleTest files (*.test.yaml) under ${positionals.join(', ')}`);
    io.out('0 passed, 0 failed');
    return 1;
  }
  return runTests(files, io);
}

