/**
 * generate: the files generated from the code's single sources, and `npm run gen`, which writes them.
 * Tests compare each file with what is generated, so a stale one fails the suite.
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliReference } from './cli-docs.js';
import { commands } from './commands.js';
import { crdFiles } from './crd-files.js';
import { chartRbac, CHART_RBAC_PATH, valuesSchema, VALUES_SCHEMA_PATH } from './chart-files.js';
import { ruleJsonSchema, ruleReference, RULE_SCHEMA_PATH } from './reference-docs.js';
import { validatorFiles } from './validator-files.js';

/** One generated file: its path from the repository root and its text. */
export interface GeneratedFile {
  path: string;
  text: string;
}

/** Every generated file. */
export function generatedFiles(root = repositoryRoot): GeneratedFile[] {
  return [
    { path: VALUES_SCHEMA_PATH, text: valuesSchema(root) },
    { path: CHART_RBAC_PATH, text: chartRbac(root) },
    { path: 'docs/cli.md', text: cliReference(commands.map((c) => c.spec)) },
    { path: 'docs/reference.md', text: ruleReference() },
    { path: RULE_SCHEMA_PATH, text: ruleJsonSchema() },
    ...crdFiles(),
    ...validatorFiles(),
  ];
}

/** The repository root, from dist/src/cli or src/cli. */
export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url)).replace(/dist\/$/, '');

/** Writes every generated file under `root`; returns the paths written. */
export function writeGenerated(root = repositoryRoot): string[] {
  return generatedFiles(root).map((f) => {
    const file = join(root, f.path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, f.text);
    return f.path;
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const p of writeGenerated()) process.stdout.write(`wrote ${p}\n`);
}
