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
  options: ReflectOptions = {},
): AsyncGenerator<ReflectorEvent<T>[]> {
  const listing: T[] = [];
  const staged = options.listedStaged === true;
  for await (const batch of batches) {
    const out: ReflectorEvent<T>[] = [];
    for (const ev of batch) reflectOne(writer, ev, listing, out, staged);
    if (out.length > 0) yield out;
  }
}

export interface ReflectOptions {
  /** Listed objects (InitApply) come staged already (the watcher's `onListItem` is the writer's `stage`). Default false: staged here. */
  listedStaged?: boolean;
}

/** Applies one event: buffers a listing in `listing`, swaps it in at its end, applies watch changes; pushes what changed to `out`. */
function reflectOne<T extends KubeObject>(writer: Writer<T>, ev: WatcherEvent<T>, listing: T[], out: ReflectorEvent<T>[], staged: boolean): void {
  switch (ev.type) {
    case 'Init':
      listing.length = 0;
      return;
    case 'InitApply':
      listing.push(staged ? ev.object : writer.stage(ev.object));
      return;
    case 'InitDone': {
      const objects = listing.length;
      for (const c of writer.replace(listing.splice(0), ev.resourceVersion, true)) out.push(c);
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
