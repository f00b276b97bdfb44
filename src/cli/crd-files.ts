/**
 * crd-files: the CustomResourceDefinitions of kinds ClusterRule and Rule, generated from the rule
 * schema (src/engine/schema.ts, with its field docs) by converting it to a structural OpenAPI v3
 * schema, and written by `npm run gen` to config/crd/ and the chart's crds/.
 *
 * What JSON Schema says and a structural schema cannot (a value that is a boolean or one
 * `{{ expression }}`, a watch that is a mapping or a list, unknown fields as errors) is left to the
 * loader: the API server keeps such a field as it is, and the daemon reports what it finds wrong
 * in the rule's status. Unknown fields are pruned by the API server, or rejected with strict field
 * validation (kubectl's default).
 */
import { dump } from 'js-yaml';
import { DOCUMENTED_RULE_SCHEMA } from '../engine/index.js';
import { RULE_STATUS_SCHEMA } from './crd-status.js';

type Node = Record<string, unknown>;

/** The two kinds, their CRD names and where their files go. */
export const CRD_KINDS = [
  { kind: 'ClusterRule', plural: 'clusterrules', scope: 'Cluster' },
  { kind: 'Rule', plural: 'rules', scope: 'Namespaced' },
] as const;

export type CrdKind = (typeof CRD_KINDS)[number]['kind'];

export const CRD_GROUP = 'reflex.dev';
export const CRD_VERSION = 'v1alpha1';
export const CRD_DIRS = ['config/crd', 'charts/reflex/crds'];

const PRESERVE = 'x-kubernetes-preserve-unknown-fields';

/** A description with the field's default appended (the CRD sets no defaults but `spec.mode`'s). */
function describe(node: Node): Node {
  const text = typeof node.description === 'string' ? node.description : '';
  if (node.default === undefined) return text ? { description: text } : {};
  const value = typeof node.default === 'string' ? node.default : JSON.stringify(node.default);
  return { description: `${text}${text ? ' ' : ''}Default: ${value}.` };
}

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v);

/** The JSON types a node admits, branches included (`template` is a string). */
function typesOf(node: Node): Set<string> {
  if (Array.isArray(node.anyOf)) return new Set((node.anyOf as Node[]).flatMap((b) => [...typesOf(b)]));
  if ('const' in node) return new Set([typeOf(node.const)]);
  if (Array.isArray(node.enum)) return new Set((node.enum as unknown[]).map(typeOf));
  if (Array.isArray(node.type)) return new Set(node.type as string[]);
  if (typeof node.type === 'string') return new Set([node.type]);
  return new Set();
}

/** The mapping among a node's alternatives (its own properties, an `anyOf` branch's, an `if/then`'s). */
function mappingOf(node: Node): Node | undefined {
  if (node.properties) return node;
  const branches = [...((node.anyOf as Node[] | undefined) ?? []), ...(['then', 'else'] as const).map((k) => node[k] as Node | undefined).filter((b): b is Node => !!b)];
  for (const b of branches) {
    const m = mappingOf(b);
    if (m) return m;
  }
  return undefined;
}

/** The list among a node's alternatives: its own items or an `if/then` branch's. */
function listOf(node: Node): Node | undefined {
  if (node.items) return node;
  for (const k of ['then', 'else'] as const) {
    const b = node[k] as Node | undefined;
    const l = b && listOf(b);
    if (l) return l;
  }
  return undefined;
}

const SCALAR_VALIDATIONS = ['pattern', 'minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems'];

/** One node of the rule schema as a structural schema node. */
export function structural(node: Node): Node {
  const out: Node = { ...describe(node) };
  const types = typesOf(node);
  if (types.size === 0) return { ...out, [PRESERVE]: true }; // any value (a webhook body)
  if (types.size > 1) {
    const rest = [...types].filter((t) => t !== 'null');
    if (types.has('null') && rest.length === 1) return { ...structural({ ...(mappingOf(node) ?? { type: rest[0] }), ...describe(node) }), nullable: true };
    if (types.size === 2 && types.has('integer') && types.has('string')) return { ...out, 'x-kubernetes-int-or-string': true };
    // A mapping or a list (spec.watch), a boolean or an expression, a mapping or a template: kept
    // as written; the documented fields of a mapping or list alternative are still listed.
    const mapping = mappingOf(node);
    const list = listOf(node);
    if (mapping) out.properties = properties(mapping);
    if (list?.items) out.items = structural(list.items as Node);
    return { ...out, [PRESERVE]: true };
  }
  const type = [...types][0];
  out.type = type;
  if (Array.isArray(node.enum) || 'const' in node) out.enum = Array.isArray(node.enum) ? node.enum : [node.const];
  for (const k of SCALAR_VALIDATIONS) if (node[k] !== undefined) out[k] = node[k];
  if (type === 'array') {
    const items = structural((node.items as Node | undefined) ?? {});
    out.items = items;
    // uniqueItems is not allowed in CRDs; a list of scalars that must be unique is a set.
    if (node.uniqueItems === true && typeof items.type === 'string' && items.type !== 'object' && items.type !== 'array') out['x-kubernetes-list-type'] = 'set';
  }
  if (type === 'object') {
    if (node.properties) {
      out.properties = properties(node);
      if (Array.isArray(node.required) && node.required.length > 0) out.required = node.required;
    } else if (node.additionalProperties && typeof node.additionalProperties === 'object') {
      out.additionalProperties = structural(node.additionalProperties as Node);
    } else {
      out[PRESERVE] = true; // an object template: any mapping
    }
  }
  return out;
}

