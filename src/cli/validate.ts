/** `reflex validate PATH…`: schema + JSONata compile of rule files; every problem as `file:line:col: message`, or JSON. */
import { loadRules } from '../engine/index.js';
import { defineCommand, HELP, output } from './flags.js';
import { readInputs, StdinOnce } from './inputs.js';

/** What `reflex validate -o json` prints. */
export interface ValidateReport {
  valid: boolean;
  files: number;
  rules: string[];
  problems: { file: string; line: number; column: number; message: string }[];
  /** What loads but deserves a look (a fully computed webhook URL, …); never fails the validation. */
  warnings: { file: string; line: number; column: number; message: string }[];
}

export const validateCommand = defineCommand(
  {
    name: 'validate',
    summary: 'check rule files: schema and JSONata compile; errors as file:line:col',
    positionals: { name: 'PATH…', help: 'rule files or directories (recursively .yaml, .yml, .json); - reads stdin', required: true },
    flags: [output(['text', 'json']), HELP],
    exits: { 1: 'a rule file has problems, or a path cannot be read' },
    examples: ['reflex validate rules/', 'reflex validate -o json rules/ | jq .problems'],
  },
  async ({ values, positionals }, io) => {
    let sources;
    try {
      sources = await readInputs(positionals, 'PATH', new StdinOnce(io));
    } catch (err) {
      io.err(`reflex validate: ${(err as Error).message}`);
      return 1;
    }
    const { rules, errors, warnings } = loadRules(sources);
    if (values.output === 'json') {
      const report: ValidateReport = {
        valid: errors.length === 0,
        files: sources.length,
        rules: rules.map((r) => r.name),
        problems: errors.map((e) => ({ file: e.location.file, line: e.location.line, column: e.location.column, message: e.reason })),
        warnings: warnings.map((e) => ({ file: e.location.file, line: e.location.line, column: e.location.column, message: e.reason })),
      };
      io.out(JSON.stringify(report, null, 2));
      return errors.length > 0 ? 1 : 0;
    }
    for (const e of errors) io.err(`${e.location.file}:${e.location.line}:${e.location.column}: ${e.reason}`);
    for (const w of warnings) io.err(`${w.location.file}:${w.location.line}:${w.location.column}: warning: ${w.reason}`);
    const files = `${sources.length} file${sources.length === 1 ? '' : 's'}`;
    if (errors.length > 0) {
      io.err(`${errors.length} problem${errors.length === 1 ? '' : 's'} in ${files}; ${rules.length} valid rule${rules.length === 1 ? '' : 's'}`);
      return 1;
    }
    io.out(`${rules.length} rule${rules.length === 1 ? '' : 's'} valid in ${files}`);
    return 0;
  },
);
