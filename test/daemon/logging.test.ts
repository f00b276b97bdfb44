import { Writable } from 'node:stream';
import { expect } from 'chai';
import { ReflexError } from '../../src/core/index.js';
import { createLogger, redact, REDACTED, type LoggerOptions } from '../../src/daemon/index.js';

/** A stream that keeps what was written; `tty` makes it look like a terminal. */
function capture(tty = false): Writable & { isTTY?: boolean; lines(): string[] } {
  const chunks: string[] = [];
  const s = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  }) as Writable & { isTTY?: boolean; lines(): string[] };
  if (tty) s.isTTY = true;
  s.lines = () => chunks.join('').split('\n').filter((l) => l !== '');
  return s;
}

async function logged(options: LoggerOptions & { tty?: boolean }, fn: (log: ReturnType<typeof createLogger>) => void) {
  const stream = capture(options.tty);
  const log = createLogger({ ...options, stream });
  fn(log);
  await log.flush();
  return stream.lines();
}

describe('createLogger', () => {
  it('writes one JSON object per line when the stream is not a terminal', async () => {
    const [line] = await logged({}, (log) => log.info('rule loaded', { rule: 'ttl', count: 2 }));
    const obj = JSON.parse(line);
    expect(obj).to.include({ level: 'info', msg: 'rule loaded', rule: 'ttl', count: 2 });
    expect(Number.isNaN(Date.parse(obj.time))).to.equal(false);
  });

  it('writes readable single lines with a coloured level on a terminal', async () => {
    const [line] = await logged({ tty: true, color: true }, (log) => log.warn('slow watch', { resource: 'pods', note: 'two words' }));
    expect(line).to.match(/^\d\d:\d\d:\d\d\.\d{3} /);
    expect(line.slice(line.indexOf(' ') + 1)).to.equal('\u001b[33mWARN \u001b[0m slow watch resource=pods note="two words"');
  });

  it('keeps terminal lines short below debug: no field the message says, references as Kind/ns/name, cut at 159 characters', async () => {
    const target = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'api' };
    const [planned] = await logged({ format: 'text' }, (log) => log.info('planned patch Deployment shop/api by propagate-team-label', { rule: 'propagate-team-label', action: 'patch', target }));
    expect(planned.slice(13)).to.equal('INFO  planned patch Deployment shop/api by propagate-team-label');
    const [other] = await logged({ format: 'text' }, (log) => log.info('retrying', { component: 'controller', target }));
    expect(other.slice(13)).to.equal('INFO  retrying target=Deployment/shop/api');
    const [long] = await logged({ format: 'text' }, (log) => log.warn('patch failed', { error: 'x'.repeat(300) }));
    expect(long).to.have.length(159);
    expect(long.endsWith('x…')).to.equal(true);
    const [whole] = await logged({ format: 'text', level: 'debug' }, (log) => log.warn('patch failed', { error: 'x'.repeat(300) }));
    expect(whole).to.match(/^\d{4}-\d\d-\d\dT\S+Z WARN {2}patch failed error=x{300}$/);
  });

  it('honours an explicit format over the terminal check', async () => {
    const [line] = await logged({ tty: true, format: 'json' }, (log) => log.info('x'));
    expect(JSON.parse(line).msg).to.equal('x');
    const [text] = await logged({ format: 'text' }, (log) => log.info('y', { a: 1 }));
    expect(text).to.match(/ INFO {2}y a=1$/);
  });

  it('drops lines below the level', async () => {
    const lines = await logged({ level: 'warn' }, (log) => {
      log.debug('d');
      log.info('i');
      log.warn('w');
      log.error('e');
    });
    expect(lines.map((l) => JSON.parse(l).msg)).to.deep.equal(['w', 'e']);
  });

  it('adds the fields of a child to every line, keeping the parent unchanged', async () => {
    const lines = await logged({}, (log) => {
      log.child({ component: 'queue' }).child({ lane: 'sync' }).info('a', { n: 1 });
      log.info('b');
    });
    expect(JSON.parse(lines[0])).to.include({ component: 'queue', lane: 'sync', n: 1 });
    expect(JSON.parse(lines[1])).not.to.have.property('component');
  });

  it('keeps a field named like a reserved key instead of losing the message', async () => {
    const [line] = await logged({}, (log) => log.info('real', { message: 'field', level: 'x' }));
    expect(JSON.parse(line)).to.include({ msg: 'real', level: 'info', 'field.message': 'field', 'field.level': 'x' });
  });

  it('redacts credential fields at any depth, in JSON and text alike', async () => {
    const fields = { user: { name: 'u', token: 'abc123', auth: { password: 'p', 'client-key-data': 'k' } }, headers: { Authorization: 'Bearer xyz' } };
    const [json] = await logged({}, (log) => log.info('req', fields));
    const [text] = await logged({ format: 'text' }, (log) => log.info('req', fields));
    for (const line of [json, text]) {
      for (const secret of ['abc123', 'xyz', '"p"', "'p'", "'k'", '"k"']) expect(line).not.to.include(secret);
      expect(line).to.include(REDACTED);
    }
    expect(JSON.parse(json).user.auth).to.deep.equal({ password: REDACTED, 'client-key-data': REDACTED });
  });

  it('redacts the data of a Secret wherever it appears, and credentials inside messages and errors', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: 'c2VjcmV0' }, stringData: { p: 'plain' } };
    const err = new ReflexError('GET failed with Authorization: Bearer eyJhbGciOi.payload.sig', { code: 'ERR_X' });
    const [line] = await logged({}, (log) => log.error('write token=hunter2 failed', { object: secret, list: [secret], error: err }));
    expect(line).not.to.include('c2VjcmV0');
    expect(line).not.to.include('plain');
    expect(line).not.to.include('hunter2');
    expect(line).not.to.include('eyJhbGciOi');
    const obj = JSON.parse(line);
    expect(obj.object.data).to.equal(REDACTED);
    expect(obj.list[0].stringData).to.equal(REDACTED);
    expect(obj.error).to.deep.equal({ name: 'ReflexError', code: 'ERR_X', message: `GET failed with Authorization: Bearer ${REDACTED}` });
    expect(obj.msg).to.equal(`write token=${REDACTED} failed`);
  });
});

