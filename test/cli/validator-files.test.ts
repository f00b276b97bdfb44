import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { loadAll } from 'js-yaml';
import { repositoryRoot } from '../../src/cli/generate.js';
import { DAEMON_CONFIG_OPTIONS, DAEMON_CONFIG_SCHEMA, defaultConfig } from '../../src/daemon/index.js';
import { RENDERED_ACTION_SCHEMAS, RULE_SCHEMA, SCHEMA_VALIDATOR_OPTIONS } from '../../src/engine/index.js';
import * as ruleValidators from '../../src/engine/schema-validators.generated.js';
import * as configValidators from '../../src/daemon/config-validator.generated.js';

type Doc = Record<string, unknown>;

/** The generated validator and one ajv compiles now give the same verdict and the same errors. */
function same(generated: unknown, compiled: ValidateFunction, values: unknown[]): void {
  const g = generated as ValidateFunction;
  for (const value of values) {
    const verdict = compiled(value);
    expect(g(value), JSON.stringify(value)).to.equal(verdict);
    expect(JSON.parse(JSON.stringify(g.errors ?? null)), JSON.stringify(value)).to.deep.equal(JSON.parse(JSON.stringify(compiled.errors ?? null)));
  }
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('generated validators (ajv standalone code)', () => {
  const rules = readdirSync(join(repositoryRoot, 'rules'))
    .filter((f) => /\.yaml$/.test(f) && !/\.test\.yaml$/.test(f))
    .flatMap((f) => loadAll(readFileSync(join(repositoryRoot, 'rules', f), 'utf8')) as Doc[]);

  it('check a rule document as ajv compiling RULE_SCHEMA does: the bundled rules and broken variants of them', () => {
    const broken = rules.flatMap((r) => {
      const spec = r.spec as Doc;
      return [
        { ...r, spec: { ...spec, bogus: true } },
        { ...r, metadata: {} },
        { ...r, metadata: { name: 'Not_A_Name' } },
        { ...r, kind: 'Other' },
        { ...r, spec: { ...spec, watch: 42 } },
        { ...r, spec: { ...spec, watch: [] } },
        { ...r, spec: { ...spec, actions: [{ nothing: {} }, { delete: { gracePeriodSeconds: 'soon' } }] } },
        { ...r, spec: { ...spec, resync: 7, mode: 'sometimes' } },
        42,
        null,
      ];
    });
    expect(rules.length).to.be.greaterThan(5);
    same(ruleValidators.rule, new Ajv(SCHEMA_VALIDATOR_OPTIONS).compile(RULE_SCHEMA), [...rules, ...broken]);
  });

  it("check an action's rendered fields as ajv compiling RENDERED_ACTION_SCHEMAS does", () => {
    const values = [{}, { target: 42 }, { gracePeriodSeconds: 'soon', force: 'yes' }, { patch: 42, type: 'other' }, { object: [] }, { message: 7, reason: {} }, { url: '' }, 'text'];
    for (const [kind, schema] of Object.entries(RENDERED_ACTION_SCHEMAS)) {
      same((ruleValidators as Record<string, unknown>)[`rendered_${kind}`], new Ajv(SCHEMA_VALIDATOR_OPTIONS).compile(schema), values);
    }
  });

  it('check the configuration as ajv compiling DAEMON_CONFIG_SCHEMA does', () => {
    const base = clone(defaultConfig({})) as unknown as Doc;
    const values = [
      base,
      { ...base, workers: 0 },
      { ...base, workers: 'many' },
      { ...base, bogus: 1 },
      { ...base, log: { level: 'loud', format: 'json' } },
      { ...base, metrics: { address: 'nowhere' } },
      [],
    ];
    same(configValidators.config, new Ajv(DAEMON_CONFIG_OPTIONS).compile(DAEMON_CONFIG_SCHEMA), values);
  });
});
