import { expect } from 'chai';
import { assignBuckets, bucketOf, fnv1a64Hex, ringPosition } from '../../src/daemon/shard-hash.js';

describe('shard-hash', () => {
  it('computes FNV-1a 64 as the reference vectors', () => {
    expect(fnv1a64Hex('')).to.equal('cbf29ce484222325');
    expect(fnv1a64Hex('a')).to.equal('af63dc4c8601ec8c');
    expect(fnv1a64Hex('foobar')).to.equal('85944171f73967e8');
    // UTF-8 bytes, not UTF-16 code units: "é" is c3 a9.
    expect(fnv1a64Hex('é')).to.equal('0ac21707b7181e01');
  });

  it('puts keys in contiguous ranges of the ring: the bucket grows with the position, and keys that differ only at the end spread over every bucket', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `rule|ns/obj-${i}`);
    const sorted = keys.map((k) => ({ h: ringPosition(k), b: bucketOf(k, 64) })).sort((x, y) => x.h - y.h);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.b).to.be.at.least(sorted[i - 1]!.b);
    expect(new Set(sorted.map((s) => s.b)).size).to.equal(64);
  });

  it('gives every member ⌊B/N⌋ or ⌈B/N⌉ buckets, the same for any order of members', () => {
    for (let n = 1; n <= 8; n++) {
      const members = Array.from({ length: n }, (_, i) => `reflex-${i}`);
      const owners = assignBuckets(64, members);
      expect(assignBuckets(64, [...members].reverse())).to.deep.equal(owners);
      const load = members.map((m) => owners.filter((o) => o === m).length);
      for (const l of load) expect(l).to.be.within(Math.floor(64 / n), Math.ceil(64 / n));
    }
  });

  it('moves only the leaving member’s buckets and a few others when one of three leaves', () => {
    const before = assignBuckets(64, ['a', 'b', 'c']);
    const after = assignBuckets(64, ['a', 'b']);
    const movedOthers = before.filter((o, b) => o !== 'c' && after[b] !== o).length;
    expect(movedOthers).to.be.lessThan(16);
  });
});
