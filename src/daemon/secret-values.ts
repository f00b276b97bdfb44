/**
 * SecretValues: the values one evaluation read from Secrets (its trigger, the old object,
 * `$get`/`$list` answers, an update's current target) and wrote into Secrets, so that what the
 * evaluation's failures say — an expression error quoting a value, an API answer quoting the
 * submitted value, a terminal failure — is said without them: `scrub` replaces every occurrence
 * of a value, in its stored (base64), decoded, JSON-escaped and whitespace-collapsed forms, and
 * the beginning of one where a message was cut short (`…`).
 *
 * Cost: recording is a reference pushed per Secret read; the forms of a Secret's values are
 * computed when a message is first scrubbed of them, and kept for as long as that object lives.
 */
import type { KubeObject, LogFields, Logger } from '../core/index.js';
import type { ObjectLister, PlannedAction } from '../engine/index.js';
import { REDACTED } from './redact.js';

/** Values shorter than this are not searched for: they would match ordinary words of a message. */
export const MIN_SECRET_CHARS = 4;

/** Where a message was cut (oneLine). */
const CUT = '…';

/** The actions whose body is written into their target (a log line or an Event about a Secret writes nothing into it). */
const WRITES = new Set(['apply', 'create', 'update', 'patch']);

/** Whether one of `plan`'s actions writes into a Secret. */
export const writesSecrets = (plan: Pick<PlannedAction, 'action' | 'target'>[]): boolean => plan.some((p) => p.target.kind === 'Secret' && WRITES.has(p.action));

const isSecretKind = (apiVersion: string, kind: string) => kind === 'Secret' && apiVersion === 'v1';

export class SecretValues {
  /** What was read or written: Secrets' `data` (base64 values), and plain values (stringData, patch values). */
  private readonly encoded: unknown[] = [];
  private readonly plain: unknown[] = [];

  /** Records the data of `obj` when it is a Secret. */
  add(obj: KubeObject | undefined): void {
    if (obj?.kind === 'Secret' && obj.data !== undefined) this.encoded.push(obj.data);
  }

  /** Records what `planned` writes into a Secret: data (base64), stringData, a JSON patch's values. */
  addWrite(planned: Pick<PlannedAction, 'action' | 'target' | 'body'>): void {
    if (planned.target.kind !== 'Secret' || !WRITES.has(planned.action)) return;
    const body = planned.body;
    if (Array.isArray(body)) {
      for (const op of body as { path?: unknown; value?: unknown }[]) {
        (typeof op?.path === 'string' && op.path.startsWith('/data') ? this.encoded : this.plain).push(op?.value);
      }
    } else if (body !== null && typeof body === 'object') {
      const b = body as { data?: unknown; stringData?: unknown };
      this.encoded.push(b.data);
      this.plain.push(b.stringData);
    } else {
      this.plain.push(body);
    }
  }

  /** `inner`, recording the Secrets it answers with. */
  recording(inner: ObjectLister): ObjectLister {
    return {
      get: (apiVersion, kind, namespace, name) => {
        const r = inner.get(apiVersion, kind, namespace, name);
        if (!isSecretKind(apiVersion, kind)) return r;
        if (r instanceof Promise) return r.then((o) => (this.add(o), o));
        this.add(r);
        return r;
      },
      list: (apiVersion, kind, namespace, labelSelector) => {
        const r = inner.list(apiVersion, kind, namespace, labelSelector);
        if (!isSecretKind(apiVersion, kind)) return r;
        const keep = (items: KubeObject[]) => {
          for (const o of items) if (o.data !== undefined) this.encoded.push(o.data);
          return items;
        };
        return r instanceof Promise ? r.then(keep) : keep(r);
      },
    };
  }

  /** Whether any value was recorded. */
  get empty(): boolean {
    return this.encoded.length === 0 && this.plain.length === 0;
  }