function properties(node: Node): Record<string, Node> {
  return Object.fromEntries(Object.entries(node.properties as Record<string, Node>).map(([k, v]) => [k, structural(v)]));
}

/** The `spec` schema of one kind: `serviceAccountName` only for the namespaced Rule; `mode` defaulted for the Mode column. */
export function specSchema(kind: CrdKind): Node {
  const spec = structural((DOCUMENTED_RULE_SCHEMA.properties as Record<string, Node>).spec);
  const props = { ...(spec.properties as Record<string, Node>) };
  if (kind === 'ClusterRule') delete props.serviceAccountName;
  props.mode = { ...props.mode, default: 'enforce' };
  return { ...spec, properties: props };
}

/** The whole `openAPIV3Schema` of one kind. */
export function openApiSchema(kind: CrdKind): Node {
  const top = DOCUMENTED_RULE_SCHEMA.properties as Record<string, Node>;
  const scope = kind === 'ClusterRule' ? 'A cluster-wide Reflex rule' : 'A Reflex rule confined to its namespace';
  return {
    type: 'object',
    description: `${scope}: what to watch, when to act and what to do. Its status says whether it loaded and what it did.`,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      metadata: { type: 'object' },
      spec: { ...specSchema(kind), description: String(top.spec.description) },
      status: RULE_STATUS_SCHEMA,
    },
  };
}

/** The printer columns of both kinds. */
export const PRINTER_COLUMNS = [
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: 'Whether the rule is loaded and active.' },
  // The API server prints the first value a JSONPath finds: a rule with several watches shows its first kind.
  { name: 'Kind', type: 'string', jsonPath: '.spec.watch..kind', description: 'The watched kind (the first, for a rule with several watches).' },
  { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'enforce or audit.' },
  { name: 'Last run', type: 'date', jsonPath: '.status.lastEvaluationTime', description: 'When the rule last evaluated an object.' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** The CustomResourceDefinition object of one kind. */
export function crd(kind: CrdKind): Node {
  const k = CRD_KINDS.find((c) => c.kind === kind)!;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${k.plural}.${CRD_GROUP}`, labels: { 'app.kubernetes.io/name': 'reflex', 'app.kubernetes.io/component': 'crd' } },
    spec: {
      group: CRD_GROUP,
      names: { kind, listKind: `${kind}List`, plural: k.plural, singular: kind.toLowerCase(), categories: ['reflex'] },
      scope: k.scope,
      versions: [
        {
          name: CRD_VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: openApiSchema(kind) },
          subresources: { status: {} },
          additionalPrinterColumns: PRINTER_COLUMNS,
        },
      ],
    },
  };
}

/** The file name of one kind's CRD, e.g. `clusterrules.reflex.dev.yaml`. */
export const crdFileName = (kind: CrdKind) => `${CRD_KINDS.find((c) => c.kind === kind)!.plural}.${CRD_GROUP}.yaml`;

/** The YAML text of one kind's CRD. */
export function crdYaml(kind: CrdKind): string {
  return `# Generated from src/engine/schema.ts by \`npm run gen\`; do not edit by hand.\n${dump(crd(kind), { lineWidth: -1, noRefs: true })}`;
}

/** Every CRD file: each kind in each CRD directory. */
export function crdFiles(): { path: string; text: string }[] {
  return CRD_DIRS.flatMap((dir) => CRD_KINDS.map((k) => ({ path: `${dir}/${crdFileName(k.kind)}`, text: crdYaml(k.kind) })));
}
