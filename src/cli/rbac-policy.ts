/**
 * rbac-policy: the least-privilege permissions a set of compiled rules needs, derived statically
 * from what they watch, what their expressions look up (`$get`/`$list` with literal kinds) and
 * the verbs their actions send. Pure: no I/O.
 */
import jsonata from 'jsonata';
import { parseApiVersion } from '../core/index.js';
import { builtinKind, generatedKinds, type CompiledAction, type CompiledRule, type Expression } from '../engine/index.js';

/** One grant: verbs on one resource (`pods`, `deployments/status`) of one API group. */
export interface Grant {
  apiGroup: string;
  resource: string;
  verbs: Set<string>;
  /** Why: `rule-name: watch`, `rule-name: $get`, `rule-name: actions[0].delete`, `daemon: …`. */
  reasons: Set<string>;
}

/** A policy rule of a (Cluster)Role, as written in YAML. */
export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** What a CRD manifest says about a custom kind: its group, versions, plural and scope. */
export interface CustomKind {
  group: string;
  versions: string[];
  kind: string;
  plural: string;
}

/** The analysis of a rule set. */
export interface RbacAnalysis {
  /** Cluster-wide grants (the ClusterRole). */
  cluster: Grant[];
  /** Grants in the daemon's own namespace (the Role). */
  namespace: Grant[];
  /** What could not be derived, or was guessed: one line each, naming the rule and the place. */
  notes: string[];
}

/** The canonical verb order of kubectl's output. */
const VERB_ORDER = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const READ = ['get', 'list', 'watch'];

/**
 * Verbs each action sends to its target (src/actions): apply is a server-side apply PATCH, which
 * creates a missing object (so it needs create too); update GETs, re-renders against the current
 * object (read from the cache: list/watch) and PUTs; patch GETs the current object to skip no-op
 * patches; delete sends DELETE. event, log and webhook touch no target.
 */
const ACTION_VERBS: Record<string, string[]> = {
  apply: ['create', 'patch'],
  create: ['create'],
  update: ['get', 'list', 'watch', 'update'],
  patch: ['get', 'patch'],
  delete: ['delete'],
};

/**
 * The daemon's own needs, whatever the rules. Events about the objects of any namespace (event
 * actions, rule failures, loop-guard warnings): created, and on a repeat read and patched
 * (`series.count`).
 */
const EVENT_VERBS = ['create', 'get', 'patch'];

/** In the daemon's namespace: rule ConfigMaps (read and watched), the leader Lease, Events about rule ConfigMaps. */
export const NAMESPACE_GRANTS: readonly { apiGroup: string; resource: string; verbs: string[]; reason: string }[] = [
  { apiGroup: '', resource: 'configmaps', verbs: READ, reason: 'daemon: rule ConfigMaps (reflex.dev/rules=true)' },
  { apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'create', 'update'], reason: 'daemon: leader election Lease' },
  { apiGroup: 'events.k8s.io', resource: 'events', verbs: EVENT_VERBS, reason: 'daemon: Events about rule ConfigMaps' },
];

/**
 * Cluster-wide, to run namespaced rules as their ServiceAccounts: impersonate them (the API server
 * adds a ServiceAccount's groups itself, so no right to impersonate groups is needed), and ask
 * whether one may read what its rule reads from the daemon's caches.
 */
export const NAMESPACED_RULE_GRANTS: readonly { apiGroup: string; resource: string; verbs: string[]; reason: string }[] = [
  { apiGroup: '', resource: 'serviceaccounts', verbs: ['impersonate'], reason: 'daemon: a namespaced rule writes as its ServiceAccount' },
  { apiGroup: 'authorization.k8s.io', resource: 'subjectaccessreviews', verbs: ['create'], reason: 'daemon: a namespaced rule reads only what its ServiceAccount may' },
];

/** NAMESPACED_RULE_GRANTS as a ClusterRole's rules. */
export function namespacedRulePolicy(): PolicyRule[] {
  return policyOf(NAMESPACED_RULE_GRANTS);
}

/**
 * Cluster-wide, whatever the rules: rules as ClusterRule and Rule objects (rules.customResources,
 * on by default) are listed and watched, and the leader writes their status.
 */
