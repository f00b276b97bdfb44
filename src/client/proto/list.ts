/**
 * ProtoListDecoder: decodes a list's protobuf answer as it streams in, as ListDecoder does
 * for JSON. The answer is `k8s\0` and a runtime.Unknown: its type (apiVersion, kind), then
 * `raw`, the list message: its metadata (ListMeta), then each item as one length-delimited
 * field. Each item is decoded as soon as its last byte arrives; the metadata, which the API
 * server writes first, is reported early so that a pager can ask for the next page.
 */
import type { KubeList, KubeObject } from '../../core/index.js';
import { ListDecodeError } from '../list-decoder.js';
import { decodeMessage, ProtoDecodeError, readTypeMeta, Reader, type CompiledMessage, type ProtoTypes } from './decode.js';

/** The four bytes before every protobuf object the API server sends. */
export const PROTO_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
export const PROTO_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

const EMPTY = Buffer.alloc(0);

/** Where the scanner is. */
const enum At { Magic, Envelope, List }

export class ProtoListDecoder<T extends KubeObject = KubeObject> {
  private at = At.Magic;
  /** The start of a field whose tag or length has not all arrived. */
  private pending: Buffer = EMPTY;
  /** Chunks gathered for a field of known length (`need` bytes from the start of pending). */
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private need = 0;
  /** Bytes of the list message (runtime.Unknown's `raw`) not yet consumed. */
  private listLeft = 0;
  private sawList = false;
  private apiVersion = '';
  private kind = '';
  private list?: CompiledMessage;
  private itemsField = 0;
  private metadataField = 0;
  private metadata?: KubeList['metadata'];
  private readonly items: T[] = [];

  constructor(
    private readonly types: ProtoTypes,
    private readonly onMetadata?: (metadata: KubeList['metadata']) => void,
    private readonly onItem?: (item: T) => T,
    private readonly options: { dropManagedFields?: boolean } = {},
  ) {}

  write(chunk: Uint8Array): void {
    let c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    try {
      if (this.need > 0) {
        // A field that began in an earlier chunk: gather what it lacks, join it once, decode it;
        // the rest of this chunk is scanned where it lies (no chunk is copied whole).
        const missing = this.need - this.gatheredBytes;
        if (c.length < missing) {
          this.gathered.push(c);
          this.gatheredBytes += c.length;
          return;
        }
        this.gathered.push(c.subarray(0, missing));
        const field = Buffer.concat(this.gathered, this.need);
        this.gathered = [];
        this.gatheredBytes = 0;
        this.need = 0;
        this.scan(field);
        c = c.subarray(missing);
      } else if (this.pending.length > 0) {
        // A few bytes of a field's head (its tag or length) from the last chunk.
        c = Buffer.concat([this.pending, c]);
        this.pending = EMPTY;
      }
      this.scan(c);
    } catch (err) {
      if (err instanceof ProtoDecodeError || err instanceof RangeError) throw new ListDecodeError(`the protobuf list is malformed: ${err.message}`);
      throw err;
    }
  }

  end(): KubeList<T> {
    const whole = this.sawList && this.listLeft === 0 && this.at !== At.Magic;
    if (this.need > 0 || this.pending.length > 0 || !whole) throw new ListDecodeError('the list ended early');
    const metadata = this.metadata ?? {};
    if (!this.metadata) this.onMetadata?.(metadata);
    return { apiVersion: this.apiVersion, kind: this.kind, metadata, items: this.items } as KubeList<T>;
  }