  /** `text` with every recorded value (in any of its forms) replaced by `[REDACTED]`. */
  scrub(text: string): string {
    if (this.empty || text.length === 0) return text;
    let out = text;
    const all: string[][] = [];
    const replace = (value: unknown, base64: boolean) => {
      const needles = needlesOf(value, base64);
      all.push(needles);
      for (const n of needles) if (n.length <= out.length && out.includes(n)) out = out.split(n).join(REDACTED);
    };
    for (const v of this.encoded) replace(v, true);
    for (const v of this.plain) replace(v, false);
    return out.endsWith(CUT) ? maskCutPrefix(out, all) : out;
  }

  /** `scrub` as a function. */
  readonly scrubber = (text: string): string => this.scrub(text);
}

/** A message cut inside a value ends with that value's beginning: masked too. */
function maskCutPrefix(text: string, all: string[][]): string {
  const body = text.slice(0, -CUT.length);
  let longest = 0;
  for (const needles of all) {
    for (const n of needles) {
      for (let len = Math.min(n.length - 1, body.length); len >= MIN_SECRET_CHARS && len > longest; len--) {
        if (body.endsWith(n.slice(0, len))) {
          longest = len;
          break;
        }
      }
    }
  }
  return longest === 0 ? text : `${body.slice(0, body.length - longest)}${REDACTED}${CUT}`;
}

/**
 * The forms of the values of a Secret's data (or stringData), longest first. Cached per object:
 * informer caches hand out the same object until it changes, so a Secret's forms are built once
 * per version, not once per evaluation.
 */
const formsCache = new WeakMap<object, { base64: string[]; plain: string[] }>();

function needlesOf(value: unknown, base64: boolean): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value !== 'object') return buildNeedles(value, base64);
  let entry = formsCache.get(value);
  if (!entry) formsCache.set(value, (entry = { base64: [], plain: [] }));
  const key = base64 ? 'base64' : 'plain';
  if (entry[key].length === 0) entry[key] = buildNeedles(value, base64);
  return entry[key];
}

function buildNeedles(value: unknown, base64: boolean): string[] {
  const out = new Set<string>();
  const forms = (text: string) => {
    for (const v of text.includes('\n') ? [text, ...text.split(/\r?\n/)] : [text]) {
      if (v.length < MIN_SECRET_CHARS) continue;
      const escaped = JSON.stringify(v).slice(1, -1);
      // As written, JSON-escaped (an API answer quotes it so), and either made one line (oneLine).
      out.add(v);
      if (escaped !== v) out.add(escaped);
      if (/\s\s|[\t\n\r]/.test(v)) out.add(v.replace(/\s+/g, ' ').trim()).add(escaped.replace(/\s+/g, ' ').trim());
    }
  };
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      forms(v);
      forms(base64 ? Buffer.from(v, 'base64').toString('utf8') : Buffer.from(v, 'utf8').toString('base64'));
    } else if (v !== null && typeof v === 'object') {
      for (const x of Object.values(v)) walk(x);
    }
  };
  walk(value);
  return [...out].filter((n) => n.length >= MIN_SECRET_CHARS).sort((a, b) => b.length - a.length);
}

/** A logger whose lines (message and every string field) go through `scrub` first. */
export function scrubbingLogger(inner: Logger, scrub: (text: string) => string): Logger {
  const line = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: LogFields) => inner[level](scrub(message), fields && (scrubDeep(fields, scrub, 0) as LogFields));
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error'), child: (fields) => scrubbingLogger(inner.child(scrubDeep(fields, scrub, 0) as LogFields), scrub) };
}

/** A copy of `v` with every string scrubbed (plain data: what log fields and planned actions hold). */
export function scrubDeep(v: unknown, scrub: (text: string) => string, depth: number): unknown {
  if (typeof v === 'string') return scrub(v);
  if (v === null || typeof v !== 'object' || depth > 32 || v instanceof Error) return v instanceof Error ? scrub(v.message) : v;
  if (Array.isArray(v)) return v.map((x) => scrubDeep(x, scrub, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrubDeep(x, scrub, depth + 1)]));
}
