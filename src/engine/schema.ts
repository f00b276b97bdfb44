/**
 * schema: the JSON Schema of a rule document (reflex.dev/v1alpha1, kind ClusterRule or Rule), checked
 * with ajv's validation code generated from it (`npm run gen`). Unknown fields are errors everywhere. The CRDs are generated from it (src/cli/crd-files.ts).
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import * as generated from './schema-validators.generated.js';

/** A string that is exactly one `{{ expr }}`: allowed wherever a typed value may be computed. */
export const TEMPLATE_SCHEMA = { type: 'string', pattern: '^\\s*\\{\\{[\\s\\S]*\\}\\}\\s*$' };
const template = TEMPLATE_SCHEMA;
const str = { type: 'string' };
const strOrTemplate = str;
const boolOr = { anyOf: [{ type: 'boolean' }, template], 'x-expected': 'a boolean or one {{ expression }}' };
const intOr = (minimum: number) => ({ anyOf: [{ type: 'integer', minimum }, template], 'x-expected': `an integer >= ${minimum} or one {{ expression }}` });
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };

const labelSelector = {
  'x-expected': 'a selector string or {matchLabels, matchExpressions}',
  anyOf: [
    { type: 'string' },
    {
      type: 'object',
      additionalProperties: false,
      properties: {
        matchLabels: stringMap,
        matchExpressions: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['key', 'operator'],
            properties: {
              key: str,
              operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
              values: { type: 'array', items: str },
            },
          },
        },
      },
    },
  ],
};

/** A target: the trigger when omitted; a reference whose fields may be templates. */
const target = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { apiVersion: str, kind: str, namespace: str, name: { type: 'string', minLength: 1 } },
};

/** An object to create or apply: a mapping, or one template yielding it. */
const objectOrTemplate = { anyOf: [{ type: 'object' }, template], 'x-expected': 'a mapping or one {{ expression }}' };

const obj = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});

/** The schema of each action, by key. */
export const ACTION_SCHEMAS: Record<string, unknown> = {
  apply: obj({ object: objectOrTemplate, force: boolOr }, ['object']),
  create: obj({ object: objectOrTemplate, ifExists: { enum: ['skip', 'fail'] } }, ['object']),
  update: obj({ target, object: objectOrTemplate }, ['object']),
  patch: obj(
    {
      target,
      type: { enum: ['merge', 'json', 'strategic'] },
      patch: { anyOf: [{ type: 'object' }, { type: 'array' }, template], 'x-expected': 'a mapping, a list (json patch) or one {{ expression }}' },
      subresource: strOrTemplate,
      ignoreMissing: boolOr,
    },
    ['patch'],
  ),
  delete: {
    'x-expected': 'an empty value or a mapping of delete options',
    anyOf: [
      { type: 'null' },
      obj({
        target,
        propagationPolicy: { enum: ['Foreground', 'Background', 'Orphan'] },
        gracePeriodSeconds: intOr(0),
        ignoreMissing: boolOr,
      }),
    ],
  },
  event: obj({ target, type: { enum: ['Normal', 'Warning'] }, reason: str, message: str }, ['reason', 'message']),
  log: obj({ level: { enum: ['debug', 'info', 'warn', 'error'] }, message: str }, ['message']),
  webhook: obj(
    {
      url: str,
      method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] },
      headers: { anyOf: [{ type: 'object', additionalProperties: { type: 'string' } }, template], 'x-expected': 'a mapping of strings or one {{ expression }}' },
      body: {},
      timeout: { anyOf: [{ type: 'string', pattern: '^([0-9]+(ms|s|m|h))+$' }, { type: 'integer', minimum: 1 }], 'x-expected': 'a duration like 5s or 1500ms, or milliseconds' },
    },
    ['url'],
  ),
};

/** One watch: a kind and its selectors. `spec.watch` is one of these or a list of them. */
const watch = obj(
  {
    apiVersion: { type: 'string', minLength: 1 },
    kind: { type: 'string', minLength: 1 },
    namespaces: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
    namespaceSelector: labelSelector,
    labelSelector,
    fieldSelector: str,
  },
  ['apiVersion', 'kind'],
);