  /** Consumes every whole field in `buf`; keeps the start of an unfinished one for the next chunk. */
  private scan(buf: Buffer): void {
    let pos = 0;
    for (;;) {
      if (this.at === At.Magic) {
        if (buf.length - pos < 4) break;
        if (!buf.subarray(pos, pos + 4).equals(PROTO_MAGIC)) throw new ListDecodeError('the answer is not a Kubernetes protobuf object');
        pos += 4;
        this.at = At.Envelope;
        continue;
      }
      if (this.at === At.List && this.listLeft === 0) this.at = At.Envelope;
      if (pos === buf.length) break;
      // A field: its tag, and for length-delimited fields the length.
      const head = readHead(buf, pos);
      if (!head) break; // the tag or length goes on in the next chunk
      const { num, wireType, length, valueStart } = head;
      if (this.at === At.Envelope && num === 2 && wireType === 2) {
        // runtime.Unknown's raw: the list itself, scanned field by field.
        if (!this.list) throw new ListDecodeError('the answer names no kind before its content');
        this.listLeft = length;
        this.sawList = true;
        this.at = At.List;
        pos = valueStart;
        continue;
      }
      if (wireType !== 2) {
        // A number: whole once its varint (or its 8 or 4 bytes) is here.
        let next: number;
        if (wireType === 0) {
          const v = varintAt(buf, valueStart);
          if (!v) break;
          next = v.next;
        } else if (wireType === 1 || wireType === 5) {
          next = valueStart + (wireType === 1 ? 8 : 4);
          if (next > buf.length) break;
        } else {
          throw new ListDecodeError(`the protobuf list is malformed: wire type ${wireType}`);
        }
        this.consumed(next - pos);
        pos = next;
        continue;
      }
      const end = valueStart + length;
      if (end > buf.length) {
        // Wait for the rest of this field; a long one is gathered chunk by chunk.
        const rest = buf.subarray(pos);
        this.gathered = [Buffer.from(rest)];
        this.gatheredBytes = rest.length;
        this.need = end - pos;
        return;
      }
      if (this.at === At.Envelope) this.envelopeField(num, buf, valueStart, end);
      else this.listField(num, buf, valueStart, end);
      this.consumed(end - pos);
      pos = end;
    }
    this.pending = pos === buf.length ? EMPTY : Buffer.from(buf.subarray(pos));
  }

  /** Counts bytes of the list message as they are consumed. */
  private consumed(n: number): void {
    if (this.at !== At.List) return;
    this.listLeft -= n;
    if (this.listLeft < 0) throw new ListDecodeError('a list item runs past the list');
  }

  private envelopeField(num: number, buf: Buffer, start: number, end: number): void {
    if (num !== 1) return; // contentEncoding, contentType: empty for objects the API server encodes
    ({ apiVersion: this.apiVersion, kind: this.kind } = readTypeMeta(buf, start, end));
    const list = this.types.kind(this.apiVersion, this.kind);
    if (!list) throw new ListDecodeError(`the answer is a ${this.apiVersion} ${this.kind}, which this client cannot decode from protobuf`);
    this.list = list;
    this.itemsField = list.fields.find((f) => f.name === 'items')?.num ?? 0;
    this.metadataField = list.fields.find((f) => f.name === 'metadata')?.num ?? 0;
  }

  private listField(num: number, buf: Buffer, start: number, end: number): void {
    const opts = this.options;
    if (num === this.itemsField) {
      const f = this.list!.byNumber[num]!;
      const item = decodeMessage(new Reader(buf, start, end), end, f.msg!, opts) as unknown as T;
      this.items.push(this.onItem ? this.onItem(item) : item);
    } else if (num === this.metadataField) {
      const f = this.list!.byNumber[num]!;
      this.metadata = decodeMessage(new Reader(buf, start, end), end, f.msg!, opts) as KubeList['metadata'];
      this.onMetadata?.(this.metadata);
    }
  }
}

/** A field's tag and, for length-delimited fields, its length; undefined when they are not all here yet. */
function readHead(buf: Buffer, pos: number): { num: number; wireType: number; length: number; valueStart: number } | undefined {
  const tag = varintAt(buf, pos);
  if (!tag) return undefined;
  const wireType = tag.value & 7;
  if (wireType !== 2) return { num: tag.value >>> 3, wireType, length: 0, valueStart: tag.next };
  const len = varintAt(buf, tag.next);
  if (!len) return undefined;
  return { num: tag.value >>> 3, wireType, length: len.value, valueStart: len.next };
}

/** A varint at `pos` (tags and lengths: below 2^35), or undefined when it goes on past the buffer. */
function varintAt(buf: Buffer, pos: number): { value: number; next: number } | undefined {
  let value = 0;
  let mul = 1;
  for (let i = pos; i < buf.length && i < pos + 10; i++) {
    const b = buf[i];
    value += (b & 0x7f) * mul;
    if (b < 0x80) return { value, next: i + 1 };
    mul *= 128;
  }
  if (buf.length - pos >= 10) throw new ListDecodeError('the protobuf list is malformed: a varint is too long');
  return undefined;
}
