import { expect } from 'chai';
import { ReflexError, type KubeList, type KubeObject } from '../../src/core/index.js';
import { ListDecodeError, ListDecoder } from '../../src/client/list-decoder.js';

/** Feeds `text` to a decoder in chunks of the given sizes (cycled), as bytes. */
function decode(text: string, sizes: number[], options: { onMetadata?: (m: KubeList['metadata']) => void; onItem?: (o: KubeObject) => KubeObject } = {}): KubeList {
  const bytes = Buffer.from(text, 'utf8');
  const decoder = new ListDecoder(options.onMetadata, options.onItem);
  for (let at = 0, k = 0; at < bytes.length; k++) {
    const size = Math.max(1, sizes[k % sizes.length]);
    decoder.write(new Uint8Array(bytes.subarray(at, at + size)));
    at += size;
  }
  return decoder.end();
}

/** A deterministic pseudo-random generator (tests must not depend on luck). */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

const NASTY = ['plain', 'quote " inside', 'back\\slash', '\\"', 'ends with \\', '{[}]', 'items', '"items":[', 'ünïcødé ✓ 🚀', '\n\t\u0000', ''];

function randomObject(r: () => number, i: number): KubeObject {
  const pick = () => NASTY[Math.floor(r() * NASTY.length)];
  return {
    metadata: { name: `o-${i}`, resourceVersion: String(100 + i), labels: { a: pick() }, managedFields: [{ manager: pick(), fieldsV1: { 'f:data': {} } }] },
    data: { [pick() || 'k']: pick(), payload: 'x'.repeat(Math.floor(r() * 300)) },
    spec: { items: [{ nested: [pick(), { deeper: [] }] }], n: Math.floor(r() * 1e6), f: r(), t: true, z: null },
  } as KubeObject;
}

describe('ListDecoder', () => {
  it('decodes a list exactly as JSON.parse does, however the bytes are split', () => {
    const r = rng(7);
    for (let round = 0; round < 30; round++) {
      const items = Array.from({ length: Math.floor(r() * 25) }, (_, i) => randomObject(r, i));
      const list = { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '42', continue: round % 2 ? 'tok' : undefined }, items };
      const text = round % 3 === 0 ? JSON.stringify(list, null, 2) : JSON.stringify(list);
      const sizes = [[1], [2, 3, 5], [7, 64, 1], [4096]][round % 4];
      expect(decode(text, sizes), `round ${round}`).to.deep.equal(JSON.parse(text));
    }
  });

  it('keeps multi-byte characters whole when a chunk ends inside one', () => {
    const list = { metadata: {}, items: [{ metadata: { name: 'ü🚀✓' }, data: { v: '🚀'.repeat(20) } }] };
    const text = JSON.stringify(list);
    for (let size = 1; size <= 5; size++) expect(decode(text, [size])).to.deep.equal(list);
  });

  it('reports the metadata as soon as it is complete, before any item is decoded', () => {
    const order: string[] = [];
    const text = JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '9', continue: 'next' }, items: [{ metadata: { name: 'a' } }, { metadata: { name: 'b' } }] });
    const list = decode(text, [3], {
      onMetadata: (m) => order.push(`metadata ${m.continue}`),
      onItem: (o) => (order.push(`item ${o.metadata?.name}`), o),
    });
    expect(order).to.deep.equal(['metadata next', 'item a', 'item b']);
    expect(list.metadata.continue).to.equal('next');
  });

  it('reports the metadata at the end when it comes after the items (keys sorted), and still decodes the list', () => {
    const order: string[] = [];
    const list = { apiVersion: 'v1', items: [{ metadata: { name: 'a' } }], kind: 'List', metadata: { resourceVersion: '3' } };
    const decoder = new ListDecoder(
      (m) => order.push(`metadata ${m.resourceVersion}`),
      (o) => (order.push(`item ${o.metadata?.name}`), o),
    );
    decoder.write(Buffer.from(JSON.stringify(list)));
    expect(order, 'nothing early').to.deep.equal(['item a']);
    expect(decoder.end()).to.deep.equal(list);
    expect(order).to.deep.equal(['item a', 'metadata 3']);
  });

  it('maps each item through onItem as it is decoded, keeping what it returns', () => {
    const text = JSON.stringify({ metadata: {}, items: [{ metadata: { name: 'a', managedFields: [{}] } }] });
    const list = decode(text, [5], { onItem: (o) => ({ ...o, metadata: { name: o.metadata?.name } }) });
    expect(list.items).to.deep.equal([{ metadata: { name: 'a' } }]);
  });

  it('decodes empty and null item lists', () => {
    expect(decode('{"metadata":{"resourceVersion":"1"},"items":[]}', [4])).to.deep.equal({ metadata: { resourceVersion: '1' }, items: [] });
    expect(decode('{"metadata":{},"items":null}', [4])).to.deep.equal({ metadata: {}, items: null });
  });

  it('rejects malformed answers with a ListDecodeError naming what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['{"metadata":{},"items":[{"a":1}', /ended early/],
      ['{"metadata":{},"items":[{"a":1},', /ended early/],
      ['{"metadata":{},"items":["str"]}', /not an object/],
      ['{"metadata":{},"items":[1]}', /not an object/],
      ['{"metadata":{},"items":[{"a":}]}', /list item 0 \(6 characters\) is not JSON/],
      ['{"metadata":{}}}', /unbalanced/],
      ['[1,2]', /not a JSON object/],
      ['{"metadata": nope}', /not JSON/],
    ];
    for (const [text, message] of cases) {
      expect(() => decode(text, [3]), text).to.throw(ListDecodeError, message);
    }
  });

  it('throws a ReflexError with the stable code ERR_LIST_DECODE', () => {
    let err: unknown;
    try {
      decode('{"metadata":{},"items":[1]}', [3]);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ReflexError);
    expect(err).to.include({ name: 'ListDecodeError', code: 'ERR_LIST_DECODE' });
  });

  it('never quotes the answer in its errors (a list of Secrets holds their data)', () => {
    for (const text of ['{"metadata":{},"items":[{"data":{"password":"hunter2"},}]}', '{"metadata":{"x":"hunter2",},"items":[]}']) {
      expect(() => decode(text, [7])).to.throw(ListDecodeError).that.satisfies((e: Error) => !e.message.includes('hunter2'));
    }
  });
});