export const RULE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'reflex.dev/v1alpha1' },
    kind: { enum: ['ClusterRule', 'Rule'] },
    metadata: obj(
      {
        name: { type: 'string', maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' },
        namespace: { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
        labels: stringMap,
        annotations: stringMap,
      },
      ['name'],
    ),
    spec: obj(
      {
        description: str,
        suspend: { type: 'boolean' },
        revealSecretValues: { type: 'boolean' },
        serviceAccountName: { type: 'string', maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' },
        mode: { enum: ['enforce', 'audit'] },
        watch: {
          type: ['object', 'array'],
          if: { type: 'array' },
          then: { minItems: 1, items: watch },
          else: { if: { type: 'object' }, then: watch },
        },
        on: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { enum: ['sync', 'create', 'update', 'delete', 'resync', 'schedule', 'dependency', 'recheck'] },
        },
        changes: { type: 'string', minLength: 1 },
        resync: { type: 'string', pattern: '^([0-9]+(ms|s|m|h))+$' },
        schedule: { type: 'string', minLength: 1 },
        timezone: { type: 'string', minLength: 1 },
        when: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'boolean' }], 'x-expected': 'a JSONata expression or a boolean' },
        recheckAt: { type: 'string', minLength: 1 },
        limits: obj({
          actionsPerObjectPerMinute: { type: 'integer', minimum: 1 },
          maxActionsPerRun: { type: 'integer', minimum: 1 },
        }),
        actions: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            properties: { forEach: template, ...ACTION_SCHEMAS },
          },
        },
        generate: obj(
          {
            synchronize: { type: 'boolean' },
            orphan: { type: 'boolean' },
            // Each item is an object template or {forEach, object}; the loader checks which (see loader.ts).
            objects: { type: 'array', minItems: 1, items: { type: 'object' } },
          },
          ['objects'],
        ),
      },
      ['watch'],
    ),
  },
};

/** The ajv options of the rule and rendered-action validators. */
export const SCHEMA_VALIDATOR_OPTIONS = { allErrors: true, verbose: true, strict: false } as const;

/** Where `npm run gen` writes them: ajv standalone code of RULE_SCHEMA and RENDERED_ACTION_SCHEMAS (src/cli/validator-files.ts). */
export const SCHEMA_VALIDATORS_PATH = 'src/engine/schema-validators.generated.ts';

/** The generated validators by export name (`rule`, `rendered_<action>`). */
export const generatedValidators = generated as unknown as Record<string, ValidateFunction>;

/** The validator of kind Rule (compiled ahead of time: `npm run gen`). */
export const validateRuleSchema: ValidateFunction = generatedValidators.rule;

export type SchemaError = ErrorObject;

/**
 * What each field of kind Rule means, by path (`spec.actions[].patch.type`; `[]` is an array's
 * items): a description, the default where the field has one, an example in YAML. Applied to
 * RULE_SCHEMA below (as `description`, `default` and `examples`), so the schema carries them into
 * schema/rule.schema.json and docs/reference.md (`npm run gen`). A new field needs an entry here:
 * a test fails for a field without one, and for an entry naming no field.
 */