export const RULE_OBJECT_GRANTS: readonly { apiGroup: string; resource: string; verbs: string[]; reason: string }[] = [
  { apiGroup: 'reflex.dev', resource: 'clusterrules', verbs: READ, reason: 'daemon: rules as ClusterRule objects' },
  { apiGroup: 'reflex.dev', resource: 'rules', verbs: READ, reason: 'daemon: rules as Rule objects' },
  { apiGroup: 'reflex.dev', resource: 'clusterrules/status', verbs: ['patch', 'update'], reason: 'daemon: the status of ClusterRule objects' },
  { apiGroup: 'reflex.dev', resource: 'rules/status', verbs: ['patch', 'update'], reason: 'daemon: the status of Rule objects' },
];

/** RULE_OBJECT_GRANTS as a ClusterRole's rules (the chart grants them always). */
export function ruleObjectPolicy(): PolicyRule[] {
  return policyOf(RULE_OBJECT_GRANTS);
}

/** Daemon grants as a ClusterRole's rules. */
function policyOf(grants: readonly { apiGroup: string; resource: string; verbs: string[]; reason: string }[]): PolicyRule[] {
  const g = new Grants();
  for (const x of grants) g.add(x.apiGroup, x.resource, x.verbs, x.reason);
  return toPolicyRules(g.all());
}

type TemplateNode = CompiledAction['fields'];

