/**
 * shard-hash: where a queue key belongs when replicas share the work. A key hashes with
 * FNV-1a 64 into one of a fixed number of buckets by the hash's top bits, so each bucket is a
 * contiguous range of the hash space (a later server-side shard selector can cut watches on the
 * same ranges); buckets go to live members by rendezvous hashing with bounded loads.
 */

const PRIME_LOW = 0x1b3; // the FNV 64 prime is 2^40 + 0x1b3
const encoder = new TextEncoder();

/** FNV-1a 64 of the UTF-8 bytes of `text`, as its high and low 32-bit words. */
export function fnv1a64(text: string): { hi: number; lo: number } {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  const step = (byte: number) => {
    lo = (lo ^ byte) >>> 0;
    // (hi:lo) * (2^40 + 0x1b3) mod 2^64, in 32-bit words.
    const low = lo * PRIME_LOW;
    const carry = Math.floor(low / 0x1_0000_0000);
    hi = (Math.imul(hi, PRIME_LOW) + carry + (lo << 8)) >>> 0;
    lo = low >>> 0;
  };
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) for (let i = 0; i < text.length; i++) step(text.charCodeAt(i));
  else for (const byte of encoder.encode(text)) step(byte);
  return { hi, lo };
}

/** The hash as 16 hex digits (for tests and traces). */
export function fnv1a64Hex(text: string): string {
  const { hi, lo } = fnv1a64(text);
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}

/**
 * The 32-bit position of a key on the ring: FNV-1a 64 folded to 32 bits and passed through
 * murmur3's finalizer. Raw FNV-1a's top bits hardly depend on a key's last bytes (2,000 keys
 * `rule|ns/obj-0` … `obj-1999` fell into 20 of 64 buckets by them), and keys mostly differ there.
 */
export function ringPosition(key: string): number {
  const { hi, lo } = fnv1a64(key);
  let h = (hi ^ lo) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The bucket of a queue key (`rule|namespace/name`) among `buckets`: bucket b holds the ring
 * positions p with floor(p·buckets / 2^32) = b, a contiguous range.
 */
export function bucketOf(key: string, buckets: number): number {
  return Math.floor((ringPosition(key) * buckets) / 0x1_0000_0000);
}

/** The score of a member for a bucket in rendezvous hashing: higher wins. */
function score(member: string, bucket: number): number {
  return ringPosition(`${member}|${bucket}`);
}

/**
 * The owner of every bucket among `members`: rendezvous (highest random weight) hashing with
 * bounded loads. All (bucket, member) pairs are taken from the highest score down, and a pair
 * places its bucket when the bucket has no owner yet and the member holds fewer than
 * ⌊B/N⌋ (or ⌈B/N⌉, for as many members as B mod N), so the loads are as even as they can be. The result depends only
 * on the set of members, so every replica computes the same one; a member joining or leaving
 * moves little besides its own share.
 */
export function assignBuckets(buckets: number, members: readonly string[]): string[] {
  const live = [...new Set(members)].sort();
  if (live.length === 0) return [];
  const floor = Math.floor(buckets / live.length);
  let larger = buckets % live.length; // how many members may hold floor + 1
  const pairs: { b: number; m: number; s: number }[] = [];
  for (let b = 0; b < buckets; b++) for (let m = 0; m < live.length; m++) pairs.push({ b, m, s: score(live[m]!, b) });
  pairs.sort((x, y) => y.s - x.s || x.b - y.b || x.m - y.m);
  const owners = new Array<string>(buckets);
  const load = new Array<number>(live.length).fill(0);
  let placed = 0;
  for (const p of pairs) {
    if (owners[p.b] !== undefined) continue;
    const l = load[p.m]!;
    if (l > floor || (l === floor && larger === 0)) continue;
    if (l === floor) larger--;
    owners[p.b] = live[p.m]!;
    load[p.m] = l + 1;
    if (++placed === buckets) break;
  }
  return owners;
}
