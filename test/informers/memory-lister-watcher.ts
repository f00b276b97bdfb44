/**
 * MemoryListerWatcher: an in-memory resource with resourceVersions, paginated lists,
 * watch history, compaction (410) and fault switches, for unit tests of informers.
 */
import type { KubeList, KubeObject } from '../../src/core/index.js';
import { KubeApiError, type WatchEvent } from '../../src/client/index.js';
import type { ListPageOptions, ListerWatcher, WatchFromOptions } from '../../src/informers/index.js';

interface Stream {
  queue: WatchEvent[];
  wake?: () => void;
  closed: boolean;
  /** Ends once its queue is delivered (a cut stream), instead of at once when closed. */
  endWhenEmpty?: boolean;
}

export function cm(namespace: string, name: string, data: Record<string, string> = {}, labels?: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name, labels }, data };
}

export class MemoryListerWatcher implements ListerWatcher {
  readonly description = 'v1 ConfigMap (memory)';
  readonly apiVersion = 'v1';
  readonly kind = 'ConfigMap';
  rv = 100;
  compactedRv = 0;
  readonly objects = new Map<string, KubeObject>();
  readonly history: Array<{ rv: number; event: WatchEvent }> = [];
  readonly listCalls: ListPageOptions[] = [];
  readonly watchCalls: WatchFromOptions[] = [];
  /** Errors the next list calls throw, in order. */
  listErrors: unknown[] = [];
  /** Errors the next watch calls throw, in order. */
  watchErrors: unknown[] = [];
  /** When set, streaming lists (sendInitialEvents) are refused with this HTTP status, as a server without WatchList does. */
  refuseStreamingLists: number | undefined;
  /** When set, a streaming list sends exactly these events before the changes (instead of the state and its bookmark). */
  scriptedStreamingList: WatchEvent[] | undefined;
  /** When set, a streaming list ends after this many initial events, before its closing bookmark. */
  cutStreamingListsAfter: number | undefined;
  /** When set, open streams deliver nothing (a silent, stalled connection). */
  stalled = false;
  /** When set, list pages after the first wait for it to resolve. */
  pageGate: Promise<void> | undefined;
  /** When set, every page reports its metadata (onMetadata), then waits for it before its items arrive. */
  itemsGate: Promise<void> | undefined;
  private readonly streams = new Set<Stream>();
  private snapshots = new Map<string, { items: KubeObject[]; rv: number }>();