class Grants {
  private readonly byKey = new Map<string, Grant>();
  add(apiGroup: string, resource: string, verbs: readonly string[], reason: string): void {
    const key = `${apiGroup}|${resource}`;
    let g = this.byKey.get(key);
    if (!g) this.byKey.set(key, (g = { apiGroup, resource, verbs: new Set(), reasons: new Set() }));
    for (const v of verbs) g.verbs.add(v);
    g.reasons.add(reason);
  }
  all(): Grant[] {
    return [...this.byKey.values()].sort((a, b) => cmp(a.apiGroup, b.apiGroup) || cmp(a.resource, b.resource));
  }
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Analyses `rules`; `crds` name the plurals of custom kinds (else lowercase kind + "s", with a note). */
export function analyseRules(rules: CompiledRule[], crds: CustomKind[] = []): RbacAnalysis {
  const cluster = new Grants();
  const notes: string[] = [];
  const resourceOf = (apiVersion: string, kind: string, rule: string): { group: string; resource: string } => {
    const { group, version } = parseApiVersion(apiVersion);
    const builtin = builtinKind(apiVersion, kind);
    if (builtin) return { group, resource: builtin.plural };
    const crd = crds.find((c) => c.group === group && c.kind === kind && c.versions.includes(version));
    if (crd) return { group, resource: crd.plural };
    const guess = guessPlural(kind);
    const note = `${kind} (${apiVersion}): plural guessed as "${guess}"; pass its CustomResourceDefinition with --crds to be sure (rule "${rule}")`;
    if (!notes.includes(note)) notes.push(note);
    return { group, resource: guess };
  };
  const grant = (apiVersion: string, kind: string, verbs: readonly string[], rule: string, why: string, subresource?: string) => {
    const { group, resource } = resourceOf(apiVersion, kind, rule);
    cluster.add(group, subresource ? `${resource}/${subresource}` : resource, verbs, `${rule}: ${why}`);
  };
  for (const rule of rules) {
    for (const w of rule.watches) {
      grant(w.apiVersion, w.kind, READ, rule.name, 'watch');
      if (w.namespaceSelector) grant('v1', 'Namespace', READ, rule.name, 'namespaceSelector');
    }
    for (const { where, expression } of expressionsOf(rule)) {
      for (const call of lookups(expression.source)) {
        if (call.kind === undefined) {
          notes.push(`rule "${rule.name}": ${where}: $${call.fn}(…) with a kind that is not a literal string; grant get, list, watch on it yourself`);
          continue;
        }
        grant(call.apiVersion as string, call.kind, READ, rule.name, `$${call.fn}`);
      }
    }
    for (const action of rule.actions) {
      const verbs = ACTION_VERBS[action.kind];
      if (!verbs) continue;
      const targets = actionTargets(rule, action);
      if (!targets) {
        notes.push(`rule "${rule.name}": ${action.where}: the target's apiVersion or kind is a template; grant ${verbs.join(', ')} on it yourself`);
        continue;
      }
      const sub = action.kind === 'patch' ? fieldNode(action.fields, 'subresource') : undefined;
      for (const t of targets) {
        if (sub === undefined) {
          grant(t.apiVersion, t.kind, verbs, rule.name, action.where);
        } else if (sub.t === 'lit' && typeof sub.v === 'string') {
          // A subresource patch reads the object and writes only KIND/subresource.
          grant(t.apiVersion, t.kind, ['get'], rule.name, action.where);
          grant(t.apiVersion, t.kind, ['patch'], rule.name, action.where, sub.v);
        } else {
          grant(t.apiVersion, t.kind, ['get'], rule.name, action.where);
        }
      }
      if (sub !== undefined && !(sub.t === 'lit' && typeof sub.v === 'string')) {
        notes.push(`rule "${rule.name}": ${action.where}: the subresource is a template; grant patch on it yourself`);
      }
    }
    if (rule.generate) {
      // Generated objects are applied, watched (their inventory, by label) and pruned.
      for (const { apiVersion, kind } of generatedKinds(rule)) grant(apiVersion, kind, GENERATE_VERBS, rule.name, 'generate');
      const templated = rule.generate.objects.length - rule.generate.objects.filter((o) => literalKind(o.object)).length;
      if (templated > 0) notes.push(`rule "${rule.name}": generate: an object's apiVersion or kind is a template; grant ${GENERATE_VERBS.join(', ')} on it yourself`);
    }
  }
  if (rules.length > 0) cluster.add('events.k8s.io', 'events', EVENT_VERBS, 'daemon: Events about rule actions and failures');
  if (rules.some((r) => r.runAs)) for (const g of NAMESPACED_RULE_GRANTS) cluster.add(g.apiGroup, g.resource, g.verbs, g.reason);
  for (const g of RULE_OBJECT_GRANTS) cluster.add(g.apiGroup, g.resource, g.verbs, g.reason);
  const ns = new Grants();
  for (const g of NAMESPACE_GRANTS) ns.add(g.apiGroup, g.resource, g.verbs, g.reason);
  return { cluster: cluster.all(), namespace: ns.all(), notes };
}

/** The plural client-go guesses for a kind without discovery (meta.UnsafeGuessKindToResource). */
export function guessPlural(kind: string): string {
  const k = kind.toLowerCase();
  if (k.endsWith('s')) return `${k}es`;
  if (k.endsWith('y') && !/[aeiou]y$/.test(k)) return `${k.slice(0, -1)}ies`;
  return `${k}s`;
}

/**
 * Verbs of a generated kind: read (the inventory informer), apply (a server-side apply PATCH that
 * creates a missing object, so create too; `synchronize: false` creates) and prune (delete).
 */
const GENERATE_VERBS = ['get', 'list', 'watch', 'create', 'patch', 'delete'];

/** Whether an object template names its apiVersion and kind literally. */
function literalKind(node: TemplateNode): boolean {
  return node.t === 'obj' && ['apiVersion', 'kind'].every((k) => {
    const v = node.entries.find(([key]) => key === k)?.[1];
    return v?.t === 'lit' && typeof v.v === 'string';
  });
}

function walkExpressions(n: TemplateNode, out: { where: string; expression: Expression }[]): void {
  if (n.t === 'expr') out.push({ where: n.where, expression: n.e });
  else if (n.t === 'text') n.parts.forEach((p) => typeof p !== 'string' && out.push({ where: n.where, expression: p }));
  else if (n.t === 'obj') n.entries.forEach(([, v]) => walkExpressions(v, out));
  else if (n.t === 'arr') n.items.forEach((i) => walkExpressions(i, out));
}

/** Every compiled expression of a rule, with where it is. */
function expressionsOf(rule: CompiledRule): { where: string; expression: Expression }[] {
  const out: { where: string; expression: Expression }[] = [];
  if (rule.when !== undefined && typeof rule.when !== 'boolean') out.push({ where: 'when', expression: rule.when });
  if (rule.changes) out.push({ where: 'changes', expression: rule.changes });
  if (rule.recheckAt) out.push({ where: 'recheckAt', expression: rule.recheckAt });
  for (const g of rule.generate?.objects ?? []) {
    if (g.forEach) out.push({ where: `${g.where}.forEach`, expression: g.forEach });
    walkExpressions(g.object, out);
  }
  for (const a of rule.actions) {
    if (a.forEach) out.push({ where: `${a.where}.forEach`, expression: a.forEach });
    const walk = (n: TemplateNode): void => {
      if (n.t === 'expr') out.push({ where: n.where, expression: n.e });
      else if (n.t === 'text') n.parts.forEach((p) => typeof p !== 'string' && out.push({ where: n.where, expression: p }));
      else if (n.t === 'obj') n.entries.forEach(([, v]) => walk(v));
      else if (n.t === 'arr') n.items.forEach(walk);
    };
    walk(a.fields);
  }
  return out;
}

interface Lookup {
  fn: 'get' | 'list';
  apiVersion?: string;
  kind?: string;
}

/** The `$get`/`$list` calls of a JSONata expression, with their apiVersion and kind when they are literal strings. */
export function lookups(source: string): Lookup[] {
  const out: Lookup[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const n = node as { type?: string; procedure?: { type?: string; value?: unknown }; arguments?: { type?: string; value?: unknown }[] };
    if (n.type === 'function' && n.procedure?.type === 'variable' && (n.procedure.value === 'get' || n.procedure.value === 'list')) {
      const [av, k] = n.arguments ?? [];
      const lit = (a: { type?: string; value?: unknown } | undefined) => (a?.type === 'string' ? String(a.value) : undefined);
      const apiVersion = lit(av);
      const kind = lit(k);
      out.push(apiVersion !== undefined && kind !== undefined ? { fn: n.procedure.value, apiVersion, kind } : { fn: n.procedure.value });
    }
    for (const v of Object.values(n)) visit(v);
  };
  visit(jsonata(source).ast());
  return out;
}

/** The literal value of field `key` of a template node, or undefined when absent or templated. */
function literalField(node: TemplateNode | undefined, key: string): unknown {
  if (!node) return undefined;
  if (node.t === 'lit') return (node.v as Record<string, unknown> | null)?.[key];
  if (node.t === 'obj') {
    const v = node.entries.find(([k]) => k === key)?.[1];
    return v?.t === 'lit' ? v.v : undefined;
  }
  return undefined;
}

function fieldNode(node: TemplateNode, key: string): TemplateNode | undefined {
  if (node.t === 'obj') return node.entries.find(([k]) => k === key)?.[1];
  if (node.t === 'lit' && node.v !== null && typeof node.v === 'object') {
    const v = (node.v as Record<string, unknown>)[key];
    return v === undefined ? undefined : { t: 'lit', v };
  }
  return undefined;
}

/**
 * The apiVersions and kinds an action writes to, when they are known without evaluating; undefined
 * when templated. A target defaults to the trigger, so an action of a rule with several watches
 * may write to each watched kind.
 */
function actionTargets(rule: CompiledRule, action: CompiledAction): { apiVersion: string; kind: string }[] | undefined {
  const key = action.kind === 'apply' || action.kind === 'create' ? 'object' : 'target';
  const node = fieldNode(action.fields, key);
  // A target defaults to the trigger, and so do its apiVersion and kind when only the name is given.
  const fallbacks: ({ apiVersion: string; kind: string } | undefined)[] = key === 'target' ? rule.watches : [undefined];
  const out: { apiVersion: string; kind: string }[] = [];
  for (const fallback of fallbacks) {
    if (!node) {
      if (fallback) out.push({ apiVersion: fallback.apiVersion, kind: fallback.kind });
      continue;
    }
    if (node.t !== 'obj' && node.t !== 'lit') return undefined;
    const pick = (k: 'apiVersion' | 'kind'): unknown => (fieldNode(node, k) === undefined ? fallback?.[k] : literalField(node, k));
    const apiVersion = pick('apiVersion');
    const kind = pick('kind');
    if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined;
    if (!out.some((t) => t.apiVersion === apiVersion && t.kind === kind)) out.push({ apiVersion, kind });
  }
  return out.length ? out : undefined;
}

/** Grants as policy rules: per API group, resources with the same verbs share a rule; verbs in kubectl's order. */
export function toPolicyRules(grants: Grant[]): PolicyRule[] {
  const order = (v: string) => (VERB_ORDER.indexOf(v) < 0 ? VERB_ORDER.length : VERB_ORDER.indexOf(v));
  const verbsOf = (g: Grant) => [...g.verbs].sort((a, b) => order(a) - order(b) || cmp(a, b));
  const out: PolicyRule[] = [];
  for (const g of grants) {
    const verbs = verbsOf(g);
    const same = out.find((r) => r.apiGroups[0] === g.apiGroup && r.verbs.join() === verbs.join());
    if (same) same.resources.push(g.resource);
    else out.push({ apiGroups: [g.apiGroup], resources: [g.resource], verbs });
  }
  for (const r of out) r.resources.sort();
  return out.sort((a, b) => cmp(a.apiGroups[0], b.apiGroups[0]) || cmp(a.resources[0], b.resources[0]));
}
