/**
 * generate: the files generated from the code's single sources, and `npm run gen`, which writes them.
 * Tests compare each file with what is generated, so a stale one fails the suite.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cliReference } from './cli-docs.js';
import { commands } from './commands.js';
import { DAEMON_CONFIG_SCHEMA } from '../daemon/index.js';
import { ruleJsonSchema, ruleReference, RULE_SCHEMA_PATH } from './reference-docs.js';

/** The chart's values schema: the file as written, with `config` replaced by the daemon's configuration schema. */
export const VALUES_SCHEMA_PATH = 'charts/reflex/values.schema.json';

function valuesSchema(root: string): string {
  const schema = JSON.parse(readFileSync(join(root, VALUES_SCHEMA_PATH), 'utf8')) as { properties: Record<string, unknown> };
  schema.properties.config = {
    description: 'Settings merged over the chart\'s reflex.yaml: the daemon\'s configuration schema (config/reflex.yaml documents each field); unknown fields and bad values fail helm install and helm template.',
    ...DAEMON_CONFIG_SCHEMA,
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** One generated file: its path from the repository root and its text. */
export interface GeneratedFile {
  path: string;
  text: string;
}

/** Every generated file. */
export function generatedFiles(root = repositoryRoot): GeneratedFile[] {
  return [
    { path: VALUES_SCHEMA_PATH, text: valuesSchema(root) },
    { path: 'docs/cli.md', text: cliReference(commands.map((c) => c.spec)) },
    { path: 'docs/reference.md', text: ruleReference() },
    { path: RULE_SCHEMA_PATH, text: ruleJsonSchema() },
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
