/**
 * `reflex rbac PATH…`: prints the least-privilege ClusterRole the rules need, the Role the daemon
 * needs in its own namespace, and the ServiceAccount and bindings that grant both to it.
 * No wildcards; the same rules always print the same text.
 */
import { dump, loadAll } from 'js-yaml';
import { readSourceFiles } from '../daemon/index.js';
import { defineCommand, HELP, NAMESPACE, output } from './flags.js';
import { analyseRules, toPolicyRules, type CustomKind, type Grant, type PolicyRule } from './rbac-policy.js';
import { loadRuleFiles, reportLoadErrors } from './rule-sources.js';

/** Options of the printed roles. */
export interface RbacOutputOptions {
  /** Name of the ClusterRole and the Role. Default `reflex`. */
  name?: string;
  /** The daemon's namespace, where the Role goes. Default `reflex`. */
  namespace?: string;
  /** Leave out the ServiceAccount and the bindings (`--roles-only`). */
  rolesOnly?: boolean;
}

/** The ServiceAccount and the bindings of both roles to it (all named like the roles). */
function bindingDocuments(options: RbacOutputOptions): Record<string, unknown>[] {
  const name = options.name ?? 'reflex';
  const namespace = options.namespace ?? 'reflex';
  const rbac = 'rbac.authorization.k8s.io/v1';
  const subjects = [{ kind: 'ServiceAccount', name, namespace }];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
    { apiVersion: rbac, kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name }, subjects },
    { apiVersion: rbac, kind: 'RoleBinding', metadata: { name, namespace }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name }, subjects },
  ];
}

/** The RBAC documents of an analysis, as plain objects (for `--output json` and tests). */
export function rbacDocuments(cluster: Grant[], namespace: Grant[], options: RbacOutputOptions = {}): Record<string, unknown>[] {
  const name = options.name ?? 'reflex';
  const meta = { apiVersion: 'rbac.authorization.k8s.io/v1' };
  return [
    { ...meta, kind: 'ClusterRole', metadata: { name }, rules: toPolicyRules(cluster) },
    { ...meta, kind: 'Role', metadata: { name, namespace: options.namespace ?? 'reflex' }, rules: toPolicyRules(namespace) },
    ...(options.rolesOnly ? [] : bindingDocuments(options)),
  ];
}

const plainScalar = /^[A-Za-z0-9][A-Za-z0-9./_-]*$/;
const scalar = (s: string) => (plainScalar.test(s) && !/^(true|false|null|yes|no|on|off|~)$/i.test(s) ? s : JSON.stringify(s));
const flow = (xs: string[]) => `[${xs.map(scalar).join(', ')}]`;

/** Why each policy rule exists: the reasons of the grants it covers. */
function reasonsOf(rule: PolicyRule, grants: Grant[]): string[] {
  const rs = new Set<string>();
  for (const g of grants) if (g.apiGroup === rule.apiGroups[0] && rule.resources.includes(g.resource)) g.reasons.forEach((r) => rs.add(r));
  return [...rs].sort();
}

function yamlRole(kind: string, metadata: string[], rules: PolicyRule[], grants: Grant[]): string {
  const lines = ['apiVersion: rbac.authorization.k8s.io/v1', `kind: ${kind}`, 'metadata:', ...metadata.map((m) => `  ${m}`), 'rules:'];
  if (rules.length === 0) lines[lines.length - 1] = 'rules: []';
  for (const r of rules) {
    for (const why of reasonsOf(r, grants)) lines.push(`  # ${why}`);
    lines.push(`  - apiGroups: ${flow(r.apiGroups)}`, `    resources: ${flow(r.resources)}`, `    verbs: ${flow(r.verbs)}`);
  }
  return lines.join('\n');
}

