/**
 * chart-files: the chart's generated files. files/rbac.json holds, for each bundled rule, the
 * ClusterRole rules it needs (`reflex rbac rules/NAME.yaml --crds examples/`), the Role the
 * daemon needs in its own namespace, what it needs to run namespaced rules as their
 * ServiceAccounts (`rbac.namespacedRules`) and what it needs of ClusterRule and Rule objects
 * (`ruleObjects`, always granted); the chart grants only what the enabled rules need.
 * values.schema.json gets the daemon's configuration schema for `config:` and the bundled rule
 * names for `bundledRules.rules` and `bundledRules.modes`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DAEMON_CONFIG_SCHEMA } from '../daemon/index.js';
import { loadRules } from '../engine/index.js';
import { analyseRules, namespacedRulePolicy, RULE_OBJECT_GRANTS, ruleObjectPolicy, toPolicyRules } from './rbac-policy.js';
import { customKinds } from './rbac.js';

export const CHART_RBAC_PATH = 'charts/reflex/files/rbac.json';
export const VALUES_SCHEMA_PATH = 'charts/reflex/values.schema.json';

const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && !/\.test\.ya?ml$/.test(f)).sort();

/** The bundled rules' names (rules/NAME.yaml), sorted. */
export function bundledRuleNames(root: string): string[] {
  return yamlFiles(join(root, 'rules')).map((f) => f.replace(/\.ya?ml$/, ''));
}

/** The text of files/rbac.json. */
export function chartRbac(root: string): string {
  const crds = customKinds(yamlFiles(join(root, 'examples')).map((f) => readFileSync(join(root, 'examples', f), 'utf8')));
  const rules: Record<string, unknown> = {};
  let namespaceRole: unknown = [];
  for (const name of bundledRuleNames(root)) {
    const file = `rules/${name}.yaml`;
    const loaded = loadRules([{ file, text: readFileSync(join(root, file), 'utf8') }]);
    if (loaded.errors.length) throw new Error(`${file} does not load: ${loaded.errors[0].message}`);
    const analysis = analyseRules(loaded.rules, crds);
    // What the daemon needs of rule objects is `ruleObjects`, granted whatever the rules.
    const own = (g: { apiGroup: string; resource: string }) => RULE_OBJECT_GRANTS.some((x) => x.apiGroup === g.apiGroup && x.resource === g.resource);
    rules[name] = toPolicyRules(analysis.cluster.filter((g) => !own(g)));
    namespaceRole = toPolicyRules(analysis.namespace);
  }
  return `${JSON.stringify({ namespaceRole, namespacedRules: namespacedRulePolicy(), ruleObjects: ruleObjectPolicy(), rules }, null, 2)}\n`;
}

/** The chart's values schema as written, with `config`, `bundledRules.rules` and `bundledRules.modes` generated. */
export function valuesSchema(root: string): string {
  const schema = JSON.parse(readFileSync(join(root, VALUES_SCHEMA_PATH), 'utf8')) as {
    properties: Record<string, Record<string, unknown> & { properties?: Record<string, { items?: Record<string, unknown> }> }>;
  };
  schema.properties.config = {
    description: "Settings merged over the chart's reflex.yaml: the daemon's configuration schema (config/reflex.yaml documents each field); unknown fields and bad values fail helm install and helm template.",
    ...(DAEMON_CONFIG_SCHEMA as Record<string, unknown>),
  };
  const bundled = schema.properties.bundledRules?.properties as Record<string, { items?: Record<string, unknown>; properties?: Record<string, unknown> }> | undefined;
  if (bundled?.rules?.items) bundled.rules.items.enum = bundledRuleNames(root);
  if (bundled?.modes) bundled.modes.properties = Object.fromEntries(bundledRuleNames(root).map((name) => [name, { enum: ['enforce', 'audit'] }]));
  return `${JSON.stringify(schema, null, 2)}\n`;
}