export const FIELD_DOCS: Record<string, { description: string; default?: unknown; example?: string }> = {
  apiVersion: { description: 'The version of the rule format.', example: 'reflex.dev/v1alpha1' },
  kind: { description: '`ClusterRule` (cluster-wide) or `Rule` (namespaced: confined to `metadata.namespace`). In files and ConfigMaps, `Rule` without `metadata.namespace` is read as `ClusterRule` (deprecated).', example: 'ClusterRule' },
  metadata: { description: 'The rule\'s identity, as for any Kubernetes object.' },
  'metadata.name': { description: 'Unique across every rule source of the daemon (a DNS subdomain name). It names the rule in logs, metrics, Events and `$rule.name`.', example: 'delete-finished-jobs' },
  'metadata.namespace': { description: 'Only for kind `Rule`: the namespace the rule is confined to (it watches, reads and writes only there).', example: 'team-a' },
  'metadata.labels': { description: 'Labels, available to expressions as `$rule.labels`.', example: '{team: platform}' },
  'metadata.annotations': { description: 'Annotations, available to expressions as `$rule.annotations`.', example: '{owner: "#platform"}' },
  spec: { description: 'What to watch, when to act and what to do.' },
  'spec.description': { description: 'Free text for people; available as `$rule.description`.', example: 'Delete Jobs one hour after they succeed.' },
  'spec.revealSecretValues': {
    description: 'A rule that reads Secrets (watches them, or calls $get/$list on them) never shows rendered values in logs, traces, dry-run output or Event notes; true shows them (validate warns).',
    default: false,
    example: 'true',
  },
  'spec.serviceAccountName': {
    description: 'The ServiceAccount of its own namespace a namespaced rule acts as: its writes are sent as that ServiceAccount, and it reads (watch, $get, $list) only what the ServiceAccount may get or list. A namespaced Rule runs as `default` when this is not set; a rule from a ConfigMap outside the daemon\'s namespace runs as the ServiceAccount only when set. Not allowed on cluster-wide rules.',
    example: 'rule-runner',
  },
  'spec.suspend': { description: 'When true the rule is loaded and validated but never evaluated.', default: false, example: 'true' },
  'spec.mode': { description: '`enforce` runs the actions; `audit` evaluates and plans them, logs and counts what it would do, and writes nothing (Events and logs still go out).', default: 'enforce', example: 'audit' },
  'spec.watch': { description: 'The objects the rule sees: one kind, optionally narrowed by namespaces and selectors; or a list of such watches (one rule over several kinds, each with its own selectors; targets default to the trigger\'s own kind).' },
  'spec.watch.apiVersion': { description: 'API version of the watched kind.', example: 'apps/v1' },
  'spec.watch.kind': { description: 'The watched kind, as in manifests (not the plural).', example: 'Deployment' },
  'spec.watch.namespaces': { description: 'Only objects in these namespaces. Default: all namespaces (cluster-scoped kinds ignore it).', example: '[shop, payments]' },
  'spec.watch.namespaceSelector': { description: 'Only objects whose Namespace has these labels: a selector string or `matchLabels`/`matchExpressions`.', example: '"team in (shop,payments)"' },
  'spec.watch.namespaceSelector.matchLabels': { description: 'Labels that must all be present with these values.', example: '{env: prod}' },
  'spec.watch.namespaceSelector.matchExpressions': { description: 'Label requirements, all of which must hold.', example: '[{key: env, operator: In, values: [prod]}]' },
  'spec.watch.namespaceSelector.matchExpressions[].key': { description: 'The label key.', example: 'env' },
  'spec.watch.namespaceSelector.matchExpressions[].operator': { description: 'How the label is compared with `values`.', example: 'In' },
  'spec.watch.namespaceSelector.matchExpressions[].values': { description: 'Values for `In` and `NotIn`; empty for `Exists` and `DoesNotExist`.', example: '[prod, staging]' },
  'spec.watch.labelSelector': { description: 'Only objects with these labels (sent to the API server, so the cache holds only them): a selector string or `matchLabels`/`matchExpressions`.', example: '"cleanup!=false"' },
  'spec.watch.labelSelector.matchLabels': { description: 'Labels that must all be present with these values.', example: '{app: web}' },
  'spec.watch.labelSelector.matchExpressions': { description: 'Label requirements, all of which must hold.', example: '[{key: tier, operator: NotIn, values: [db]}]' },
  'spec.watch.labelSelector.matchExpressions[].key': { description: 'The label key.', example: 'tier' },
  'spec.watch.labelSelector.matchExpressions[].operator': { description: 'How the label is compared with `values`.', example: 'NotIn' },
  'spec.watch.labelSelector.matchExpressions[].values': { description: 'Values for `In` and `NotIn`; empty for `Exists` and `DoesNotExist`.', example: '[db]' },
  'spec.watch.fieldSelector': { description: 'A field selector sent to the API server.', example: 'status.phase=Running' },
  'spec.on': { description: 'The events the rule acts on: `sync` (each object once when the rule starts), `create`, `update`, `delete`, `resync` (every `resync` period), `schedule` (each cron tick, for every object), `dependency` (an object the rule read changed), `recheck` (the time `recheckAt` gave has come; implied by `recheckAt`). Default `[sync, create, update, resync]`, or `[schedule]` when `schedule` is set. Quote the key (`"on":`) in rules applied with kubectl, Helm or Argo CD: their YAML reads a bare `on` as the boolean `true`.', example: '[create, update]' },
  'spec.changes': { description: 'A JSONata expression: an `update` is evaluated only when its value differs between the old and the new object.', example: 'metadata.labels' },
  'spec.resync': { description: 'Period of `resync` events: every object is evaluated again this often (a duration).', example: '10m' },
  'spec.schedule': { description: 'A cron expression: 5 fields (minute first) or 6 (second first). Each tick evaluates every watched object with event `schedule`.', example: '"0 20 * * 1-5"' },
  'spec.timezone': { description: 'IANA time zone of `schedule`.', default: 'UTC', example: 'Europe/Berlin' },
  'spec.when': { description: 'The condition: a JSONata expression over the object (with `$old`, `$now()`, `$get`, `$list`, …) or a boolean. The actions are planned when it is truthy.', default: true, example: '"status.succeeded > 0"' },
  'spec.recheckAt': { description: 'A JSONata expression evaluated with `when`: a time (RFC 3339 text or epoch milliseconds, or a list of them: the earliest after now) at which the object is evaluated again with event `recheck`; undefined for none. One pending re-check per object, replaced by each evaluation.', example: '"$toMillis(metadata.creationTimestamp) + $duration(metadata.annotations.`janitor/ttl`)"' },
  'spec.limits': { description: 'Safety limits, enforced by the daemon and by dry-run.' },
  'spec.limits.actionsPerObjectPerMinute': { description: 'Writes that changed something, per (rule, target object) per minute, before the loop guard holds further writes back.', default: 10, example: '5' },
  'spec.limits.maxActionsPerRun': { description: 'Actions one sweep (sync, resync, schedule) may plan; the rest of the sweep is skipped and reported.', default: 100, example: '500' },
  'spec.actions': { description: 'What to do, in order; each item has exactly one action key (and optionally `forEach`). The first failure stops the rest.', example: '[{delete: {propagationPolicy: Background}}]' },
  'spec.actions[].forEach': { description: 'One `{{ expression }}`: an array gives one action per element (bound to `$item`), a value one action, null none.', example: '"{{ spec.template.spec.containers }}"' },
  'spec.actions[].apply': { description: 'Server-side apply of an object (field manager `reflex`).' },
  'spec.actions[].apply.object': { description: 'The object to apply: a mapping (values may be templates) or one `{{ expression }}` yielding it.', example: '{apiVersion: v1, kind: ConfigMap, metadata: {name: x}, data: {a: "{{ metadata.name }}"}}' },
  'spec.actions[].apply.force': { description: 'Take over fields owned by other managers.', default: false, example: 'true' },
  'spec.actions[].create': { description: 'Create an object.' },
  'spec.actions[].create.object': { description: 'The object to create (`generateName` allowed).', example: '{apiVersion: v1, kind: Event, metadata: {generateName: x-}}' },
  'spec.actions[].create.ifExists': { description: '`skip` treats "already exists" as done; `fail` as a failure.', default: 'skip', example: 'fail' },
  'spec.actions[].update': { description: 'Replace an object (PUT), rendered against its current state `$target`; a conflict re-reads and renders again.' },
  'spec.actions[].update.target': { description: 'The object to update. Default: the trigger.', example: '{kind: Deployment, name: web}' },
  'spec.actions[].update.object': { description: 'The new object; `$target` is the current one.', example: '"{{ $merge([$target, {\\"spec\\": {\\"replicas\\": 0}}]) }}"' },
  'spec.actions[].patch': { description: 'Patch an object.' },
  'spec.actions[].patch.target': { description: 'The object to patch. Default: the trigger.', example: '{apiVersion: v1, kind: Namespace, name: "{{ metadata.namespace }}"}' },
  'spec.actions[].patch.type': { description: 'Patch type: JSON merge patch, JSON patch (a list of operations) or strategic merge patch.', default: 'merge', example: 'json' },
  'spec.actions[].patch.patch': { description: 'The patch body: a mapping, a list (json) or one `{{ expression }}`.', example: '{metadata: {labels: {team: "{{ $ns.metadata.labels.team }}"}}}' },
  'spec.actions[].patch.subresource': { description: 'Patch a subresource instead, e.g. `status` or `scale`.', example: 'status' },
  'spec.actions[].patch.ignoreMissing': { description: 'A target that does not exist counts as done rather than failed.', default: false, example: 'true' },
  'spec.actions[].delete': { description: 'Delete an object; `delete: {}` or an empty `delete:` deletes the trigger.' },
  'spec.actions[].delete.target': { description: 'The object to delete. Default: the trigger.', example: '{kind: Secret, name: old-token}' },
  'spec.actions[].delete.propagationPolicy': { description: 'How dependents are deleted. Default: the server\'s (Background for most kinds).', example: 'Background' },
  'spec.actions[].delete.gracePeriodSeconds': { description: 'Grace period of the deletion. Default: the object\'s own.', example: '0' },
  'spec.actions[].delete.ignoreMissing': { description: 'An object already gone counts as done.', default: true, example: 'false' },
  'spec.actions[].event': { description: 'Emit a Kubernetes Event (events.k8s.io/v1) about an object.' },
  'spec.actions[].event.target': { description: 'The object the Event is about. Default: the trigger.', example: '{kind: Namespace, name: "{{ metadata.namespace }}"}' },
  'spec.actions[].event.type': { description: 'Event type.', default: 'Normal', example: 'Warning' },
  'spec.actions[].event.reason': { description: 'A short CamelCase reason (templates allowed).', example: 'JobCleanedUp' },
  'spec.actions[].event.message': { description: 'The note (templates allowed).', example: '"Job {{ metadata.name }} completed; deleting it"' },
  'spec.actions[].log': { description: 'Write a line to the daemon\'s log.' },
  'spec.actions[].log.level': { description: 'Log level.', default: 'info', example: 'warn' },
  'spec.actions[].log.message': { description: 'The message (templates allowed).', example: '"{{ metadata.name }} has no owner label"' },
  'spec.actions[].webhook': { description: 'Call an HTTP endpoint.' },
  'spec.actions[].webhook.url': { description: 'The URL (templates allowed).', example: 'https://hooks.example.com/reflex' },
  'spec.actions[].webhook.method': { description: 'HTTP method.', default: 'POST', example: 'PUT' },
  'spec.actions[].webhook.headers': { description: 'Request headers: a mapping of strings or one `{{ expression }}`.', example: '{X-Source: reflex}' },
  'spec.actions[].webhook.body': { description: 'The body, sent as JSON (templates allowed anywhere in it).', example: '{object: "{{ metadata.name }}"}' },
  'spec.actions[].webhook.timeout': { description: 'Time limit of the call: a duration or milliseconds.', default: '10s', example: '5s' },
  'spec.generate': { description: 'Objects the rule keeps as declared for each matching trigger (created, updated, pruned when no longer declared); instead of `actions`.' },
  'spec.generate.synchronize': { description: 'Put generated objects back when someone changes or deletes them.', default: true, example: 'false' },
  'spec.generate.orphan': { description: 'Leave generated objects in place when they are no longer declared, instead of pruning them.', default: false, example: 'true' },
  'spec.generate.objects': { description: 'The declared objects: each an object template, or `{forEach, object}`.', example: '[{apiVersion: v1, kind: ConfigMap, metadata: {name: "{{ metadata.name }}-cfg"}}]' },
};

