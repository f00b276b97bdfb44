/**
 * Pager: the pages of one listing, each asked for as soon as the `continue` token of the
 * page before it is known, up to `listReadAhead` ahead of the page being applied.
 */
import type { KubeList, KubeObject } from '../core/index.js';
import type { ListerWatcher } from './list-watcher.js';

/** What a pager needs: the resource, the page size, how far to read ahead, and when to stop. */
export interface PagerOptions<T extends KubeObject = KubeObject> {
  lw: ListerWatcher<T>;
  /** Items per page (the server may ignore it, as the watch cache does for resourceVersion "0"). */
  pageSize: number;
  /** Pages asked for ahead of the one being applied; 0 = one page at a time (see WatcherConfig.listReadAhead). */
  listReadAhead: number;
  /** Aborts every request of the listing. */
  signal: AbortSignal;
  /** Applied to each item as it is decoded (see WatcherConfig.onListItem). */
  onListItem?: (obj: KubeObject) => KubeObject;
  /** See WatcherConfig.dropManagedFields. */
  dropManagedFields?: boolean;
}

/** One list page asked for: its answer, and its `continue` token as soon as that is known. */
interface PageRequest<T extends KubeObject> {
  page: Promise<KubeList<T>>;
  abort: AbortController;
  /** undefined until known; '' when this is the last page. */
  continueToken?: string;
  /** The request of the page after this one has been made. */
  followed: boolean;
}

/**
 * Pages are handed out in order by `next`. At most 1 + `listReadAhead` requests are in
 * flight, so memory stays bounded by a few pages. Every request still in flight is
 * aborted by `close`; a page read ahead and dropped unread never rejects unhandled.
 */
export class Pager<T extends KubeObject = KubeObject> {
  /** Requested and not yet taken, oldest first. */
  private readonly inFlight: PageRequest<T>[] = [];
  /** The newest request made: the one whose token asks for the next page. */
  private newest?: PageRequest<T>;

  /** Asks for the first page at once; `resourceVersion` applies to it only (later ones carry it in their token). */
  constructor(
    private readonly o: PagerOptions<T>,
    continueToken: string | undefined,
    resourceVersion?: string,
  ) {
    this.request(continueToken, continueToken ? undefined : resourceVersion);
  }

  /** The oldest page asked for; rejects with its request's failure. */
  async next(): Promise<KubeList<T>> {
    const r = this.inFlight[0];
    if (!r) throw new Error(`${this.o.lw.description}: no list page is being asked for (the listing was stopped)`);
    try {
      return await r.page;
    } finally {
      this.inFlight.shift();
      this.follow();
    }
  }

  /** Aborts every request still in flight. */
  close(): void {
    for (const r of this.inFlight.splice(0)) r.abort.abort();
    this.newest = undefined;
  }

  private request(continueToken: string | undefined, resourceVersion?: string): void {
    const o = this.o;
    const abort = new AbortController();
    const r: PageRequest<T> = { abort, followed: false } as PageRequest<T>;
    // In the queue before the request goes out: a lister may report the metadata at once.
    this.inFlight.push(r);
    this.newest = r;
    const known = (token: string | undefined) => {
      if (r.continueToken !== undefined) return;
      r.continueToken = token ?? '';
      this.follow();
    };
    r.page = o.lw.list({
      limit: o.pageSize,
      continue: continueToken,
      resourceVersion,
      signal: AbortSignal.any([o.signal, abort.signal]),
      onItem: o.onListItem,
      dropManagedFields: o.dropManagedFields,
      onMetadata: (m) => known(m.continue),
    });
    // A listing that cannot tell early learns the token with the whole page.
    r.page.then(
      (p) => known(p.metadata?.continue),
      () => undefined, // a page read ahead may be dropped unread; its failure must not go unhandled
    );
  }

  /** Asks for the page after the newest one, if its token is known and there is room. */
  private follow(): void {
    const r = this.newest;
    if (!r || r.followed || !r.continueToken || this.o.listReadAhead <= 0 || this.o.signal.aborted) return;
    if (this.inFlight.length > this.o.listReadAhead) return;
    r.followed = true;
    this.request(r.continueToken);
  }
}
