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
    { metadata: { annotations: { seen: '3' }, labels: { a: '3' } }, data: { gen: '3' }, status: { phase: '3', n: 3 } },
    { metadata: { annotations: { seen: '2' } }, data: { gen: '3' } },
    { metadata: { annotations: { seen: 3 } }, data: { gen: '3' } },
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
    '$not(status.phase = "Failed")',
    '$not($exists(metadata.labels.a)) or status.n = 2',
    // The left side decides alone when it can; the right side is JSONata's otherwise.
    'metadata.labels.a = "x" and status.n > 0',
    'metadata.labels.a = "x" or $count(status) > 5',
    'metadata.labels.a = "x" and $not(metadata.labels.b = status.phase)',
    // path = path, compared as JSONata does (a missing side makes both = and != false).
    'metadata.annotations.seen = data.gen',
    'metadata.annotations.seen != data.gen',
    'metadata.labels.a = "3" and $not(metadata.annotations.seen = data.gen)',
    'status.phase = status.phase',
    'metadata.labels.a = status.phase',
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

  it('yields the value of a lone path as JSONata does (a template\'s {{ data.gen }})', async () => {
    for (const source of ['data.gen', 'status.phase', 'metadata', 'status.missing']) {
      const reference = jsonata(source);
      const fast = compileFast(reference.ast());
      expect(fast, source).to.be.a('function');
      for (const input of inputs) {
        const got = fast!(input);
        if (got === BAIL) continue;
        expect(got, `${source} on ${JSON.stringify(input)}`).to.deep.equal(await reference.evaluate(input));
      }
    }
  });

  it('hands a comparison of two objects to JSONata, which compares them deeply', async () => {
    const fast = compileFast(jsonata('status.phase = status.phase').ast());
    expect(fast!({ status: { phase: { nested: 1 } } })).to.equal(BAIL);
    expect(await new Expression('status.phase = status.phase').evaluate({ status: { phase: { nested: 1 } } }, {})).to.equal(true);
  });

  it('bails out to JSONata on arrays, so the answer is still right', async () => {
    const e = new Expression('status.phase = "Failed"');
    expect(await e.evaluate({ status: [{ phase: 'Failed' }] }, {})).to.equal(true);
  });

  it('never evaluates the right side of a decided and/or, as JSONata does not', async () => {
    const e = new Expression('metadata.labels.a = "y" and $error("the right side ran")');
    expect(await e.evaluate({ metadata: { labels: { a: 'x' } } }, {})).to.equal(false);
  });

  it('hands an undecided and/or to JSONata', () => {
    const fast = compileFast(jsonata('metadata.labels.a = "x" and status.n > 0').ast());
    expect(fast!({ metadata: { labels: { a: 'x' } }, status: { n: 1 } })).to.equal(BAIL);
    expect(fast!({ metadata: { labels: { a: 'y' } }, status: { n: 1 } })).to.equal(false);
  });

  it('leaves everything else to JSONata', () => {
    for (const source of ['status.n > 1', 'status.phase = $x', 'a[0] = 1', 'a.b.c ~> $f()', '$exists(a[b])', 'status.n > 1 and a = 1', '$not(status.n > 1)']) {
      expect(compileFast(jsonata(source).ast()), source).to.equal(undefined);
    }
  });
});
