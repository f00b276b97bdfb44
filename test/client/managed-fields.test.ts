import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { cutManagedFields } from '../../src/client/managed-fields.js';
import { ListDecoder } from '../../src/client/list-decoder.js';
import { decodeWatch } from '../../src/client/watch-decoder.js';
import type { RequestContext } from '../../src/client/errors.js';

/** What a text parses to after the cut (the cut is in place; the bytes before and after are untouched). */
function cut(text: string, path: string[]): unknown {
  const bytes = Buffer.from(`XX${text}YY`, 'utf8');
  const end = cutManagedFields(bytes, 2, bytes.length - 2, path);
  expect(bytes.toString('utf8', bytes.length - 2)).to.equal('YY');
  return JSON.parse(bytes.toString('utf8', 2, end));
}

const withoutManagedFields = (o: KubeObject): KubeObject => {
  const { managedFields: _dropped, ...metadata } = o.metadata ?? {};
  return { ...o, metadata };
};

const NASTY = ['quote " inside', 'back\\slash', '\\"', 'ends with \\', '{[}]', ',"managedFields":[', 'ünïcødé 🚀', ''];

/** Objects as the API server writes them (managedFields last in metadata), with awkward strings. */
function objects(): KubeObject[] {
  return NASTY.map((s, i) => ({
    kind: 'ConfigMap',
    apiVersion: 'v1',
    metadata: {
      name: `o-${i}`,
      labels: { a: s },
      annotations: { [s || 'k']: s },
      managedFields: [{ manager: s, operation: 'Update', fieldsV1: { 'f:data': { [`f:${s}`]: {}, '.': {} } }, time: '2026-01-01T00:00:00Z' }],
    },
    data: { v: s, nested: JSON.stringify({ metadata: { managedFields: [s] } }) },
  }));
}

describe('cutManagedFields', () => {
  it('cuts metadata.managedFields out of a list item and leaves the rest as it was', () => {
    for (const o of objects()) expect(cut(JSON.stringify(o), ['metadata'])).to.deep.equal(withoutManagedFields(o));
  });

  it('cuts them out of a watch event at object.metadata', () => {
    for (const o of objects()) {
      const ev = { type: 'ADDED', object: o };
      expect(cut(JSON.stringify(ev), ['object', 'metadata'])).to.deep.equal({ type: 'ADDED', object: withoutManagedFields(o) });
    }
  });

  it('leaves a field of that name anywhere but in the metadata at the path alone', () => {
    const inSpec = { metadata: { name: 'a' }, spec: { x: 1, managedFields: [1, 2] } };
    expect(cut(JSON.stringify(inSpec), ['metadata'])).to.deep.equal(inSpec);
    const inArray = { metadata: { name: 'a' }, items: [{ metadata: { name: 'b', managedFields: [1] } }] };
    expect(cut(JSON.stringify(inArray), ['metadata'])).to.deep.equal(inArray);
    const inString = { metadata: { name: 'a', note: 'x,"managedFields":[1]' } };
    expect(cut(JSON.stringify(inString), ['metadata'])).to.deep.equal(inString);
    const wrongParent = { type: 'ADDED', other: { metadata: { name: 'a', managedFields: [1] } }, object: { metadata: { name: 'b' } } };
    expect(cut(JSON.stringify(wrongParent), ['object', 'metadata'])).to.deep.equal(wrongParent);
  });

  it('leaves spaced or leading managedFields and truncated text for the caller to drop', () => {
    const spaced = JSON.stringify({ metadata: { name: 'a', managedFields: [{ m: 1 }] } }, null, 1);
    expect(cut(spaced, ['metadata'])).to.deep.equal(JSON.parse(spaced));
    const first = { metadata: { managedFields: [{ m: 1 }], name: 'a' } };
    expect(cut(JSON.stringify(first), ['metadata'])).to.deep.equal(first);
    const text = JSON.stringify({ metadata: { name: 'a', managedFields: [{ m: 1 }] } });
    const truncated = Buffer.from(text.slice(0, -6));
    expect(cutManagedFields(truncated, 0, truncated.length, ['metadata'])).to.equal(truncated.length);
  });

  it('serves the list decoder and the watch decoder when asked, however the bytes are split', async () => {
    const items = objects();
    const listText = Buffer.from(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '9' }, items }));
    for (const size of [1, 7, 100, listText.length]) {
      const d = new ListDecoder(undefined, undefined, { dropManagedFields: true });
      for (let at = 0; at < listText.length; at += size) d.write(Buffer.from(listText.subarray(at, at + size)));
      expect(d.end().items).to.deep.equal(items.map(withoutManagedFields));
      const kept = new ListDecoder();
      kept.write(Buffer.from(listText));
      expect(kept.end().items).to.deep.equal(items);
    }
    const watchText = Buffer.from(items.map((o) => `${JSON.stringify({ type: 'ADDED', object: o })}\n`).join(''));
    for (const size of [3, 64, watchText.length]) {
      const chunks = async function* () {
        for (let at = 0; at < watchText.length; at += size) yield Buffer.from(watchText.subarray(at, at + size));
      };
      const got: KubeObject[] = [];
      for await (const ev of decodeWatch(chunks(), {} as RequestContext, { dropManagedFields: true })) got.push(ev.object);
      expect(got).to.deep.equal(items.map(withoutManagedFields));
    }
  });
});