// The fields of a target are the same wherever one is taken.
for (const action of ['update', 'patch', 'delete', 'event']) {
  const t = `spec.actions[].${action}.target`;
  FIELD_DOCS[`${t}.apiVersion`] = { description: 'API version of the target. Default: the trigger\'s when `kind` is the trigger\'s kind.', example: 'apps/v1' };
  FIELD_DOCS[`${t}.kind`] = { description: 'Kind of the target. Default: the trigger\'s.', example: 'Deployment' };
  FIELD_DOCS[`${t}.namespace`] = { description: 'Namespace of the target. Default: the trigger\'s, for a namespaced kind.', example: '"{{ metadata.namespace }}"' };
  FIELD_DOCS[`${t}.name`] = { description: 'Name of the target (templates allowed).', example: '"{{ metadata.name }}-copy"' };
}

type SchemaNode = Record<string, unknown> & {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  then?: SchemaNode;
  else?: SchemaNode;
  required?: string[];
};

/** The alternatives a node's value may take: its `anyOf` branches and its `if`/`then`/`else` branches, nested ones included. */
function alternatives(node: SchemaNode): SchemaNode[] {
  const direct = [...(node.anyOf ?? []), ...(node.then ? [node.then] : []), ...(node.else ? [node.else] : [])];
  return direct.flatMap((b) => [b, ...(b.then || b.else ? alternatives(b) : [])]);
}

