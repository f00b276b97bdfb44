import { expect } from 'chai';
import { goDuration, ProtoListDecoder, ProtoTypes, decodeProtoObject } from '../../src/client/proto/index.js';
import { F_INLINE, F_OMITEMPTY, F_OMITZERO, F_POINTER, F_REPEATED, type ProtoSchema } from '../../src/client/proto/schema.js';
import { ListDecodeError } from '../../src/client/index.js';

/** A minimal protobuf writer for the tests' messages. */
class W {
  private parts: Buffer[] = [];
  static varint(n: number | bigint): Buffer {
    let v = BigInt.asUintN(64, BigInt(n));
    const out: number[] = [];
    do {
      let b = Number(v & 0x7fn);
      v >>= 7n;
      if (v > 0n) b |= 0x80;
      out.push(b);
    } while (v > 0n);
    return Buffer.from(out);
  }
  int(num: number, v: number | bigint): this {
    this.parts.push(W.varint(num << 3), W.varint(v));
    return this;
  }
  bytes(num: number, v: Buffer | string | W): this {
    const b = v instanceof W ? v.done() : Buffer.from(v);
    this.parts.push(W.varint((num << 3) | 2), W.varint(b.length), b);
    return this;
  }
  double(num: number, v: number): this {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.parts.push(W.varint((num << 3) | 1), b);
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const schema: ProtoSchema = {
  version: 'test',
  kinds: { 'v1/Thing': 't/v1.Thing', 'v1/ThingList': 't/v1.ThingList', 'v1/Status': 'meta/v1.Status' },
  messages: {
    'meta/v1.ObjectMeta': { fields: [[1, 'name', 's', F_OMITEMPTY], [8, 'creationTimestamp', 'time', F_OMITEMPTY | F_OMITZERO], [9, 'deletionTimestamp', 'time', F_OMITEMPTY | F_POINTER], [11, 'labels', 'map', F_OMITEMPTY, ['s', 's']], [17, 'managedFields', 'm', F_OMITEMPTY | F_REPEATED, 'meta/v1.ManagedFieldsEntry']] },
    'meta/v1.ManagedFieldsEntry': { fields: [[1, 'manager', 's', F_OMITEMPTY], [7, 'fieldsV1', 'fv1', F_OMITEMPTY | F_POINTER], [3, 'time', 'time', F_OMITEMPTY | F_POINTER]] },
    'meta/v1.ListMeta': { fields: [[2, 'resourceVersion', 's', F_OMITEMPTY], [3, 'continue', 's', F_OMITEMPTY], [4, 'remainingItemCount', 'i64', F_OMITEMPTY | F_POINTER]] },
    'meta/v1.Status': { fields: [[2, 'status', 's', F_OMITEMPTY], [3, 'message', 's', F_OMITEMPTY], [4, 'reason', 's', F_OMITEMPTY], [6, 'code', 'i32', F_OMITEMPTY]] },
    't/v1.Extra': { fields: [[1, 'items', 's', F_REPEATED]], wrap: true },
    't/v1.Source': { fields: [[1, 'path', 's', 0], [2, 'readOnly', 'B', F_OMITEMPTY]] },
    't/v1.Spec': {
      fields: [
        [1, 'replicas', 'i32', F_OMITEMPTY | F_POINTER], [2, 'paused', 'B', F_OMITEMPTY], [3, 'count', 'i32', 0], [4, 'offset', 'i64', F_OMITEMPTY],
        [5, 'ports', 'i32', F_REPEATED | F_OMITEMPTY], [6, 'names', 's', F_REPEATED], [7, 'limits', 'map', F_OMITEMPTY, ['s', 'qty']],
        [8, 'extra', 'map', F_OMITEMPTY, ['s', 'm', 't/v1.Extra']], [9, 'target', 'ios', F_OMITEMPTY], [10, 'maxSurge', 'ios', F_OMITEMPTY | F_POINTER],
        [11, 'timeout', 'dur', F_OMITEMPTY], [12, 'renewTime', 'mtime', F_OMITEMPTY | F_POINTER], [13, 'data', 'raw', F_OMITEMPTY],
        [14, 'ratio', 'f64', F_OMITEMPTY | F_POINTER], [15, 'caBundle', 'b', F_OMITEMPTY], [16, 'source', 'm', F_INLINE, 't/v1.Source'],
        [17, 'binary', 'map', F_OMITEMPTY, ['s', 'b']], [18, 'required', 's', 0], [19, 'optionalList', 's', F_REPEATED | F_OMITEMPTY],
      ],
    },
    't/v1.Thing': { fields: [[1, 'metadata', 'm', F_OMITEMPTY, 'meta/v1.ObjectMeta'], [2, 'spec', 'm', F_OMITEMPTY, 't/v1.Spec'], [3, 'status', 'm', F_OMITEMPTY | F_POINTER, 't/v1.Spec']] },
    't/v1.ThingList': { fields: [[1, 'metadata', 'm', F_OMITEMPTY, 'meta/v1.ListMeta'], [2, 'items', 'm', F_REPEATED, 't/v1.Thing']] },
  },
};
const types = new ProtoTypes(schema);

const entry = (k: string, v: Buffer | string | W) => new W().bytes(1, k).bytes(2, v);
const meta = (name: string) =>
  new W().bytes(1, name).bytes(8, new W().int(1, 1767323045)).bytes(11, entry('app', 'x')).bytes(11, entry('empty', ''))
    .bytes(17, new W().bytes(1, 'kubectl').bytes(7, new W().bytes(1, '{"f:data":{}}')).bytes(3, new W().int(1, 1767323045)));

function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  const u = new W().bytes(1, new W().bytes(1, apiVersion).bytes(2, kind)).bytes(2, raw).bytes(3, '').bytes(4, '');
  return Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), u.done()]);
}