/** The YAML text `reflex rbac` prints: a ClusterRole, a Role (each policy rule commented with why it is there), then the ServiceAccount and bindings. */
export function formatRbacYaml(cluster: Grant[], namespace: Grant[], ruleNames: string[], notes: string[], options: RbacOutputOptions = {}): string {
  const name = scalar(options.name ?? 'reflex');
  const head = [
    '# Least-privilege RBAC for the rules below, printed by `reflex rbac`.',
    `# Rules: ${ruleNames.length ? [...ruleNames].sort().join(', ') : '(none)'}`,
    ...notes.map((n) => `# NOTE: ${n}`),
  ];
  return [
    ...head,
    yamlRole('ClusterRole', [`name: ${name}`], toPolicyRules(cluster), cluster),
    '---',
    '# The daemon in its own namespace: rule ConfigMaps, the leader-election Lease, Events.',
    yamlRole('Role', [`name: ${name}`, `namespace: ${scalar(options.namespace ?? 'reflex')}`], toPolicyRules(namespace), namespace),
    ...(options.rolesOnly ? [] : ['---', '# The identity the daemon runs as, bound to both roles.', dump(bindingDocuments(options)[0]).trimEnd(), '---', dump(bindingDocuments(options)[1]).trimEnd(), '---', dump(bindingDocuments(options)[2]).trimEnd()]),
    '',
  ].join('\n');
}

/** Custom kinds from CustomResourceDefinition manifests (other documents are ignored). */
export function customKinds(texts: string[]): CustomKind[] {
  const out: CustomKind[] = [];
  for (const text of texts) {
    for (const doc of loadAll(text) as Record<string, unknown>[]) {
      if (doc?.kind !== 'CustomResourceDefinition') continue;
      const spec = (doc.spec ?? {}) as { group?: string; names?: { kind?: string; plural?: string }; versions?: { name?: string }[] };
      if (!spec.group || !spec.names?.kind || !spec.names.plural) continue;
      out.push({ group: spec.group, kind: spec.names.kind, plural: spec.names.plural, versions: (spec.versions ?? []).map((v) => String(v.name)) });
    }
  }
  return out;
}

export const rbacCommand = defineCommand(
  {
    name: 'rbac',
    summary: 'print the least-privilege RBAC (roles, ServiceAccount, bindings) the given rules need',
    positionals: { name: 'PATH…', help: 'rule files or directories; - reads stdin', required: true },
    flags: [
      { name: 'crds', value: 'PATH', multiple: true, help: 'CustomResourceDefinition manifests, for the resource names of custom kinds' },
      { name: 'name', value: 'NAME', default: 'reflex', help: 'name of the roles, the ServiceAccount and the bindings' },
      NAMESPACE("the daemon's namespace: the Role, ServiceAccount and RoleBinding (default reflex)"),
      { name: 'roles-only', type: 'boolean', help: 'print the ClusterRole and the Role only' },
      output(['yaml', 'json']),
      HELP,
    ],
    exits: { 1: 'a rule or CRD file cannot be read or loaded' },
    examples: ['reflex rbac rules/ --crds crds/ -n platform | kubectl apply -f -'],
  },
  async ({ values: v, positionals }, io) => {
    let loaded, crds: CustomKind[];
    try {
      loaded = await loadRuleFiles(positionals, { flag: 'PATH' });
      crds = customKinds((await readSourceFiles((v.crds as string[] | undefined) ?? [])).map((f) => f.text));
    } catch (err) {
      io.err(`reflex rbac: ${(err as Error).message}`);
      return 1;
    }
    if (reportLoadErrors(loaded, io) > 0) {
      io.err('reflex rbac: fix the rules above first; the roles of rules that do not load cannot be derived');
      return 1;
    }
    const analysis = analyseRules(loaded.rules, crds);
    for (const n of analysis.notes) io.err(`reflex rbac: note: ${n}`);
    const options = { name: v.name as string, namespace: v.namespace as string | undefined, rolesOnly: v['roles-only'] === true };
    if (v.output === 'json') io.out(JSON.stringify(rbacDocuments(analysis.cluster, analysis.namespace, options), null, 2));
    else io.out(formatRbacYaml(analysis.cluster, analysis.namespace, loaded.rules.map((r) => r.name), analysis.notes, options));
    return 0;
  },
);
