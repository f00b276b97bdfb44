/**
 * Decodes Kubernetes protobuf messages into the objects JSON.parse makes of the API server's
 * JSON for the same object: the same keys, omitted where the server's JSON omits them, `null`
 * where it writes null, times as RFC 3339 text, quantities and durations as text, bytes as
 * base64. Driven by the schema table (schema.generated.ts), compiled once.
 *
 * Wire format: each field is a varint tag (field number << 3 | wire type) and a value: a
 * varint (0), 8 bytes (1), a length and that many bytes (2: strings, bytes, messages, map
 * entries, packed lists) or 4 bytes (5).
 */
import { F_INLINE, F_OMITEMPTY, F_OMITZERO, F_POINTER, F_REPEATED, type FieldType, type MapRef, type Message, type ProtoSchema } from './schema.js';

/** A malformed message. The message never quotes the bytes (they may be a Secret's). */
export class ProtoDecodeError extends Error {}

const enum T {
  String, Bytes, Bool, Int32, Int64, Uint32, Uint64, Float, Double, Message, Map, Time, MicroTime, Duration, Quantity, IntOrString, Raw, FieldsV1,
}

const TYPE_CODES: Record<FieldType, T> = {
  s: T.String, b: T.Bytes, B: T.Bool, i32: T.Int32, i64: T.Int64, u32: T.Uint32, u64: T.Uint64, f32: T.Float, f64: T.Double,
  m: T.Message, map: T.Map, time: T.Time, mtime: T.MicroTime, dur: T.Duration, qty: T.Quantity, ios: T.IntOrString, raw: T.Raw, fv1: T.FieldsV1,
};

export interface CompiledField {
  /** Position in the Go struct, which is the order of JSON's keys. */
  idx: number;
  num: number;
  name: string;
  type: T;
  repeated: boolean;
  pointer: boolean;
  omitEmpty: boolean;
  /** omitempty on a type it applies to (text, bytes, bools, numbers): encoding/json never omits a struct. */
  omitEmptyValue: boolean;
  omitZero: boolean;
  inline: boolean;
  /** metadata.managedFields: left out when the caller drops them. */
  managedFields: boolean;
  /** JSON writes a value when the wire has none. */
  needsDefault: boolean;
  /** apiVersion and kind the API server's defaulting writes into each element (protobuf carries no TypeMeta). */
  typeMeta?: { kind: string; apiVersion: string };
  msg?: CompiledMessage;
  keyType?: T;
  valueType?: T;
  valueMsg?: CompiledMessage;
  /** Makes this map field's objects. */
  makeMap?: () => Record<string, unknown>;
}

export interface CompiledMessage {
  name: string;
  /** Index: field number → field. */
  byNumber: (CompiledField | undefined)[];
  fields: CompiledField[];
  /** Fields that JSON writes even when the wire has no value for them, with what it writes. */
  defaults: CompiledField[];
  wrap: boolean;
  /**
   * The wire's order (by field number) is not the Go struct's, or an inline struct's keys are
   * merged in: values are gathered by position and the object is built in Go's order.
   */
  reorder: boolean;
  /** Makes this message's objects (see plainMaker). */
  make: () => Record<string, unknown>;
}

export interface DecodeOptions {
  dropManagedFields?: boolean;
}

/** The compiled table: message name → message, `apiVersion/kind` → message. */
export class ProtoTypes {
  private readonly messages = new Map<string, CompiledMessage>();

  /** Messages are compiled when first needed (a kind's and those it reaches), not all at once. */
  constructor(private readonly schema: ProtoSchema) {}

  get version(): string {
    return this.schema.version;
  }

  /** The message of `apiVersion/kind`, if the table has it. */
  kind(apiVersion: string, kind: string): CompiledMessage | undefined {
    const name = this.schema.kinds[`${apiVersion}/${kind}`];
    return name === undefined ? undefined : this.message(name);
  }

