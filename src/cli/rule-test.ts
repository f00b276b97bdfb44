/**
 * `reflex test PATH…`: runs RuleTest files (rule-test-format.ts) and reports like a test runner
 * (ending with `N passed, N failed`), as JSON, or as JUnit XML for CI.
 */
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readSourceFiles, type SourceFile } from '../daemon/index.js';
import type { CompiledRule } from '../engine/index.js';
import { defineCommand, HELP, output } from './flags.js';
import { parseRuleTests, RuleTestFormatError, type RuleTest } from './rule-test-format.js';
import { runRuleTest, type RuleTestResult } from './rule-test-run.js';
import { isRuleTestFile, loadRuleFiles } from './rule-sources.js';

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

/** The outcome of one test (or of a file that could not be read as tests). */
export interface TestCaseResult {
  file: string;
  name: string;
  passed: boolean;
  failure?: string;
  durationMs: number;
}

/** Runs every test of every file, in order. */
export async function runTests(files: SourceFile[]): Promise<TestCaseResult[]> {
  const results: TestCaseResult[] = [];
  const cache = new Map<string, Promise<CompiledRule[] | string>>();
  for (const f of files) {
    let tests: RuleTest[];
    try {
      tests = parseRuleTests(f.file, f.text);
    } catch (err) {
      if (!(err instanceof RuleTestFormatError)) throw err;
      results.push({ file: f.file, name: f.file, passed: false, failure: err.message, durationMs: 0 });
      continue;
    }
    if (tests.length === 0) results.push({ file: f.file, name: f.file, passed: false, failure: 'no RuleTest documents in this file', durationMs: 0 });
    for (const test of tests) {
      const start = performance.now();
      const rules = await rulesFor(test, cache);
      const result: RuleTestResult | string = typeof rules === 'string' ? rules : await runRuleTest(test, rules);
      const durationMs = performance.now() - start;
      if (typeof result === 'string') results.push({ file: f.file, name: test.name, passed: false, failure: result, durationMs });
      else results.push({ file: f.file, name: test.name, passed: result.passed, ...(result.passed ? {} : { failure: result.failure ?? 'failed' }), durationMs });
    }
  }
  return results;
}

/** Like a test runner: a line per test under its file, the first failure, `N passed, N failed`. */
export function formatTestText(results: TestCaseResult[]): string {
  const lines: string[] = [];
  let file: string | undefined;
  for (const r of results) {
    if (r.file !== file) lines.push((file = r.file));
    lines.push(r.passed ? `  ✔ ${r.name}` : `  ✘ ${r.name}\n    ${r.failure}`);
  }
  const failed = results.filter((r) => !r.passed);
  lines.push('');
  if (failed.length) lines.push(`first failure: ${`${failed[0].name}: ${failed[0].failure}`.split('\n')[0]}`);
  lines.push(`${results.length - failed.length} passed, ${failed.length} failed`);
  return lines.join('\n');
}

/** `-o json`: the counts and every test, grouped by file. */
export function formatTestJson(results: TestCaseResult[]): string {
  const files = [...new Set(results.map((r) => r.file))].map((file) => ({
    file,
    tests: results.filter((r) => r.file === file).map((r) => ({ name: r.name, passed: r.passed, ...(r.failure ? { failure: r.failure } : {}), durationMs: Math.round(r.durationMs) })),
  }));
  const failed = results.filter((r) => !r.passed).length;
  return JSON.stringify({ passed: results.length - failed, failed, files }, null, 2);
}

const xmlText = (s: string) =>
  s
    .split('')
    .filter((c) => c >= ' ' || c === '\t' || c === '\n' || c === '\r') // XML 1.0 allows no other control characters
    .join('')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
const seconds = (ms: number) => (ms / 1000).toFixed(3);

/**
 * `-o junit`: JUnit XML as CI systems read it (Jenkins, GitLab, GitHub test reporters): one
 * `<testsuite>` per file, one `<testcase>` per test, a `<failure>` with the first difference.
 */
export function formatTestJunit(results: TestCaseResult[]): string {
  const files = [...new Set(results.map((r) => r.file))];
  const failedAll = results.filter((r) => !r.passed).length;
  const total = results.reduce((t, r) => t + r.durationMs, 0);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="reflex test" tests="${results.length}" failures="${failedAll}" errors="0" time="${seconds(total)}">`];
  for (const file of files) {
    const cases = results.filter((r) => r.file === file);
    const failures = cases.filter((r) => !r.passed).length;
    const time = cases.reduce((t, r) => t + r.durationMs, 0);
    out.push(`  <testsuite name="${xmlText(file)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${seconds(time)}">`);
    for (const c of cases) {
      const head = `    <testcase classname="${xmlText(file)}" name="${xmlText(c.name)}" time="${seconds(c.durationMs)}"`;
      if (c.passed) out.push(`${head}/>`);
      else out.push(`${head}>`, `      <failure message="${xmlText((c.failure ?? '').split('\n')[0])}">${xmlText(c.failure ?? '')}</failure>`, '    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n');
}

export const testCommand = defineCommand(
  {
    name: 'test',
    summary: 'run rule tests (kind RuleTest): objects, a clock, events, expected actions',
    description: 'A directory contributes its *.test.yaml and *.test.yml files, recursively; each test names its rules\n(default: x.yaml beside x.test.yaml).',
    positionals: { name: 'PATH…', help: 'RuleTest files, or directories holding *.test.yaml', required: true },
    flags: [output(['text', 'json', 'junit']), HELP],
    exits: { 1: 'a test failed, or no RuleTest file was found' },
    examples: ['reflex test rules/', 'reflex test rules/ -o junit > reflex-tests.xml'],
  },
  async ({ values, positionals }, io) => {
    let files: SourceFile[];
    try {
      files = await readRuleTestFiles(positionals);
    } catch (err) {
      io.err(`reflex test: ${(err as Error).message}`);
      return 1;
    }
    if (files.length === 0) io.err(`reflex test: no RuleTest files (*.test.yaml) under ${positionals.join(', ')}`);
    const results = await runTests(files);
    const format = values.output === 'json' ? formatTestJson : values.output === 'junit' ? formatTestJunit : formatTestText;
    io.out(format(results));
    return files.length === 0 || results.some((r) => !r.passed) ? 1 : 0;
  },
);
