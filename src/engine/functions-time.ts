/**
 * functions-time: the pure parts of `$duration`, `$parseTime` and time zones for `$now` and
 * `$fromMillis`. Each returns undefined for input it does not understand; none throws.
 */

/** Milliseconds of one of Go's duration units, and of d (24 h) and w (7 d). */
const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const COMPONENT = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h|d|w)/y;

/**
 * Milliseconds of a Go duration (`1h30m`, `250ms`, `1.5h`, `-90s`, `0`) with the extra units d
 * and w (`7d`, `2w`); undefined for anything else (no unit, unknown unit, empty, not a string).
 */
export function durationMs(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > 100) return undefined;
  let i = 0;
  let sign = 1;
  if (text[0] === '-' || text[0] === '+') {
    sign = text[0] === '-' ? -1 : 1;
    i = 1;
  }
  if (text.slice(i) === '0') return 0;
  if (i === text.length) return undefined;
  let total = 0;
  while (i < text.length) {
    COMPONENT.lastIndex = i;
    const m = COMPONENT.exec(text);
    if (!m || (m[1] === '' && (m[2] === undefined || m[2] === ''))) return undefined;
    total += Number(`${m[1] || '0'}.${m[2] || '0'}`) * UNIT_MS[m[3]];
    i = COMPONENT.lastIndex;
  }
  return sign * total;
}

const DATE = String.raw`(\d{4})-(\d{2})-(\d{2})`;
/** RFC 3339: date, T, time with seconds and an optional fraction, Z or a numeric offset. */
const RFC3339 = new RegExp(String.raw`^${DATE}[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$`);
/** A date alone, or a date and a time to the minute or second without a zone (both UTC). */
const LOCAL = new RegExp(String.raw`^${DATE}(?:T(\d{2}):(\d{2})(?::(\d{2}))?)?$`);
/** The compact form Kyverno's cleanup writes: `2023-10-04T003000Z`. */
const COMPACT = new RegExp(String.raw`^${DATE}T(\d{2})(\d{2})(\d{2})Z$`);

/** Epoch ms of a UTC calendar time, or undefined when a field is out of range (Feb 30, 24:00, …). */
function utc(y: string, mo: string, d: string, h = '0', mi = '0', s = '0', frac = ''): number | undefined {
  const [Y, M, D, H, I, S] = [y, mo, d, h, mi, s].map(Number);
  if (M < 1 || M > 12 || D < 1 || H > 23 || I > 59 || S > 60) return undefined;
  if (D > new Date(Date.UTC(Y, M, 0)).getUTCDate()) return undefined;
  const ms = Date.UTC(Y, M - 1, D, H, I, S) + Math.floor(Number(`0.${frac || '0'}`) * 1000);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Epoch ms of an RFC 3339 timestamp (`2026-03-10T12:00:00Z`, `…+01:00`, fractions), a date
 * `2026-03-10` (UTC midnight), `2019-02-28T20:40` or `2019-02-28T20:40:00` (UTC), or
 * `2023-10-04T003000Z`; undefined for anything else, including impossible dates.
 */
export function parseTimeMs(text: unknown): number | undefined {
  if (typeof text !== 'string' || text.length > 64) return undefined;
  let m = RFC3339.exec(text);
  if (m) {
    const t = utc(m[1], m[2], m[3], m[4], m[5], m[6], m[7]);
    if (t === undefined || m[8]) return t;
    const [oh, om] = [Number(m[10]), Number(m[11])];
    if (oh > 23 || om > 59) return undefined;
    return t - (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  if ((m = LOCAL.exec(text))) return utc(m[1], m[2], m[3], m[4], m[5], m[6]);
  if ((m = COMPACT.exec(text))) return utc(m[1], m[2], m[3], m[4], m[5], m[6]);
  return undefined;
}

/** JSONata's own time zone form: `+0100`, `-0530`. */
const NUMERIC_ZONE = /^[+-]\d{4}$/;

const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatter(tz: string): Intl.DateTimeFormat | null {
  let f = formatters.get(tz);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      f = null;
    }
    if (formatters.size > 1000) formatters.clear();
    formatters.set(tz, f);
  }
  return f;
}

/** The last offset asked of each zone, for the minute it was asked for (a sweep asks for the same one). */
const lastOffset = new Map<string, { minute: number; offset: number }>();

/** Offset from UTC of IANA zone `tz` at instant `ms`, in minutes; undefined for an unknown zone. */
export function zoneOffsetMinutes(tz: string, ms: number): number | undefined {
  if (!Number.isFinite(ms)) return undefined;
  const minute = Math.floor(ms / 60_000);
  const last = lastOffset.get(tz);
  if (last?.minute === minute) return last.offset;
  const offset = computeOffset(tz, ms);
  if (offset !== undefined) {
    if (lastOffset.size > 1000) lastOffset.clear();
    lastOffset.set(tz, { minute, offset });
  }
  return offset;
}

function computeOffset(tz: string, ms: number): number | undefined {
  const f = formatter(tz);
  if (!f) return undefined;
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((wall - (ms - (((ms % 1000) + 1000) % 1000))) / 60_000);
}

/**
 * The `±HHMM` form JSONata's formatter takes for `timezone` at instant `ms`: a `±HHMM` as is,
 * an IANA name (`Europe/Berlin`, `UTC`) as its offset at that instant (daylight saving
 * included), undefined as undefined (UTC). `null` when the zone is neither.
 */
export function numericZone(timezone: unknown, ms: number): string | undefined | null {
  if (timezone === undefined) return undefined;
  if (typeof timezone !== 'string') return null;
  if (NUMERIC_ZONE.test(timezone)) return timezone;
  const off = zoneOffsetMinutes(timezone, ms);
  if (off === undefined) return null;
  const a = Math.abs(off);
  return `${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}${String(a % 60).padStart(2, '0')}`;
}