describe('protobuf decoding', () => {
  it('turns each field type into the JSON the API server writes', () => {
    const spec = new W()
      .int(1, 0).int(2, 0).int(3, 0).int(4, -5n)
      .int(5, 80).bytes(5, Buffer.concat([W.varint(443), W.varint(8443)])) // unpacked, then packed
      .bytes(6, 'a').bytes(6, 'ü✓')
      .bytes(7, entry('cpu', new W().bytes(1, '1500m'))).bytes(7, entry('zero', new W()))
      .bytes(8, entry('groups', new W().bytes(1, 'g1').bytes(1, 'g2')))
      .bytes(9, new W().int(1, 1).bytes(3, '25%')).bytes(10, new W().int(1, 0).int(2, 0))
      .bytes(11, new W().int(1, 90_061_500_000_000)).bytes(12, new W().int(1, 1767323045).int(2, 123_456_789))
      .bytes(13, new W().bytes(1, '{"a":[1,null]}')).double(14, 0).bytes(15, Buffer.from([1, 2, 3]))
      .bytes(16, new W().bytes(1, '/p').int(2, 1)).bytes(17, entry('bin', Buffer.from([255])));
    const thing = new W().bytes(1, meta('one')).bytes(2, spec);
    const obj = decodeProtoObject(types, envelope('v1', 'Thing', thing.done()));
    expect(obj).to.deep.equal({
      apiVersion: 'v1', kind: 'Thing',
      metadata: {
        name: 'one', creationTimestamp: '2026-01-02T03:04:05Z', labels: { app: 'x', empty: '' },
        managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:data': {} }, time: '2026-01-02T03:04:05Z' }],
      },
      spec: {
        replicas: 0, // a pointer: written although zero
        count: 0, // no omitempty
        offset: -5,
        ports: [80, 443, 8443],
        names: ['a', 'ü✓'],
        limits: { cpu: '1500m', zero: '0' },
        extra: { groups: ['g1', 'g2'] },
        target: '25%', maxSurge: 0,
        timeout: '25h1m1.5s',
        renewTime: '2026-01-02T03:04:05.123456Z',
        data: { a: [1, null] },
        ratio: 0,
        caBundle: 'AQID',
        path: '/p', readOnly: true, // inline: in the parent object
        binary: { bin: '/w==' },
        required: '', // no omitempty, not on the wire
        // optionalList: omitempty and absent; paused: false and omitempty
      },
    });
  });

  it('writes null where JSON does: unset lists without omitempty, an empty RawExtension, an unset time', () => {
    const obj = decodeProtoObject(types, envelope('v1', 'Thing', new W().bytes(1, new W().bytes(1, 'x').bytes(8, new W())).bytes(2, new W()).done()));
    expect(obj.metadata).to.deep.equal({ name: 'x' }); // omitzero: an unset creationTimestamp is left out
    expect(obj.spec).to.deep.equal({ count: 0, names: null, target: 0, timeout: '0s', data: null, path: '', required: '' }); // structs: omitempty never applies
    expect(obj).to.not.have.property('status'); // a pointer, absent
  });

  it('formats durations as Go does', () => {
    const cases: [number, string][] = [[0, '0s'], [1, '1ns'], [1_500, '1.5µs'], [2_000_000, '2ms'], [1_000_000_000, '1s'], [61_000_000_000, '1m1s'], [3_600_000_000_000, '1h0m0s'], [-90_000_000_000, '-1m30s'], [5_400_000_000_001, '1h30m0.000000001s']];
    for (const [ns, text] of cases) expect(goDuration(ns), String(ns)).to.equal(text);
  });

  it('streams a list: metadata first, items as they complete, whatever the chunk size, managedFields dropped on request', () => {
    const items = Array.from({ length: 20 }, (_, i) => new W().bytes(1, meta(`item-${i}`)).bytes(2, new W().int(3, i)));
    const list = new W().bytes(1, new W().bytes(2, '123').bytes(3, 'next').int(4, 7));
    for (const it of items) list.bytes(2, it);
    const bytes = envelope('v1', 'ThingList', list.done());
    for (const size of [1, 2, 3, 7, 64, 100_000]) {
      const seen: string[] = [];
      let metaAt = -1;
      const d = new ProtoListDecoder(types, (m) => {
        metaAt = seen.length;
        expect(m).to.deep.equal({ resourceVersion: '123', continue: 'next', remainingItemCount: 7 });
      }, (item) => {
        seen.push(item.metadata!.name!);
        return item;
      }, { dropManagedFields: size % 2 === 1 });
      for (let i = 0; i < bytes.length; i += size) d.write(bytes.subarray(i, i + size));
      const out = d.end();
      expect(metaAt, `size ${size}`).to.equal(0);
      expect(out.kind).to.equal('ThingList');
      expect(out.items.map((i) => i.metadata!.name)).to.deep.equal(items.map((_, i) => `item-${i}`));
      expect(out.items[3].spec).to.deep.include({ count: 3 });
      expect('managedFields' in out.items[0].metadata!, `size ${size}`).to.equal(size % 2 === 0);
    }
  });

  it('refuses a cut or malformed answer with a message that quotes none of it', () => {
    const list = new W().bytes(1, new W().bytes(2, '1')).bytes(2, new W().bytes(1, meta('secret-name'))).done();
    const bytes = envelope('v1', 'ThingList', list);
    const cut = new ProtoListDecoder(types);
    cut.write(bytes.subarray(0, bytes.length - 3));
    expect(() => cut.end()).to.throw(ListDecodeError, /ended early/);
    const notProto = new ProtoListDecoder(types);
    expect(() => notProto.write(Buffer.from('{"kind":"List"}'))).to.throw(ListDecodeError, /not a Kubernetes protobuf/);
    const unknownKind = new ProtoListDecoder(types);
    expect(() => unknownKind.write(envelope('v9', 'Other', list))).to.throw(ListDecodeError, /v9 Other/);
    // An item whose length runs past the list.
    const bad = Buffer.from(bytes);
    const at = bad.indexOf(Buffer.from('secret-name')) - 1;
    bad[at] = 0x7f;
    const d = new ProtoListDecoder(types);
    let err: unknown;
    try {
      d.write(bad);
      d.end();
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(ListDecodeError);
    expect(String(err)).to.not.include('secret-name');
  });

  it('decodes an error Status', () => {
    const status = new W().bytes(2, 'Failure').bytes(3, 'the continue token is not valid').bytes(4, 'BadRequest').int(6, 400).done();
    expect(decodeProtoObject(types, envelope('v1', 'Status', status))).to.deep.equal({ apiVersion: 'v1', kind: 'Status', status: 'Failure', message: 'the continue token is not valid', reason: 'BadRequest', code: 400 });
  });
});