  message(name: string): CompiledMessage {
    const known = this.messages.get(name);
    if (known) return known;
    const raw = this.schema.messages[name];
    const def = typeof raw === 'string' ? (JSON.parse(raw) as Message) : raw;
    if (!def) throw new Error(`protobuf schema: no message ${name}`);
    const msg: CompiledMessage = { name, byNumber: [], fields: [], defaults: [], wrap: def.wrap === true, reorder: false, make: plainMaker() };
    this.messages.set(name, msg); // before the fields: messages may refer to themselves
    for (const [num, json, type, flags, ref] of def.fields) {
      const f: CompiledField = {
        idx: msg.fields.length, needsDefault: false, num, name: json, type: TYPE_CODES[type],
        repeated: (flags & F_REPEATED) !== 0, pointer: (flags & F_POINTER) !== 0,
        omitEmpty: (flags & F_OMITEMPTY) !== 0, omitEmptyValue: (flags & F_OMITEMPTY) !== 0 && TYPE_CODES[type] <= T.Double, omitZero: (flags & F_OMITZERO) !== 0, inline: (flags & F_INLINE) !== 0,
        managedFields: name === 'meta/v1.ObjectMeta' && json === 'managedFields',
      };
      if (type === 'm') f.msg = this.message(ref as string);
      if (type === 'map') {
        const [k, v, vm] = ref as MapRef;
        f.makeMap = plainMaker();
        f.keyType = TYPE_CODES[k];
        f.valueType = TYPE_CODES[v];
        if (vm !== undefined) f.valueMsg = this.message(vm);
      }
      if (CLAIM_TEMPLATES.test(name) && json === 'volumeClaimTemplates') f.typeMeta = { kind: 'PersistentVolumeClaim', apiVersion: 'v1' }; // TypeMeta's Go order
      f.needsDefault = needsDefault(f);
      const previous = msg.fields[msg.fields.length - 1];
      if (f.inline || (previous && previous.num > num)) msg.reorder = true;
      msg.fields.push(f);
      msg.byNumber[num] = f;
      if (f.needsDefault) msg.defaults.push(f);
    }
    return msg;
  }
}

/**
 * A maker of plain objects (prototype Object.prototype) of one kind of message: V8 sizes the
 * objects of one constructor by the properties they come to have, so they hold their fields
 * in the object itself, as JSON.parse's do, instead of in a separate property array.
 */
function plainMaker(): () => Record<string, unknown> {
  const Plain = function (this: object) {} as unknown as { new (): Record<string, unknown>; prototype: object };
  Plain.prototype = Object.prototype;
  return () => new Plain();
}

/** StatefulSet defaulting sets apiVersion and kind of its PersistentVolumeClaim templates. */
const CLAIM_TEMPLATES = /^apps\/v1(beta1|beta2)?\.StatefulSetSpec$/;

/** Whether JSON has a value for the field when the wire has none. */
function needsDefault(f: CompiledField): boolean {
  if (f.inline) return false; // built by build(), which merges an absent inline struct's defaults
  if (f.repeated || f.type === T.Map || f.type === T.Bytes || f.pointer) return !f.omitEmpty && !f.omitZero;
  // Structs (messages, times, quantities, embedded JSON…): omitempty never leaves them out.
  if (f.type > T.Double) return !f.omitZero;
  return !f.omitEmpty && !f.omitZero;
}

/** What JSON writes for a field the wire left out: null for lists, maps, bytes, pointers and times; else the zero value. */
function defaultValue(f: CompiledField, opts: DecodeOptions): unknown {
  if (f.repeated || f.type === T.Map || f.type === T.Bytes || f.pointer || (f.type === T.Message && f.msg!.wrap)) return null;
  return zeroValue(f.type, f.msg, opts);
}

/** The zero value of a type as JSON writes it (a map's value the wire left out, a struct field's default). */
function zeroValue(t: T, msg: CompiledMessage | undefined, opts: DecodeOptions): unknown {
  switch (t) {
    case T.String: case T.Bytes: return '';
    case T.Bool: return false;
    case T.Message: return msg!.wrap ? [] : build(msg!, [], opts);
    case T.Quantity: return '0';
    case T.Duration: return '0s';
    case T.Time: case T.MicroTime: case T.Raw: case T.FieldsV1: return null;
    default: return 0;
  }
}

/** Reads protobuf from `buf`: a cursor over one buffer. */
export class Reader {
  pos: number;

  constructor(readonly buf: Buffer, start = 0, public end = buf.length) {
    this.pos = start;
  }

