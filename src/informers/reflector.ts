/** reflect: applies watcher events to a store through its Writer and passes on what changed. */
import type { KubeObject } from '../core/index.js';
import type { StoreChange, Writer } from './store.js';
import type { WatcherEvent } from './watcher.js';

/** What a reflector yields: store changes, list completions, and the watcher's own notices. */
export type ReflectorEvent<T extends KubeObject = KubeObject> =
  | StoreChange<T>
  | { type: 'listed'; resourceVersion: string; objects: number; streamed: boolean }
  | { type: 'watchStarted'; resourceVersion: string }
  | { type: 'error'; error: Error };

/**
 * Writes each batch of events to `writer` and yields the resulting changes, a batch for
 * each batch (empty ones left out). A (re)list is
 * buffered from Init to InitDone (each object transformed as it arrives) and swapped
 * in at once, so readers never see a half-listed cache, and handlers see only real differences (including deletes
 * that were missed while disconnected).
 */
export async function* reflect<T extends KubeObject>(
  writer: Writer<T>,
  batches: AsyncIterable<WatcherEvent<T>[]>,
): AsyncGenerator<ReflectorEvent<T>[]> {
  const listing: T[] = [];
  for await (const batch of batches) {
    const out: ReflectorEvent<T>[] = [];
    for (const ev of batch) reflectOne(writer, ev, listing, out);
    if (out.length > 0) yield out;
  }
}

/** Applies one event: buffers a listing in `listing`, swaps it in at its end, applies watch changes; pushes what changed to `out`. */
function reflectOne<T extends KubeObject>(writer: Writer<T>, ev: WatcherEvent<T>, listing: T[], out: ReflectorEvent<T>[]): void {
  switch (ev.type) {
    case 'Init':
      listing.length = 0;
      return;
    case 'InitApply':
      listing.push(writer.stage(ev.object));
      return;
    case 'InitDone': {
      const objects = listing.length;
      for (const c of writer.replace(listing.splice(0), ev.resourceVersion)) out.push(c);
      out.push({ type: 'listed', resourceVersion: ev.resourceVersion, objects, streamed: !!ev.streamed });
      return;
    }
    case 'Apply': {
      const change = writer.apply(ev.object);
      if (change) out.push(change);
      return;
    }
    case 'Delete': {
      const change = writer.delete(ev.object);
      if (change) out.push(change);
      return;
    }
    case 'Bookmark':
      writer.setResourceVersion(ev.resourceVersion);
      return;
    case 'WatchStarted':
      out.push({ type: 'watchStarted', resourceVersion: ev.resourceVersion });
      return;
    case 'Error':
      out.push({ type: 'error', error: ev.error });
  }
}
