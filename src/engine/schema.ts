/** schema: the JSON Schema of kind Rule (reflex.dev/v1alpha1), compiled once with ajv. Unknown fields are errors everywhere. */
import { Ajv, type ErrorObject } from 'ajv';

/** A string that is exactly one `{{ expr }}`: allowed wherever a typed value may be computed. */
const template = { type: 'string', pattern: '^\\s*\\{\\{[\\s\\S]*\\}\\}\\s*$' };
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
  properties: { apiVersion: str, kind: str, namespace: str, name: str },
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

export const RULE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'reflex.dev/v1alpha1' },
    kind: { const: 'Rule' },
    metadata: obj(
      {
        name: { type: 'string', maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$' },
        labels: stringMap,
        annotations: stringMap,
      },
      ['name'],
    ),
    spec: obj(
      {
        description: str,
        suspend: { type: 'boolean' },
        mode: { enum: ['enforce', 'audit'] },
        watch: obj(
          {
            apiVersion: { type: 'string', minLength: 1 },
            kind: { type: 'string', minLength: 1 },
            namespaces: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true },
            namespaceSelector: labelSelector,
            labelSelector,
            fieldSelector: str,
          },
          ['apiVersion', 'kind'],
        ),
        on: {
          type: 'array',
          minItems: 1,
          uniqueItems: true,
          items: { enum: ['sync', 'create', 'update', 'delete', 'resync', 'schedule', 'dependency'] },
        },
        changes: { type: 'string', minLength: 1 },
        resync: { type: 'string', pattern: '^([0-9]+(ms|s|m|h))+$' },
        schedule: { type: 'string', minLength: 1 },
        timezone: { type: 'string', minLength: 1 },
        when: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'boolean' }], 'x-expected': 'a JSONata expression or a boolean' },
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

const ajv = new Ajv({ allErrors: true, verbose: true, strict: false });

/** The compiled validator of kind Rule (compiled once, at module load). */
export const validateRuleSchema = ajv.compile(RULE_SCHEMA);

export type SchemaError = ErrorObject;
