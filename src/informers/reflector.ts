/** reflect: applies watcher events to a store through its Writer and passes on what changed. */
import type { KubeObject } from '../core/index.js';
import type { StoreChange, Writer } from './store.js';
import type { WatcherEvent } from './watcher.js';

/** What a reflector yields: store changes, list completions, and the watcher's own notices. */
export type ReflectorEvent<T extends KubeObject = KubeObject> =
  | StoreChange<T>
  | { type: 'listed'; resourceVersion: string; objects: number }
  | { type: 'watchStarted'; resourceVersion: string }
  | { type: 'error'; error: Error };

/**
 * Writes each event to `writer` and yields the resulting changes. A (re)list is
 * buffered from Init to InitDone (each object transformed as it arrives) and swapped
 * in at once, so readers never see a half-listed cache, and handlers see only real differences (including deletes
 * that were missed while disconnected).
 */
export async function* reflect<T extends KubeObject>(
  writer: Writer<T>,
  events: AsyncIterable<WatcherEvent<T>>,
): AsyncGenerator<ReflectorEvent<T>> {
  let buffer: T[] = [];
  for await (const ev of events) {
    switch (ev.type) {
      case 'Init':
        buffer = [];
        break;
      case 'InitApply':
        buffer.push(writer.stage(ev.object));
        break;
      case 'InitDone': {
        const objects = buffer.length;
        const changes = writer.replace(buffer, ev.resourceVersion);
        buffer = [];
        yield* changes;
        yield { type: 'listed', resourceVersion: ev.resourceVersion, objects };
        break;
      }
      case 'Apply': {
        const change = writer.apply(ev.object);
        if (change) yield change;
        break;
      }
      case 'Delete': {
        const change = writer.delete(ev.object);
        if (change) yield change;
        break;
      }
      case 'Bookmark':
        writer.setResourceVersion(ev.resourceVersion);
        break;
      case 'WatchStarted':
        yield { type: 'watchStarted', resourceVersion: ev.resourceVersion };
        break;
      case 'Error':
        yield { type: 'error', error: ev.error };
        break;
    }
  }
}
