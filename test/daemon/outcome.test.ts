import { expect } from 'chai';
import { KubeApiError, KubeNetworkError, UnknownKindError } from '../../src/client/index.js';
import { ActionError, ActionErrorCode } from '../../src/actions/index.js';
import { RuleEvaluationError } from '../../src/engine/index.js';
import { CacheNotSyncedError } from '../../src/daemon/cache-lister.js';
import { classify } from '../../src/daemon/outcome.js';

const ctx = { verb: 'patch', resource: 'configmaps "a" in namespace "n"', server: 'https://s' };
const api = (status: number, reason: string, retryAfterSeconds?: number) =>
  new KubeApiError(ctx, status, { kind: 'Status', code: status, reason, message: `the server says ${reason}\nsecond line` }, retryAfterSeconds);
const target = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'n', name: 'a' };
/** As the actions wrap an API failure. */
const action = (cause: unknown, options: { code?: string; terminal?: boolean; status?: number } = {}) =>
  new ActionError(`patch of ConfigMap n/a for rule "r" failed: PATCH: ${(cause as Error).message}`, 'patch', target, { code: options.code ?? ActionErrorCode.api, cause, ...options });

describe('classify (failures into transient, forbidden and terminal, by predicates)', () => {
  const rows: [string, unknown, string, string, number?][] = [
    ['a network error', new KubeNetworkError('patch … on https://s: connection refused', 'connection-refused', 'https://s'), 'transient', 'NetworkError'],
    ['a 503 with Retry-After', action(api(503, 'ServiceUnavailable', 2)), 'transient', 'ServiceUnavailable', 2000],
    ['a 500', action(api(500, 'InternalError')), 'transient', 'InternalError'],
    ['a 429 with Retry-After', action(api(429, 'TooManyRequests', 1)), 'transient', 'TooManyRequests', 1000],
    ['a 409 Conflict', action(api(409, 'Conflict')), 'transient', 'Conflict'],
    ['an update still conflicting after its attempts', action(api(409, 'Conflict'), { code: ActionErrorCode.conflict }), 'transient', 'Conflict'],
    ['a cache not synced, inside an evaluation error', new RuleEvaluationError('r', 'when', '$get(…)', 'x', { cause: new CacheNotSyncedError('not synced') }), 'transient', 'CacheNotSynced'],
    ['a discovery request that got no answer', new KubeNetworkError('get discovery on https://s: timeout', 'timeout', 'https://s'), 'transient', 'NetworkError'],
    ['a 404 of a target that is not there yet', action(api(404, 'NotFound'), { code: ActionErrorCode.missing }), 'transient', 'NotFound'],
    ['a webhook answering 502', new ActionError('webhook … answered 502', 'webhook', target, { code: ActionErrorCode.webhookStatus, status: 502 }), 'transient', 'WebhookStatus'],
    ['a webhook not answering', new ActionError('webhook … failed', 'webhook', target, { code: ActionErrorCode.webhookNetwork, cause: new Error('ECONNRESET') }), 'transient', 'WebhookNetwork'],
    ['an unexpected exception', new TypeError('x is undefined'), 'transient', 'Unexpected'],
    ['a 403', action(api(403, 'Forbidden')), 'forbidden', 'Forbidden'],
    ['a 400', action(api(400, 'BadRequest')), 'terminal', 'BadRequest'],
    ['a 415', action(api(415, 'UnsupportedMediaType')), 'terminal', 'UnsupportedMediaType'],
    ['a 422', action(api(422, 'Invalid')), 'terminal', 'Invalid'],
    ['a 413 (another 4xx the request caused)', action(api(413, 'RequestEntityTooLarge')), 'terminal', 'RequestEntityTooLarge'],
    ['a kind the server does not serve (after one discovery refresh)', action(new UnknownKindError('example.com/v1', 'Widget', 'https://s')), 'terminal', 'KindNotServed'],
    ['an action that cannot be sent as planned', new ActionError('patch for rule "r" cannot apply', 'patch', target, { code: ActionErrorCode.invalid, terminal: true }), 'terminal', 'InvalidAction'],
    ['create ifExists: fail on an existing object', action(api(409, 'AlreadyExists'), { code: ActionErrorCode.exists, terminal: true }), 'terminal', 'AlreadyExists'],
    ['a webhook answering 400', new ActionError('webhook … answered 400', 'webhook', target, { code: ActionErrorCode.webhookStatus, status: 400 }), 'terminal', 'WebhookStatus'],
    ['a rule expression that failed', new RuleEvaluationError('r', 'when', 'x.y()', 'not a function'), 'terminal', 'EvaluationFailed'],
  ];
  for (const [what, err, kind, reason, retryAfterMs] of rows) {
    it(`${what}: ${kind} (${reason})`, () => {
      const o = classify(err, 'patch');
      expect(o.kind).to.equal(kind);
      expect(o.failure.reason).to.equal(reason);
      expect(o.failure.cause).to.equal(err);
      expect(o.failure.message).to.not.contain('\n');
      expect(o.kind === 'transient' ? o.retryAfterMs : undefined).to.equal(retryAfterMs);
    });
  }

  it('names the action and keeps the message to one line with verb, resource, server and the server\'s message', () => {
    const o = classify(action(api(422, 'Invalid')), 'patch');
    expect(o.failure.action).to.equal('patch');
    expect(o.failure.message).to.equal('patch of ConfigMap n/a for rule "r" failed: PATCH: patch configmaps "a" in namespace "n" on https://s: Invalid (422): the server says Invalid second line');
  });
});