  /** A varint as a number (exact up to 2^53; the upper bits of larger values, as JSON.parse would round them). */
  varint(): number {
    const buf = this.buf;
    let b = buf[this.pos++];
    if (b < 0x80) return b;
    let lo = b & 0x7f;
    b = buf[this.pos++];
    lo |= (b & 0x7f) << 7;
    if (b < 0x80) return lo;
    b = buf[this.pos++];
    lo |= (b & 0x7f) << 14;
    if (b < 0x80) return lo;
    b = buf[this.pos++];
    lo |= (b & 0x7f) << 21;
    if (b < 0x80) return lo;
    // Bits 28 and up.
    b = buf[this.pos++];
    lo = (lo | ((b & 0x0f) << 28)) >>> 0;
    let hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      let shift = 3;
      do {
        if (this.pos >= this.end) throw new ProtoDecodeError('a varint runs past its message');
        b = buf[this.pos++];
        if (shift < 32) hi |= (b & 0x7f) << shift;
        shift += 7;
      } while (b >= 0x80);
    }
    hi >>>= 0;
    if (this.pos > this.end) throw new ProtoDecodeError('a varint runs past its message');
    // A negative int64 (two's complement in 64 bits).
    if (hi & 0x80000000) return -((~hi >>> 0) * 4294967296 + ((~lo >>> 0) + 1));
    return hi * 4294967296 + lo;
  }

  /** The end of a length-delimited value that starts here, checked against the message's end. */
  lengthEnd(): number {
    const len = this.varint();
    const end = this.pos + len;
    if (end > this.end) throw new ProtoDecodeError('a field runs past its message');
    return end;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0: this.varint(); break;
      case 1: this.pos += 8; break;
      case 2: this.pos = this.lengthEnd(); break;
      case 5: this.pos += 4; break;
      default: throw new ProtoDecodeError(`wire type ${wireType} is not one Kubernetes uses`);
    }
    if (this.pos > this.end) throw new ProtoDecodeError('a field runs past its message');
  }
}

