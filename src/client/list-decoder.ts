/**
 * ListDecoder: decodes a list's JSON answer as it streams in. Each element of the
 * top-level `items` array is parsed as soon as its last byte arrives, so a large list is
 * never held as one text (a 100,000-object list is ~130 MB of JSON) and decoding overlaps
 * the transfer. Everything outside `items` (kind, apiVersion, metadata) is kept as text
 * and parsed at the end; when it comes before the items, as the API server writes it,
 * the metadata is also reported early (`onMetadata`), which lets a pager ask for the next
 * page while this one streams.
 *
 * The scanner works on bytes: in UTF-8 every byte of a multi-byte character is ≥ 0x80,
 * so the ASCII structure characters are found without decoding; string contents are
 * skipped with `indexOf` (native), which is where most of a Kubernetes object's bytes are.
 */
import { ReflexError, type KubeList, type KubeObject } from '../core/index.js';
import { cutManagedFields } from './managed-fields.js';
import { QUOTE, BACKSLASH, OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY } from './json-bytes.js';


/** Where the scanner is: before `items`, inside it, or after it. */
type Phase = 'head' | 'items' | 'tail';

/** Where a list item keeps its metadata. */
const ITEM_METADATA = ['metadata'];
const ITEMS_KEY_AT_END = /"items"\s*:\s*$/;
const ITEMS_MEMBER_AT_END = /,?\s*"items"\s*:\s*$/;

/** A list's answer is not a well-formed list. The message never quotes the answer (a list of Secrets holds their data). */
export class ListDecodeError extends ReflexError {
  constructor(message: string) {
    super(message, { code: 'ERR_LIST_DECODE' });
  }
}

export class ListDecoder<T extends KubeObject = KubeObject> {
  private phase: Phase = 'head';
  /** Nesting depth: 1 inside the list object, 2 inside `items`, 3+ inside an item. */
  private depth = 0;
  private inString = false;
  /** The previous chunk ended on a backslash inside a string: the next byte is escaped. */
  private escaped = false;
  /** Bytes outside `items` (the head, then `[]`, then the tail), decoded at the end. */
  private outside: Buffer[] = [];
  /** Whether `onMetadata` has been called. */
  private reported = false;
  /** Bytes of the current item from earlier chunks. */
  private partial: Buffer[] = [];
  private inItem = false;
  private readonly items: T[] = [];

  /**
   * `onMetadata` is called once: as soon as metadata written before `items` is complete, else
   * by `end`; `onItem` maps each item as it is decoded (the list keeps what it returns).
   */
  constructor(
    private readonly onMetadata?: (metadata: KubeList['metadata']) => void,
    private readonly onItem?: (item: T) => T,
    /** `dropManagedFields`: each item's managedFields are cut out of its bytes before it is parsed. */
    private readonly options: { dropManagedFields?: boolean } = {},
  ) {}

