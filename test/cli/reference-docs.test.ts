import { expect } from 'chai';
import { Ajv } from 'ajv';
import { load, loadAll } from 'js-yaml';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ruleJsonSchema, ruleReference, typeText } from '../../src/cli/reference-docs.js';
import { DOCUMENTED_RULE_SCHEMA, FIELD_DOCS, RULE_SCHEMA, schemaFields } from '../../src/engine/index.js';
import { repositoryRoot } from '../../src/cli/generate.js';

const fields = schemaFields(DOCUMENTED_RULE_SCHEMA);

describe('the rule reference (docs/reference.md, schema/rule.schema.json)', () => {
  it('has a description for every field of the schema, and no entry for a field that does not exist', () => {
    const paths = fields.map((f) => f.path);
    const undocumented = paths.filter((p) => !FIELD_DOCS[p]);
    expect(undocumented, 'add these to FIELD_DOCS in src/engine/schema.ts, then run npm run gen').to.deep.equal([]);
    expect(Object.keys(FIELD_DOCS).filter((p) => !paths.includes(p)), 'FIELD_DOCS entries naming no field').to.deep.equal([]);
  });

  it('lists every field with its type, default and example, and every example parses as YAML', () => {
    const page = ruleReference();
    for (const f of fields) {
      expect(page, f.path).to.contain(`| \`${f.path}\` | ${typeText(f.node).replace(/\|/g, '\\|')} |`);
      const example = FIELD_DOCS[f.path].example;
      if (example !== undefined) expect(() => load(example), `${f.path}: ${example}`).to.not.throw();
    }
    expect(page).to.contain('| `spec.actions[].patch.type` | one of `merge`, `json`, `strategic` | `merge` |');
    expect(page).to.contain('| `spec.watch.kind` | string | required |');
  });

  it('leaves the schema the validator uses unchanged (the descriptions go on a copy)', () => {
    expect(JSON.stringify(RULE_SCHEMA)).to.not.contain('"description":"The version');
    expect(JSON.stringify(DOCUMENTED_RULE_SCHEMA)).to.contain('"description":"The version of the rule format."');
  });

  it('publishes a JSON Schema that accepts every shipped rule and rejects a misspelt field', () => {
    const schema = JSON.parse(ruleJsonSchema()) as Record<string, unknown>;
    const validate = new Ajv({ strict: false }).compile(schema);
    const dir = join(repositoryRoot, 'rules');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml') && !n.endsWith('.test.yaml'))) {
      for (const doc of loadAll(readFileSync(join(dir, f), 'utf8'))) expect(validate(doc), `${f}: ${JSON.stringify(validate.errors)}`).to.equal(true);
    }
    expect(validate({ apiVersion: 'reflex.dev/v1alpha1', kind: 'Rule', metadata: { name: 'x' }, spec: { wacth: {} } })).to.equal(false);
    expect(schema.$schema).to.equal('http://json-schema.org/draft-07/schema#');
  });
});

describe('the docs a user reads', () => {
  it('show in the README the bundled rule they name, verbatim', () => {
    const readme = readFileSync(join(repositoryRoot, 'README.md'), 'utf8');
    const sample = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(sample).to.equal(readFileSync(join(repositoryRoot, 'rules', 'delete-finished-jobs.yaml'), 'utf8'));
  });

  it('never point at files a user of the project does not have', () => {
    const docs = ['README.md', ...readdirSync(join(repositoryRoot, 'docs')).map((f) => `docs/${f}`)];
    for (const d of docs) expect(readFileSync(join(repositoryRoot, d), 'utf8'), d).to.not.match(/design\.md|\.\.\/shared/);
  });
});