  private key(o: KubeObject): string {
    return `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
  }

  private record(type: WatchEvent['type'], obj: KubeObject): KubeObject {
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    const event = { type, object: stored };
    this.history.push({ rv: this.rv, event });
    for (const s of this.streams) {
      s.queue.push(event);
      s.wake?.();
    }
    return stored;
  }

  upsert(obj: KubeObject): KubeObject {
    const k = this.key(obj);
    const stored = this.record(this.objects.has(k) ? 'MODIFIED' : 'ADDED', obj);
    this.objects.set(k, stored);
    return stored;
  }

  remove(namespace: string, name: string): void {
    const k = `${namespace}/${name}`;
    const old = this.objects.get(k);
    if (!old) return;
    this.objects.delete(k);
    this.record('DELETED', old);
  }

  /** Changes objects without telling open watches (as if the events were lost), and forgets history. */
  silently(fn: () => void): void {
    const streams = [...this.streams];
    this.streams.clear();
    fn();
    for (const s of streams) this.streams.add(s);
    this.compactedRv = this.rv;
  }

  /** Forgets history up to now: watches from older resourceVersions get 410 Expired. */
  compact(): void {
    this.compactedRv = this.rv;
  }

  /** Sends a bookmark to every open stream. */
  bookmark(): void {
    this.pushAll({ type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } });
  }

  /** Sends an ERROR event with a Status to every open stream. */
  error(code: number, reason: string): void {
    this.pushAll({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: reason } });
  }

  /** Ends every open stream cleanly, as the server does at the watch timeout. */
  closeStreams(): void {
    for (const s of this.streams) {
      s.closed = true;
      s.wake?.();
    }
  }

  get openStreams(): number {
    return this.streams.size;
  }

  private pushAll(event: WatchEvent): void {
    for (const s of this.streams) {
      s.queue.push(event);
      s.wake?.();
    }
  }

  async list(o: ListPageOptions): Promise<KubeList> {
    this.listCalls.push(o);
    const err = this.listErrors.shift();
    if (err) throw err;
    let snap: { items: KubeObject[]; rv: number };
    let offset = 0;
    if (o.continue) {
      if (this.pageGate) await this.pageGate;
      const [id, off] = o.continue.split(':');
      const found = this.snapshots.get(id);
      if (!found) {
        const ctx = { verb: 'list', resource: 'configmaps', server: 'memory' };
        throw new KubeApiError(ctx, 410, { kind: 'Status', code: 410, reason: 'Expired', message: 'continue token expired' });
      }
      snap = found;
      offset = Number(off);
    } else {
      snap = { items: [...this.objects.values()].sort((a, b) => (this.key(a) < this.key(b) ? -1 : 1)), rv: this.rv };
      const id = String(this.snapshots.size + 1);
      this.snapshots.set(id, snap);
      (snap as { id?: string }).id = id;
    }
    const limit = o.limit ?? snap.items.length;
    const items = snap.items.slice(offset, offset + limit).map((i) => {
      const { apiVersion: _a, kind: _k, ...rest } = i;
      return rest as KubeObject;
    });
    const more = offset + limit < snap.items.length;
    const id = (snap as { id?: string }).id;
    const metadata = { resourceVersion: String(snap.rv), continue: more ? `${id}:${offset + limit}` : undefined };
    // As the client does: metadata reported before the items, items mapped as they are decoded.
    o.onMetadata?.(metadata);
    if (this.itemsGate) await this.itemsGate;
    if (o.signal?.aborted) throw o.signal.reason;
    const onItem = o.onItem;
    const decoded = onItem ? items.map((i) => onItem({ apiVersion: this.apiVersion, kind: this.kind, ...i })) : items;
    return { apiVersion: 'v1', kind: 'ConfigMapList', metadata, items: decoded };
  }

  /** Makes every outstanding continue token invalid. */
  expireContinueTokens(): void {
    this.snapshots = new Map();
  }

  async *watch(o: WatchFromOptions): AsyncIterable<WatchEvent> {
    this.watchCalls.push(o);
    const err = this.watchErrors.shift();
    if (err) throw err;
    if (o.sendInitialEvents) {
      yield* this.streamingList(o);
      return;
    }
    const from = Number(o.resourceVersion);
    if (from < this.compactedRv) {
      yield { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', code: 410, reason: 'Expired', message: 'too old resource version' } };
      return;
    }
    const stream: Stream = { queue: this.history.filter((h) => h.rv > from).map((h) => h.event), closed: false };
    yield* this.serve(stream, o);
  }

  /**
   * A streaming list: the current state as ADDED events (of any requested resourceVersion: the
   * memory server is never behind), the initial-events-end bookmark, then the changes.
   */
  private async *streamingList(o: WatchFromOptions): AsyncIterable<WatchEvent> {
    if (this.refuseStreamingLists) {
      const ctx = { verb: 'watch', resource: 'configmaps', server: 'memory' };
      throw new KubeApiError(ctx, this.refuseStreamingLists, { kind: 'Status', code: this.refuseStreamingLists, reason: 'Invalid', message: 'sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled' });
    }
    const initial: WatchEvent[] = [...this.objects.values()].sort((a, b) => (this.key(a) < this.key(b) ? -1 : 1)).map((object) => ({ type: 'ADDED', object }));
    const end: WatchEvent = { type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv), annotations: { 'k8s.io/initial-events-end': 'true' } } } };
    const cut = this.cutStreamingListsAfter;
    const queue = this.scriptedStreamingList ? [...this.scriptedStreamingList] : cut === undefined ? [...initial, end] : initial.slice(0, cut);
    const stream: Stream = { queue, closed: false, endWhenEmpty: cut !== undefined };
    yield* this.serve(stream, o);
  }

  /** Delivers a stream's queue, and what is recorded while it is open, until it is closed or aborted. */
  private async *serve(stream: Stream, o: WatchFromOptions): AsyncIterable<WatchEvent> {
    this.streams.add(stream);
    const onAbort = () => stream.wake?.();
    o.signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (o.signal?.aborted || stream.closed) return;
        const next = this.stalled ? undefined : stream.queue.shift();
        if (next) {
          yield next;
          continue;
        }
        if (stream.endWhenEmpty) return;
        await new Promise<void>((resolve) => (stream.wake = resolve));
      }
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
      this.streams.delete(stream);
    }
  }

  /** Wakes stalled streams (after `stalled` is cleared). */
  unstall(): void {
    this.stalled = false;
    for (const s of this.streams) s.wake?.();
  }
}
