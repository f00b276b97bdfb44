import { expect } from 'chai';
import {
  isAlreadyExists, isConflict, isExpired, isForbidden, isGone, isInvalid, isNotFound, isServerTimeout, isTooManyRequests, isUnauthorized,
  KubeApiError, KubeNetworkError, UnknownKindError, parseWarnings,
  isBadRequest, isNetworkError, isServerError, isUnknownKind, isUnsupportedMediaType, oneLine, MAX_MESSAGE_CHARS,
} from '../../src/client/index.js';

const ctx = { verb: 'get', resource: 'configmaps "a"', server: 'https://s' };
const err = (code: number, reason: string) => new KubeApiError(ctx, code, { kind: 'Status', code, reason, message: 'm' });

describe('API error predicates', () => {
  it('classify by reason and status code', () => {
    expect(isNotFound(err(404, 'NotFound'))).to.equal(true);
    expect(isConflict(err(409, 'Conflict'))).to.equal(true);
    expect(isConflict(err(409, 'AlreadyExists'))).to.equal(false);
    expect(isAlreadyExists(err(409, 'AlreadyExists'))).to.equal(true);
    expect(isForbidden(err(403, 'Forbidden'))).to.equal(true);
    expect(isUnauthorized(err(401, 'Unauthorized'))).to.equal(true);
    expect(isInvalid(err(422, 'Invalid'))).to.equal(true);
    expect(isTooManyRequests(err(429, 'TooManyRequests'))).to.equal(true);
    expect(isServerTimeout(err(504, 'Timeout'))).to.equal(true);
    expect(isServerTimeout(err(500, 'ServerTimeout'))).to.equal(true);
    expect(isNotFound(new Error('404 NotFound'))).to.equal(false);
  });

  it('treat 410 Gone and reason Expired alike, as informers relist on both', () => {
    for (const e of [err(410, 'Gone'), err(410, 'Expired'), err(500, 'Expired')]) {
      expect([isGone(e), isExpired(e)]).to.deep.equal([true, true]);
    }
  });

  it('apply to the Status of a watch ERROR event', () => {
    const e = KubeApiError.fromStatus({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' }, { resource: 'configmaps', server: 'https://s' });
    expect(isGone(e)).to.equal(true);
    expect(e.message).to.equal('watch configmaps on https://s: Expired (410): too old resource version: 1 (5)');
  });

  it('synthesize the reason of a bare status and name verb, resource and server', () => {
    const e = new KubeApiError(ctx, 403, { kind: 'Status' });
    expect(e.reason).to.equal('Forbidden');
    expect(e.message).to.equal('get configmaps "a" on https://s: Forbidden (403)');
  });
});

describe('parseWarnings', () => {
  it('reads several warnings, escaped quotes and dates', () => {
    expect(parseWarnings(['299 - "a \\"quoted\\" text"', '299 kube-apiserver "one" "Sat, 21 Nov 2026 00:00:00 GMT", 299 - "two"'])).to.deep.equal([
      { code: 299, agent: '-', text: 'a "quoted" text' },
      { code: 299, agent: 'kube-apiserver', text: 'one' },
      { code: 299, agent: '-', text: 'two' },
    ]);
  });

  it('keeps a value that does not parse as its text', () => {
    expect(parseWarnings('not a warning')).to.deep.equal([{ code: 299, agent: '-', text: 'not a warning' }]);
  });
});

describe('API error messages', () => {
  it('are one line: verb, resource, server, reason and the Status message made one line and cut, never the whole body', () => {
    const dump = `ConfigMap "a" is invalid: data: Invalid value: map[string]interface {}{\n  "big": "${'x'.repeat(5000)}"\n}`;
    const e = new KubeApiError({ verb: 'patch', resource: 'configmaps "a" in namespace "n"', server: 'https://s' }, 422, { kind: 'Status', code: 422, reason: 'Invalid', message: dump });
    expect(e.message).to.not.contain('\n');
    expect(e.message.startsWith('patch configmaps "a" in namespace "n" on https://s: Invalid (422): ConfigMap "a" is invalid: data: Invalid value: map[string]interface {}{ "big": "xxx')).to.equal(true);
    expect(e.message.length).to.be.at.most(400);
    expect(e.message.endsWith('…')).to.equal(true);
    expect(e.body.message).to.equal(dump);
  });

  it('keep a short message as the server wrote it', () => {
    expect(oneLine('  a  short\n message ')).to.equal('a short message');
    expect(oneLine('y'.repeat(MAX_MESSAGE_CHARS))).to.have.length(MAX_MESSAGE_CHARS);
  });

  it('have predicates for every class the controller retries or not', () => {
    expect([isBadRequest(err(400, 'BadRequest')), isUnsupportedMediaType(err(415, 'UnsupportedMediaType')), isServerError(err(503, 'ServiceUnavailable'))]).to.deep.equal([true, true, true]);
    expect([isServerError(err(429, 'TooManyRequests')), isNetworkError(err(503, 'ServiceUnavailable'))]).to.deep.equal([false, false]);
    expect(isNetworkError(new KubeNetworkError('x', 'reset', 'https://s'))).to.equal(true);
    expect(isUnknownKind(new UnknownKindError('example.com/v1', 'Widget', 'https://s'))).to.equal(true);
  });
});