/** A field of kind Rule: its documented path, its schema node and whether it is required. */
export interface SchemaField {
  path: string;
  node: SchemaNode;
  required: boolean;
}

/** The fields of `node` by documented path, in schema order; `[]` steps into array items. */
export function schemaFields(node: SchemaNode, path = ''): SchemaField[] {
  const out: SchemaField[] = [];
  // A field that is one mapping or a list of them (spec.watch) is documented by the mapping's fields.
  const holder = node.properties ? node : alternatives(node).find((b) => b.properties);
  if (holder?.properties) {
    const required = new Set(holder.required ?? []);
    for (const [name, child] of Object.entries(holder.properties)) {
      const p = path ? `${path}.${name}` : name;
      out.push({ path: p, node: child, required: required.has(name) }, ...schemaFields(child, p));
    }
  } else if (node.items && (node.items.properties || node.items.anyOf)) {
    out.push(...schemaFields(node.items, `${path}[]`));
  }
  return out;
}

/**
 * RULE_SCHEMA with FIELD_DOCS applied (`description`, `default`) to a copy in which no node is
 * shared, since one helper node (a plain string) serves many fields.
 */
export const DOCUMENTED_RULE_SCHEMA: SchemaNode = JSON.parse(JSON.stringify(RULE_SCHEMA)) as SchemaNode;
for (const f of schemaFields(DOCUMENTED_RULE_SCHEMA)) {
  const doc = FIELD_DOCS[f.path];
  if (!doc) continue;
  f.node.description = doc.description;
  if (doc.default !== undefined) f.node.default = doc.default;
}
