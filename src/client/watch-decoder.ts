/** decodeWatch: turns the chunked JSON stream of a watch into WatchEvents, one per line; a malformed line is an error. */
import type { KubeObject } from '../core/index.js';
import { type RequestContext, WatchDecodeError } from './errors.js';
import { cutManagedFields } from './managed-fields.js';
import type { WatchEvent, WatchEventType } from './types.js';

const NEWLINE = 0x0a;
/** Where an event's object keeps its metadata. */
const WATCH_METADATA = ['object', 'metadata'];
const TYPES = new Set<WatchEventType>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/** Parses one line of a watch stream. Never includes the line itself in an error (it may hold secret data). */
export function parseWatchLine(line: string, ctx: RequestContext, index: number): WatchEvent {
  let doc: { type?: unknown; object?: unknown };
  try {
    doc = JSON.parse(line) as typeof doc;
  } catch (err) {
    throw new WatchDecodeError(ctx, `event ${index} (${line.length} bytes) is not JSON: ${(err as Error).message}`, err);
  }
  if (!doc || typeof doc !== 'object') throw new WatchDecodeError(ctx, `event ${index} is not a JSON object`);
  if (!TYPES.has(doc.type as WatchEventType)) {
    throw new WatchDecodeError(ctx, `event ${index} has type ${JSON.stringify(doc.type)?.slice(0, 40)}, not one of ADDED, MODIFIED, DELETED, BOOKMARK, ERROR`);
  }
  if (!doc.object || typeof doc.object !== 'object' || Array.isArray(doc.object)) {
    throw new WatchDecodeError(ctx, `event ${index} (${String(doc.type)}) has no object`);
  }
  return { type: doc.type as WatchEventType, object: doc.object as KubeObject };
}

/**
 * Yields the events of `body` in order. A truncated last line is malformed, hence an error. Lines are cut on the
 * newline byte (never part of a multi-byte UTF-8 character) and decoded one by one: the
 * server sends one event per chunk, so a line is usually its chunk, decoded without copying.
 * With `dropManagedFields`, each object's managedFields are cut out of its line before it is parsed.
 */
export async function* decodeWatch(body: AsyncIterable<Uint8Array>, ctx: RequestContext, options: { dropManagedFields?: boolean } = {}): AsyncGenerator<WatchEvent> {
  const drop = options.dropManagedFields === true;
  let rest: Buffer | undefined; // the start of a line whose end has not arrived
  let index = 0;
  for await (const chunk of body) {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (rest) {
      buf = Buffer.concat([rest, buf]);
      rest = undefined;
    }
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf(NEWLINE, start)) >= 0) {
      const line = buf.toString('utf8', start, drop ? cutManagedFields(buf, start, nl, WATCH_METADATA) : nl).trim();
      start = nl + 1;
      if (line) yield parseWatchLine(line, ctx, ++index);
    }
    if (start < buf.length) rest = Buffer.from(buf.subarray(start));
  }
  const last = rest?.toString('utf8', 0, drop ? cutManagedFields(rest, 0, rest.length, WATCH_METADATA) : rest.length).trim();
  if (last) yield parseWatchLine(last, ctx, index + 1);
}