/** Stands in for the object of a message whose values are gathered by position (never written). */
const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** The type of an envelope (runtime.Unknown's typeMeta: apiVersion = 1, kind = 2) from `start` to `end`. */
export function readTypeMeta(buf: Buffer, start: number, end: number): { apiVersion: string; kind: string } {
  const r = new Reader(buf, start, end);
  const out = { apiVersion: '', kind: '' };
  while (r.pos < end) {
    const tag = r.varint();
    if ((tag & 7) !== 2) {
      r.skip(tag & 7);
      continue;
    }
    const e = r.lengthEnd();
    if (tag >>> 3 === 1) out.apiVersion = text(buf, r.pos, e);
    else if (tag >>> 3 === 2) out.kind = text(buf, r.pos, e);
    r.pos = e;
  }
  return out;
}

/**
 * Decodes one message from `r.pos` to `end`: an object, or for a list wrapper its array.
 * Keys come in the Go struct's order, as the API server's JSON has them.
 */
export function decodeMessage(r: Reader, end: number, msg: CompiledMessage, opts: DecodeOptions): Record<string, unknown> {
  // Values by Go position when the wire's order is not JSON's; else straight into the object.
  const slots: unknown[] | undefined = msg.reorder ? new Array(msg.fields.length) : undefined;
  const obj = slots ? EMPTY : msg.make();
  const saved = r.end;
  r.end = end;
  const byNumber = msg.byNumber;
  while (r.pos < end) {
    const tag = r.varint();
    const num = tag >>> 3;
    const wt = tag & 7;
    const f = byNumber[num];
    if (f === undefined || (f.managedFields && opts.dropManagedFields)) {
      r.skip(wt);
      continue;
    }
    if (f.repeated) {
      let list = (slots ? slots[f.idx] : obj[f.name]) as unknown[] | undefined;
      if (list === undefined) {
        list = [];
        if (slots) slots[f.idx] = list;
        else obj[f.name] = list;
      }
      if (wt === 2 && isPackable(f.type)) {
        // A packed list of numbers: one length, then the values.
        const e = r.lengthEnd();
        while (r.pos < e) list.push(readScalar(r, f.type, scalarWireType(f.type)));
      } else {
        const v = readValue(r, wt, f.type, f.msg, opts);
        list.push(f.typeMeta ? { ...f.typeMeta, ...(v as object) } : v);
      }
      continue;
    }
    if (f.type === T.Map) {
      let map = (slots ? slots[f.idx] : obj[f.name]) as Record<string, unknown> | undefined;
      if (map === undefined) {
        map = f.makeMap!();
        if (slots) slots[f.idx] = map;
        else obj[f.name] = map;
      }
      readEntry(r, f, map, opts);
      continue;
    }
    const v = readValue(r, wt, f.type, f.msg, opts);
    if (!f.pointer && !f.inline && ((f.omitEmptyValue && isEmpty(v)) || (f.omitZero && isZero(f, v)))) continue;
    if (slots) slots[f.idx] = v;
    else obj[f.name] = v;
  }
  r.end = saved;
  if (r.pos !== end) throw new ProtoDecodeError('a message runs past its length');
  if (slots) return build(msg, slots, opts);
  // In order already; a field that JSON writes when the wire has none means building it again.
  for (const f of msg.defaults) {
    if (obj[f.name] === undefined && !(f.managedFields && opts.dropManagedFields)) return build(msg, msg.fields.map((g) => obj[g.name]), opts);
  }
  return msg.wrap ? (obj.items ?? null) as Record<string, unknown> : obj;
}

/** The object of `msg` from its values by Go position: keys in Go's order, inline structs merged in, defaults where JSON writes them. */
function build(msg: CompiledMessage, slots: unknown[], opts: DecodeOptions): Record<string, unknown> {
  const out = msg.make();
  for (const f of msg.fields) {
    const v = slots[f.idx];
    if (f.inline) {
      Object.assign(out, v ?? build(f.msg!, [], opts));
    } else if (v !== undefined) {
      out[f.name] = v;
    } else if (f.needsDefault && !(f.managedFields && opts.dropManagedFields)) {
      out[f.name] = defaultValue(f, opts);
    }
  }
  return msg.wrap ? (out.items ?? null) as Record<string, unknown> : out;
}

/** Empty as Go's encoding/json `omitempty` sees it (structs are never empty). */
function isEmpty(v: unknown): boolean {
  return v === '' || v === 0 || v === false || v === null;
}

/** Zero as `omitzero` sees it: times that are unset, and zero scalars. */
function isZero(f: CompiledField, v: unknown): boolean {
  if (f.type === T.Message) return v !== null && typeof v === 'object' && Object.keys(v).length === 0;
  if (f.type === T.Quantity) return v === '0';
  if (f.type === T.Duration) return v === '0s';
  return isEmpty(v);
}

function isPackable(t: T): boolean {
  return t === T.Bool || t === T.Int32 || t === T.Int64 || t === T.Uint32 || t === T.Uint64 || t === T.Float || t === T.Double;
}

function scalarWireType(t: T): number {
  return t === T.Double ? 1 : t === T.Float ? 5 : 0;
}

function readScalar(r: Reader, t: T, wt: number): number | boolean {
  if (wt === 1) {
    const v = r.buf.readDoubleLE(r.pos);
    r.pos += 8;
    return v;
  }
  if (wt === 5) {
    const v = r.buf.readFloatLE(r.pos);
    r.pos += 4;
    return v;
  }
  const v = r.varint();
  switch (t) {
    case T.Bool: return v !== 0;
    case T.Int32: return v | 0;
    case T.Uint32: return v >>> 0;
    default: return v;
  }
}

/** One value of a field of type `t` whose wire type is `wt`. */
function readValue(r: Reader, wt: number, t: T, msg: CompiledMessage | undefined, opts: DecodeOptions): unknown {
  if (wt !== 2) {
    if (t <= T.Bytes || t >= T.Message) throw new ProtoDecodeError(`wire type ${wt} for a length-delimited field`);
    return readScalar(r, t, wt);
  }
  const end = r.lengthEnd();
  const buf = r.buf;
  const start = r.pos;
  switch (t) {
    case T.String:
      r.pos = end;
      return text(buf, start, end);
    case T.Bytes:
      r.pos = end;
      return (buf as unknown as Slicers).base64Slice(start, end);
    case T.Message:
      return decodeMessage(r, end, msg!, opts);
    case T.Time:
      return readTime(r, end, false);
    case T.MicroTime:
      return readTime(r, end, true);
    case T.Duration:
      return goDuration(readSingle(r, end, 1) as number ?? 0);
    case T.Quantity:
      return (readSingle(r, end, 1, true) as string | undefined) ?? '0';
    case T.IntOrString:
      return readIntOrString(r, end);
    case T.Raw:
    case T.FieldsV1:
      return readRaw(r, end);
    default:
      throw new ProtoDecodeError('a number field is length-delimited but not packed');
  }
}

function readEntry(r: Reader, f: CompiledField, map: Record<string, unknown>, opts: DecodeOptions): void {
  const end = r.lengthEnd();
  const saved = r.end;
  r.end = end;
  let key: unknown = f.keyType === T.String ? '' : 0;
  let value: unknown;
  while (r.pos < end) {
    const tag = r.varint();
    const wt = tag & 7;
    if (tag >>> 3 === 1) key = readValue(r, wt, f.keyType!, undefined, opts);
    else if (tag >>> 3 === 2) value = readValue(r, wt, f.valueType!, f.valueMsg, opts);
    else r.skip(wt);
  }
  r.end = saved;
  // Go decodes a map's list value as an empty list, not nil.
  if (value === null && f.valueMsg?.wrap) value = [];
  map[String(key)] = value === undefined ? zeroValue(f.valueType!, f.valueMsg, opts) : value;
}

/** Field `num` of a small message (a number, or text with `asText`); undefined when absent. */
function readSingle(r: Reader, end: number, num: number, asText = false): number | string | undefined {
  let out: number | string | undefined;
  while (r.pos < end) {
    const tag = r.varint();
    const wt = tag & 7;
    if (tag >>> 3 === num && (asText ? wt === 2 : wt === 0)) {
      if (asText) {
        const e = r.lengthEnd();
        out = text(r.buf, r.pos, e);
        r.pos = e;
      } else {
        out = r.varint();
      }
    } else {
      r.skip(wt);
    }
  }
  return out;
}

function readIntOrString(r: Reader, end: number): number | string {
  let type = 0;
  let intVal = 0;
  let strVal = '';
  while (r.pos < end) {
    const tag = r.varint();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1: type = r.varint(); break;
      case 2: intVal = r.varint() | 0; break;
      case 3: {
        const e = r.lengthEnd();
        strVal = text(r.buf, r.pos, e);
        r.pos = e;
        break;
      }
      default: r.skip(wt);
    }
  }
  return type === 1 ? strVal : intVal;
}

