/** decodeWatch: turns the chunked JSON stream of a watch into WatchEvents, one per line; a malformed line is an error. */
import type { KubeObject } from '../core/index.js';
import { type RequestContext, WatchDecodeError } from './errors.js';
import type { WatchEvent, WatchEventType } from './types.js';

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
 * Yields the events of `body` in order. `onData` is called for every chunk (the
 * idle timer). A truncated last line is malformed, hence an error.
 */
export async function* decodeWatch(body: AsyncIterable<Uint8Array>, ctx: RequestContext, onData: () => void = () => undefined): AsyncGenerator<WatchEvent> {
  const decoder = new TextDecoder();
  let buffered = '';
  let index = 0;
  for await (const chunk of body) {
    onData();
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line) yield parseWatchLine(line, ctx, ++index);
    }
  }
  buffered += decoder.decode();
  if (buffered.trim()) yield parseWatchLine(buffered.trim(), ctx, index + 1);
}
