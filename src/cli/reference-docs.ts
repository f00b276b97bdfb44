/**
 * reference-docs: docs/reference.md and schema/rule.schema.json, generated from the rule schema and
 * the field descriptions kept beside it (src/engine/schema.ts). `npm run gen` writes both.
 */
import { DOCUMENTED_RULE_SCHEMA, FIELD_DOCS, schemaFields, type SchemaField } from '../engine/index.js';

type Node = SchemaField['node'];

/** Where the JSON Schema is published in the package and the repository. */
export const RULE_SCHEMA_PATH = 'schema/rule.schema.json';

/** A node's type in words: `string`, `boolean or one {{ expression }}`, `one of merge, json, strategic`. */
export function typeText(node: Node): string {
  if (typeof node['x-expected'] === 'string') return node['x-expected'].replace(/^an? /, '');
  if ('const' in node) return `\`${String(node.const)}\``;
  if (Array.isArray(node.enum)) return `one of ${(node.enum as unknown[]).map((v) => `\`${String(v)}\``).join(', ')}`;
  if (node.anyOf) return node.anyOf.map(typeText).join(' or ');
  switch (node.type) {
    case 'array':
      return node.items ? `list of ${plural(typeText(node.items))}` : 'list';
    case 'object':
      return node.additionalProperties && typeof node.additionalProperties === 'object' ? `mapping of ${plural(typeText(node.additionalProperties as Node))}` : 'mapping';
    case 'string':
      return typeof node.pattern === 'string' && node.pattern.includes('ms|s|m|h') ? 'duration (`1h30m`, `45s`)' : 'string';
    case undefined:
      return 'any';
    default:
      return String(node.type);
  }
}

const plural = (t: string) => (/^(string|integer|boolean|mapping)$/.test(t) ? `${t}s` : t);

/** The section a field is listed under. */
function sectionOf(path: string): string {
  const action = /^spec\.actions\[\]\.([a-z]+)/i.exec(path);
  if (action && action[1] !== 'forEach') return `spec.actions[].${action[1]}`;
  if (path.startsWith('spec.actions')) return 'spec.actions[]';
  for (const s of ['spec.watch', 'spec.generate', 'spec.limits', 'metadata']) if (path === s || path.startsWith(`${s}.`)) return s;
  return path.startsWith('spec') ? 'spec' : 'Rule';
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => (s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``);

/** The text of docs/reference.md. */
export function ruleReference(): string {
  const fields = schemaFields(DOCUMENTED_RULE_SCHEMA);
  const sections = new Map<string, SchemaField[]>();
  for (const f of fields) {
    const s = sectionOf(f.path);
    sections.set(s, [...(sections.get(s) ?? []), f]);
  }
  const out = [
    '<!-- Generated from src/engine/schema.ts by `npm run gen`; do not edit by hand. -->',
    '# Rule reference',
    '',
    'Every field of a rule, kind `ClusterRule` or `Rule` (`apiVersion: reflex.dev/v1alpha1`): its type,',
    'its default and an example. Unknown fields are errors, reported as `file:line:col` by `reflex validate`.',
    '[rules.md](rules.md) explains how rules load, evaluate and act; this page is the field list.',
    '[crds.md](crds.md) explains the two kinds as Kubernetes objects (the CRDs carry these descriptions',
    'for `kubectl explain`).',
    '',
    'A field shown as `a.b[]` is an item of the list `a.b`. "one `{{ expression }}`" means a string',
    'that is exactly one template, whose value (of the field\'s type) is computed per object.',
    '',
    '## Editor support',
    '',
    `\`${RULE_SCHEMA_PATH}\` is the same schema as JSON Schema (draft-07), shipped in the package and`,
    'in the repository. With the YAML language server (VS Code\'s YAML extension, Neovim, Helix…), put',
    'this line at the top of a rule file to get completion, hover text and checks as you type (the',
    'path is relative to the rule file; point it at your checkout or at',
    '`node_modules/kube-reflex/schema/rule.schema.json`):',
    '',
    '```yaml',
    '# yaml-language-server: $schema=../schema/rule.schema.json',
    'apiVersion: reflex.dev/v1alpha1',
    'kind: ClusterRule',
    '```',
    '',
    'or map it to a glob once in the editor settings, e.g. for VS Code:',
    '`"yaml.schemas": {"./schema/rule.schema.json": "rules/*.yaml"}`. The editor checks the',
    'structure; `reflex validate` also compiles the expressions, selectors and schedules.',
  ];
  for (const [section, list] of sections) {
    out.push('', `## ${section}`, '', '| field | type | default | description | example |', '|---|---|---|---|---|');
    for (const f of list) {
      const doc = FIELD_DOCS[f.path];
      const def = f.required ? 'required' : doc?.default !== undefined ? code(JSON.stringify(doc.default).replace(/^"(.*)"$/, '$1')) : '';
      out.push(`| ${code(f.path)} | ${cell(typeText(f.node))} | ${def} | ${cell(doc?.description ?? '')} | ${doc?.example ? code(doc.example) : ''} |`);
    }
  }
  out.push(
    '',
    '## Keeping this page current',
    '',
    'The descriptions, defaults and examples live in `FIELD_DOCS` in `src/engine/schema.ts`, beside',
    'the schema. After adding or changing a field there, run `npm run gen`: it rewrites this page,',
    `\`${RULE_SCHEMA_PATH}\`, docs/cli.md and the chart's values.schema.json. A test fails while any`,
    'of them is stale, or while a field has no entry in `FIELD_DOCS`.',
  );
  return `${out.join('\n')}\n`;
}

/** The text of schema/rule.schema.json. */
export function ruleJsonSchema(): string {
  const doc = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://reflex.dev/schema/rule.schema.json',
    title: 'Reflex Rule (reflex.dev/v1alpha1)',
    ...DOCUMENTED_RULE_SCHEMA,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
