import { expect } from 'chai';
import { KubeApiError, oneLine } from '../../src/client/index.js';
import { MemoryLogger, type KubeObject } from '../../src/core/index.js';
import { scrubbingLogger, SecretValues } from '../../src/daemon/secret-values.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const secret = (data: Record<string, string>, name = 's'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'n' },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});

describe('SecretValues (what failures of a rule that reads Secrets may not say)', () => {
  const value = 'hunter2-"quoted"\\path';

  it('replaces a value in its decoded, stored (base64) and JSON-escaped forms', () => {
    const s = new SecretValues();
    s.add(secret({ password: value }));
    const text = `a ${value} b ${b64(value)} c ${JSON.stringify(value)} d`;
    const out = s.scrub(text);
    expect(out).to.not.include('hunter2');
    expect(out).to.not.include(b64(value));
    expect(out).to.equal('a [REDACTED] b [REDACTED] c "[REDACTED]" d');
  });

  it('finds the value in an API answer that quotes it, after the client made the message one line', () => {
    const multi = 'line-one  with  spaces\nline-two-of-the-key';
    const s = new SecretValues();
    s.add(secret({ 'tls.key': multi }));
    const err = new KubeApiError({ verb: 'create', resource: 'configmaps', server: 'https://s' }, 422, {
      kind: 'Status',
      code: 422,
      reason: 'Invalid',
      message: `ConfigMap "x" is invalid: metadata.labels: Invalid value: ${JSON.stringify(multi)}: a valid label`,
    });
    const out = s.scrub(err.message);
    expect(out).to.not.include('line-one');
    expect(out).to.not.include('line-two');
    expect(out).to.include('Invalid value: "[REDACTED]": a valid label');
    // Raw line breaks collapsed to spaces (an expression error made one line).
    expect(s.scrub(oneLine(`value ${multi} refused`))).to.equal('value [REDACTED] refused');
  });

  it('masks the beginning of a value where a message was cut inside it', () => {
    const long = `k-${'9'.repeat(400)}`;
    const s = new SecretValues();
    s.add(secret({ token: long }));
    const cut = oneLine(`Invalid value: "${long}"`, 120);
    expect(cut.endsWith('…')).to.equal(true);
    const out = s.scrub(cut);
    expect(out).to.equal('Invalid value: "[REDACTED]…');
  });

  it('records what a lister answers for Secrets only (sync and async), and leaves other kinds alone', async () => {
    const s = new SecretValues();
    const lister = s.recording({
      get: (_a, kind) => (kind === 'Secret' ? Promise.resolve(secret({ p: 'from-get-1' })) : { apiVersion: 'v1', kind, metadata: { name: 'c' }, data: { p: 'not-secret' } }),
      list: (_a, kind) => (kind === 'Secret' ? [{ metadata: { name: 'a' }, data: { p: b64('from-list-2') } }] : []),
    });
    await lister.get('v1', 'Secret', 'n', 'a');
    lister.get('v1', 'ConfigMap', 'n', 'c');
    lister.list('v1', 'Secret', 'n');
    expect(s.scrub('from-get-1 from-list-2 not-secret')).to.equal('[REDACTED] [REDACTED] not-secret');
  });

  it('records values written into a Secret: data, stringData and a JSON patch', () => {
    const s = new SecretValues();
    const target = { apiVersion: 'v1', kind: 'Secret', namespace: 'n', name: 's' };
    s.addWrite({ action: 'apply', target, body: { data: { a: b64('written-data') }, stringData: { b: 'written-string' } } });
    s.addWrite({ action: 'patch', target, body: [{ op: 'add', path: '/data/c', value: b64('patched-value') }] });
    s.addWrite({ action: 'apply', target: { ...target, kind: 'ConfigMap' }, body: { data: { d: 'configmap-value' } } });
    s.addWrite({ action: 'log', target, body: 'a log line about the Secret' });
    expect(s.scrub('written-data written-string patched-value configmap-value a log line about the Secret')).to.equal('[REDACTED] [REDACTED] [REDACTED] configmap-value a log line about the Secret');
    expect(s.scrub(b64('written-string'))).to.equal('[REDACTED]');
  });

  it('leaves text alone when nothing was read, and values too short to search for', () => {
    expect(new SecretValues().scrub('anything')).to.equal('anything');
    const s = new SecretValues();
    s.add(secret({ flag: 'on' }));
    expect(s.scrub('turned on')).to.equal('turned on');
  });

  it('a scrubbing logger scrubs the message and every string field, its children too', () => {
    const s = new SecretValues();
    s.add(secret({ password: 'pa55word' }));
    const mem = new MemoryLogger();
    scrubbingLogger(mem, s.scrubber).child({ rule: 'r', from: 'pa55word' }).warn('audit: would apply ConfigMap n/pa55word', { target: { name: 'pa55word', n: 1 } });
    expect(mem.records).to.deep.equal([{ level: 'warn', message: 'audit: would apply ConfigMap n/[REDACTED]', fields: { rule: 'r', from: '[REDACTED]', target: { name: '[REDACTED]', n: 1 } } }]);
  });
});