describe('redact', () => {
  it('leaves references to secrets and ordinary objects alone', () => {
    const pod = { kind: 'Pod', spec: { volumes: [{ secret: { secretName: 'tls' } }], serviceAccountToken: undefined }, data: { a: 1 } };
    expect(redact(pod)).to.deep.equal({ kind: 'Pod', spec: { volumes: [{ secret: { secretName: 'tls' } }], serviceAccountToken: undefined }, data: { a: 1 } });
    expect(redact({ tokenExpirationSeconds: 3600, secretName: 'x' })).to.deep.equal({ tokenExpirationSeconds: 3600, secretName: 'x' });
  });

  it('redacts the items of a SecretList and the last-applied annotation of a Secret', () => {
    const list = { kind: 'SecretList', items: [{ metadata: { name: 'a' }, data: { k: 'v' } }] };
    expect(redact(list)).to.deep.equal({ kind: 'SecretList', items: [{ metadata: { name: 'a' }, data: REDACTED }] });
    const s = { kind: 'Secret', metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"k":"v"}}' } } };
    expect(redact(s)).to.deep.equal({ kind: 'Secret', metadata: { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': REDACTED } } });
  });

  it('redacts the well-known keys of Secret types', () => {
    const data = { 'tls.key': 'k1', 'ca.key': 'k2', '.dockerconfigjson': 'k3', '.dockercfg': 'k4', 'ssh-privatekey': 'k5', id_rsa: 'k6', 'client.pem': 'k7', 'tls.crt': 'public' };
    expect(redact(data)).to.deep.equal({ ...Object.fromEntries(Object.keys(data).map((k) => [k, REDACTED])), 'tls.crt': 'public' });
  });

  it('keeps the word after a rule name ending in "secret" and masks quoted and key=value credentials in text', async () => {
    const { redactText } = await import('../../src/daemon/redact.js');
    expect(redactText('rule sync-image-pull-secret: patch of Secret a/b refused')).to.equal('rule sync-image-pull-secret: patch of Secret a/b refused');
    expect(redactText('body {"password": "hunter2", "token":"t0k"} secret=s3 api-key: \'k\'')).to.equal(
      `body {"password": "${REDACTED}", "token":"${REDACTED}"} secret=${REDACTED} api-key: '${REDACTED}'`,
    );
  });

  it('survives cycles and does not change its input', () => {
    const a: Record<string, unknown> = { password: 'p' };
    a.self = a;
    expect(redact(a)).to.deep.equal({ password: REDACTED, self: '[Circular]' });
    expect(a.password).to.equal('p');
  });
});

describe('redactPlanned (planned actions in logs and traces)', () => {
  const secret = { apiVersion: 'v1', kind: 'Secret', namespace: 'n', name: 's' };
  it('masks the data of a merge patch to a Secret, which carries no kind of its own', async () => {
    const { redactPlanned } = await import('../../src/daemon/redact.js');
    const out = redactPlanned({ target: secret, body: { data: { password: 'aHVudGVyMg==' }, metadata: { labels: { a: 'b' } } } });
    expect(JSON.stringify(out)).to.not.contain('aHVudGVyMg==');
    expect((out.body as { metadata: unknown }).metadata).to.deep.equal({ labels: { a: 'b' } });
  });
  it('masks every value of a JSON patch to a Secret', async () => {
    const { redactPlanned } = await import('../../src/daemon/redact.js');
    const out = redactPlanned({ target: secret, body: [{ op: 'replace', path: '/data/password', value: 'aHVudGVyMg==' }] });
    expect(out.body).to.deep.equal([{ op: 'replace', path: '/data/password', value: '[REDACTED]' }]);
  });
  it('leaves the body of a planned action on another kind as it is (but for credential fields)', async () => {
    const { redactPlanned } = await import('../../src/daemon/redact.js');
    const out = redactPlanned({ target: { ...secret, kind: 'ConfigMap' }, body: { data: { mode: 'blue' } } });
    expect(out.body).to.deep.equal({ data: { mode: 'blue' } });
  });
});