  /** Feeds the next chunk of the body. Throws ListDecodeError on malformed input. */
  write(chunk: Uint8Array): void {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const len = buf.length;
    let i = 0;
    // Where the current run of bytes that belongs to `outside` (or to an item) began.
    let runStart = 0;
    let nextBackslash = -2;
    if (this.escaped) {
      this.escaped = false;
      i = 1;
    }
    while (i < len) {
      if (this.inString) {
        const q = buf.indexOf(QUOTE, i);
        const end = q === -1 ? len : q;
        if (nextBackslash < i && nextBackslash !== -1) nextBackslash = buf.indexOf(BACKSLASH, i);
        if (nextBackslash !== -1 && nextBackslash < end) {
          // An escape: skip the backslash and the byte it escapes (maybe in the next chunk).
          i = nextBackslash + 2;
          if (i > len) this.escaped = true;
          continue;
        }
        if (q === -1) break; // the string goes on in the next chunk
        this.inString = false;
        i = q + 1;
        continue;
      }
      const c = buf[i];
      if (c === QUOTE) {
        if (this.phase === 'items' && this.depth === 2) throw new ListDecodeError('a list item is not an object');
        this.inString = true;
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
        this.depth++;
        if (this.phase === 'head' && this.depth === 2 && c === OPEN_ARRAY) {
          const head = Buffer.concat([...this.outside, buf.subarray(runStart, i)]).toString('utf8');
          if (ITEMS_KEY_AT_END.test(head)) {
            this.outside = [Buffer.from(`${head}[`)];
            this.phase = 'items';
            runStart = i + 1;
            this.reportEarly(head);
          }
        } else if (this.phase === 'items' && this.depth === 3) {
          if (c !== OPEN_OBJECT) throw new ListDecodeError('a list item is not an object');
          this.inItem = true;
          runStart = i;
        }
      } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        this.depth--;
        if (this.depth < 0) throw new ListDecodeError('unbalanced brackets');
        if (this.phase === 'items') {
          if (this.depth === 2 && this.inItem) {
            this.finishItem(buf, runStart, i + 1);
            runStart = i + 1;
          } else if (this.depth === 1) {
            this.outside.push(Buffer.from(']'));
            this.phase = 'tail';
            runStart = i + 1;
          }
        }
      } else if (this.phase === 'items' && this.depth === 2 && !this.inItem) {
        // Between items: commas and whitespace only.
        if (c !== 0x2c && c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) throw new ListDecodeError('a list item is not an object');
        runStart = i + 1;
      }
      i++;
    }
    if (this.phase === 'items') {
      if (this.inItem && runStart < len) this.partial.push(Buffer.from(buf.subarray(runStart, len)));
    } else if (runStart < len) {
      this.outside.push(Buffer.from(buf.subarray(runStart, len)));
    }
  }

  /** Ends the body: the whole list, items in order. Throws ListDecodeError when it is incomplete or not a list. */
  end(): KubeList<T> {
    if (this.depth !== 0 || this.inString || this.phase === 'items') throw new ListDecodeError('the list ended early');
    let list: unknown;
    try {
      list = JSON.parse(Buffer.concat(this.outside).toString('utf8'));
    } catch {
      // JSON.parse's message quotes the text, which may be a Secret's: never passed on.
      throw new ListDecodeError('the list is not JSON');
    }
    if (!list || typeof list !== 'object' || Array.isArray(list)) throw new ListDecodeError('the answer is not a JSON object');
    const out = list as KubeList<T>;
    if (this.phase === 'tail') out.items = this.items;
    if (!this.reported) this.onMetadata?.(out.metadata ?? {});
    return out;
  }

  private finishItem(buf: Buffer, start: number, end: number): void {
    let bytes = buf;
    if (this.partial.length > 0) {
      this.partial.push(buf.subarray(start, end));
      bytes = Buffer.concat(this.partial);
      this.partial = [];
      start = 0;
      end = bytes.length;
    }
    // The scanner is past this item: its bytes may be rewritten in place.
    if (this.options.dropManagedFields) end = cutManagedFields(bytes, start, end, ITEM_METADATA);
    const text = bytes.toString('utf8', start, end);
    this.inItem = false;
    let item: T;
    try {
      item = JSON.parse(text) as T;
    } catch {
      throw new ListDecodeError(`list item ${this.items.length} (${text.length} characters) is not JSON`);
    }
    this.items.push(this.onItem ? this.onItem(item) : item);
  }

  private reportEarly(head: string): void {
    if (!this.onMetadata) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(`${head.replace(ITEMS_MEMBER_AT_END, '')}}`);
    } catch {
      return; // reported at the end instead
    }
    const metadata = (parsed as { metadata?: unknown }).metadata;
    if (metadata && typeof metadata === 'object' && !Array.isArray(metadata)) {
      this.reported = true;
      this.onMetadata(metadata as KubeList['metadata']);
    }
  }

}
