import { expect } from 'chai';
import jsonata from 'jsonata';
import { Expression } from '../../src/engine/index.js';
import { BAIL, compileFast } from '../../src/engine/fast-path.js';

describe('engine/fast-path', () => {
  const inputs: unknown[] = [
    { status: { phase: 'Failed', n: 1, ok: true }, metadata: { labels: { a: 'x' } } },
    { status: { phase: 'Running', n: 2, ok: false }, metadata: { labels: {} } },
    { status: { phase: null }, metadata: {} },
    { status: 'text' },
    { status: { phase: { nested: 1 } } },
    { status: [{ phase: 'Failed' }] },
    {},
    [{ status: { phase: 'Failed' } }],
  ];
  const expressions = [
    'status.phase = "Failed"',
    'status.phase != "Failed"',
    '"Failed" = status.phase',
    'status.n = 1',
    'status.ok = true',
    'status.ok != false',
    'metadata.labels.a = "x" and status.phase = "Failed"',
    'metadata.labels.a = "x" or status.n = 2',
    '$exists(metadata.labels.a)',
    '$exists(status.phase) and status.phase != "Running"',
    'metadata.labels.`a` = "x"',
  ];

  for (const source of expressions) {
    it(`agrees with JSONata on ${source}`, async () => {
      const reference = jsonata(source);
      const fast = compileFast(reference.ast());
      expect(fast, 'takes the fast path').to.be.a('function');
      for (const input of inputs) {
        const got = fast!(input);
        if (got === BAIL) continue;
        expect(got, JSON.stringify(input)).to.equal(await reference.evaluate(input));
      }
    });
  }

  it('bails out to JSONata on arrays, so the answer is still right', async () => {
    const e = new Expression('status.phase = "Failed"');
    expect(await e.evaluate({ status: [{ phase: 'Failed' }] }, {})).to.equal(true);
  });

  it('leaves everything else to JSONata', () => {
    for (const source of ['status.n > 1', 'status.phase = $x', 'a[0] = 1', 'a.b.c ~> $f()', '$exists(a[b])']) {
      expect(compileFast(jsonata(source).ast()), source).to.equal(undefined);
    }
  });
});
