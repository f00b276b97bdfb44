/** decode: the bytes of a rule file as text, or where they stop being UTF-8. */
import type { LineCol } from './yaml-source.js';

const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

/**
 * `bytes` decoded as UTF-8 (a leading byte-order mark dropped), or the line and column of the
 * first byte that is not valid UTF-8. A rule file is never read with replacement characters.
 */
export function decodeRuleText(bytes: Uint8Array): { text: string } | { unreadable: LineCol & { reason: string } } {
  try {
    return { text: strict.decode(bytes) };
  } catch {
    const offset = firstInvalid(bytes);
    const before = lenient.decode(bytes.subarray(0, offset));
    const lineStart = before.lastIndexOf('\n') + 1;
    const line = before.split('\n').length;
    const column = before.length - lineStart + 1;
    const hex = bytes[offset]?.toString(16).padStart(2, '0') ?? '';
    return { unreadable: { line, column, reason: `invalid UTF-8 (byte 0x${hex} at offset ${offset}); rule files must be UTF-8` } };
  }
}

/** Offset of the first byte of the first invalid UTF-8 sequence. */
function firstInvalid(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      const x = b[i + k];
      if (x === undefined || (x & 0xc0) !== 0x80) return i;
      if (k === 1 && ((c === 0xe0 && x < 0xa0) || (c === 0xed && x > 0x9f) || (c === 0xf0 && x < 0x90) || (c === 0xf4 && x > 0x8f))) return i;
    }
    i += n + 1;
  }
  return b.length;
}
