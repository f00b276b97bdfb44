/**
 * functions: the rule functions Reflex adds to JSONata's library that need no evaluation scope —
 * `$duration`, `$parseTime`, `$fromMillis` with IANA time zones, `$hash` and `$regex`. Each
 * returns undefined for input it does not understand; the errors it raises are named in
 * docs/rules.md ("Functions").
 */
import { createHash } from 'node:crypto';
import jsonata from 'jsonata';
import { durationMs, numericZone, parseTimeMs } from './functions-time.js';
import { regexFunction } from './functions-regex.js';
import { canonicalJson } from './limits.js';

const builtinFromMillis = jsonata('$fromMillis($ms, $picture, $timezone)');
const builtinToMillis = jsonata('$toMillis($text, $picture)');

/** An evaluation error JSONata-style (a `code` and a message), reported with the rule and field. */
export function evalError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** `$fromMillis(ms, picture?, timezone?)` where `timezone` may also be an IANA name. */
export async function fromMillis(ms: unknown, picture?: unknown, timezone?: unknown): Promise<unknown> {
  if (ms === undefined) return undefined;
  const tz = numericZone(timezone, Number(ms));
  if (tz === null) {
    throw evalError('ERR_TIMEZONE', `unknown time zone ${JSON.stringify(timezone)}: expected an IANA name such as Europe/Berlin, or ±HHMM`);
  }
  return builtinFromMillis.evaluate({}, { ms, picture, timezone: tz });
}

/** The functions registered on every compiled expression (besides the scope's, see expression.ts). */
export const LIBRARY: Record<string, (...args: never[]) => unknown> = {
  duration: (text: unknown) => durationMs(text),
  async parseTime(text: unknown, picture?: unknown) {
    if (typeof text !== 'string') return undefined;
    if (picture === undefined) return parseTimeMs(text);
    if (typeof picture !== 'string') return undefined;
    try {
      const ms = await builtinToMillis.evaluate({}, { text, picture });
      return typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined;
    } catch {
      return undefined;
    }
  },
  fromMillis,
  hash(value: unknown) {
    const text = canonicalJson(value);
    return text === undefined ? undefined : createHash('sha256').update(text).digest('hex');
  },
  regex: regexFunction,
};
