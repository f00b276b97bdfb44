/** The chart's values file and schema stay in step with what the repository ships. */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { repoRoot } from '../support/control-plane.js';

const chart = join(repoRoot, 'charts', 'reflex');
const shipped = readdirSync(join(repoRoot, 'rules'))
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''))
  .sort();

describe('charts/reflex values', () => {
  const values = load(readFileSync(join(chart, 'values.yaml'), 'utf8')) as { bundledRules: { enabled: boolean; rules: string[]; modes: Record<string, string> }; replicaCount: number };
  const schema = JSON.parse(readFileSync(join(chart, 'values.schema.json'), 'utf8'));

  it('load no bundled rule by default, so installing changes nothing', () => {
    expect(values.bundledRules.rules).to.deep.equal([]);
    expect(values.bundledRules.modes).to.deep.equal({});
  });

  it('accept exactly the shipped rule names in bundledRules.rules', () => {
    expect(schema.properties.bundledRules.properties.rules.items.enum).to.deep.equal(shipped);
  });

  it('run two replicas', () => {
    expect(values.replicaCount).to.equal(2);
  });

  it('give the package version as the chart\'s appVersion', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    const chartYaml = load(readFileSync(join(chart, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    expect(chartYaml.appVersion).to.equal(pkg.version);
  });
});