function readRaw(r: Reader, end: number): unknown {
  let raw: unknown = null;
  while (r.pos < end) {
    const tag = r.varint();
    const wt = tag & 7;
    if (tag >>> 3 === 1 && wt === 2) {
      const e = r.lengthEnd();
      if (e > r.pos) {
        try {
          raw = JSON.parse(r.buf.toString('utf8', r.pos, e));
        } catch {
          throw new ProtoDecodeError('an embedded object is not JSON');
        }
      }
      r.pos = e;
    } else {
      r.skip(wt);
    }
  }
  return raw;
}

/** The last second formatted: objects listed together mostly share their timestamps. */
let lastSeconds = NaN;
let lastText = '';

function readTime(r: Reader, end: number, micro: boolean): string | null {
  // An unset time is an empty message.
  if (r.pos === end) return null;
  let seconds = 0;
  let nanos = 0;
  while (r.pos < end) {
    const tag = r.varint();
    const wt = tag & 7;
    if (tag >>> 3 === 1 && wt === 0) seconds = r.varint();
    else if (tag >>> 3 === 2 && wt === 0) nanos = r.varint() | 0;
    else r.skip(wt);
  }
  if (!micro) {
    if (seconds === lastSeconds) return lastText;
    lastSeconds = seconds;
    lastText = formatSeconds(seconds);
    return lastText;
  }
  const base = formatSeconds(seconds);
  return `${base.slice(0, -1)}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

/** RFC 3339 in UTC to the second, as Go's time.RFC3339 writes it. */
function formatSeconds(seconds: number): string {
  const iso = new Date(seconds * 1000).toISOString();
  return `${iso.slice(0, 19)}Z`;
}

/** Buffer's own slicers, without toString's argument checks (each string of an object is one call). */
interface Slicers {
  utf8Slice(start: number, end: number): string;
  base64Slice(start: number, end: number): string;
}

/** Text from UTF-8 bytes (a flat string, as JSON.parse makes). */
function text(buf: Buffer, start: number, end: number): string {
  return start === end ? '' : (buf as unknown as Slicers).utf8Slice(start, end);
}

const UNITS: [number, string][] = [[3_600_000_000_000, 'h'], [60_000_000_000, 'm']];

/** A duration in nanoseconds as Go's time.Duration.String writes it: `1h2m3.5s`, `150ms`, `0s`. */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let n = Math.abs(ns);
  let out: string;
  if (n < 1_000_000_000) {
    // Below a second: one unit, ns, µs or ms, with a fraction.
    const [div, unit] = n < 1_000 ? [1, 'ns'] : n < 1_000_000 ? [1_000, 'µs'] : [1_000_000, 'ms'];
    out = `${fraction(n, div)}${unit}`;
  } else {
    out = '';
    for (const [div, unit] of UNITS) {
      if (n >= div || out !== '') {
        out += `${Math.floor(n / div)}${unit}`;
        n %= div;
      }
    }
    out += `${fraction(n, 1_000_000_000)}s`;
  }
  return neg ? `-${out}` : out;
}

/** `n / div` with the fraction's trailing zeros left out. */
function fraction(n: number, div: number): string {
  const whole = Math.floor(n / div);
  const rest = n % div;
  if (rest === 0) return String(whole);
  const digits = String(div).length - 1;
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`;
}
