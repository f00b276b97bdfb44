/**
 * crd-status: the `status` schema of kinds ClusterRule and Rule, as the daemon's status writer
 * fills it: `observedGeneration`, conditions `Ready`, `Stalled` and `Reconciling` (the shape kstatus
 * and Argo CD read), and counters of what the rule did.
 */

const time = (description: string) => ({ type: 'string', format: 'date-time', description });
const count = (description: string) => ({ type: 'integer', format: 'int64', minimum: 0, description });

const condition = {
  type: 'object',
  required: ['type', 'status'],
  properties: {
    type: { type: 'string', description: '`Ready` (loaded and active), `Stalled` (does not load, or its actions fail terminally) or `Reconciling` (waiting for its watched kind or its first sync).' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'], description: 'Whether the condition holds.' },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0, description: 'The `metadata.generation` the condition was computed from.' },
    reason: { type: 'string', description: 'Why, in one CamelCase word, e.g. `Loaded`, `InvalidRule`, `ActionsFailing`, `KindNotServed`, `Syncing`.' },
    message: { type: 'string', description: 'Why, for people: for an invalid rule the `field:line:col: …` message of the loader.' },
    lastTransitionTime: time('When the condition last changed its status.'),
  },
};

/** The status schema (structural OpenAPI v3). */
export const RULE_STATUS_SCHEMA = {
  type: 'object',
  description: 'What the daemon observed: written by its leader through the status subresource.',
  properties: {
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0, description: 'The `metadata.generation` the daemon last loaded.' },
    conditions: {
      type: 'array',
      description: 'The rule\'s conditions: `Ready`, `Stalled` and `Reconciling`.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: condition,
    },
    objectsMatched: count('Objects the rule\'s watch currently matches.'),
    evaluations: count('Evaluations of the rule since the daemon started.'),
    actionsSucceeded: count('Actions that succeeded since the daemon started.'),
    actionsFailed: count('Actions that failed since the daemon started.'),
    lastEvaluationTime: time('When the rule last evaluated an object.'),
    lastError: { type: 'string', description: 'The last terminal error of an evaluation or action, in one line.' },
  },
};
