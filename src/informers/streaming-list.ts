/**
 * The streaming-list steps of the watcher (WatchList, KEP 3157): one watch that sends the
 * initial state as ADDED events, closes it with a BOOKMARK annotated
 * `k8s.io/initial-events-end`, and then goes on as the watch. Its events are the same
 * `Init` / `InitApply` / `InitDone` a LIST gives, so the cache swaps a relist in at once either way.
 */
import type { KubeObject } from '../core/index.js';
import type { WatchEvent } from '../client/index.js';
import {
  NoResourceVersionError,
  StreamingListEndedError,
  WatchFailedError,
  WatchdogTimeoutError,
  WatchStatusError,
  isResourceExpired,
} from './errors.js';
import { INITIAL_EVENTS_END_ANNOTATION, isStreamingListRefused } from './streaming-list-support.js';
import { Watchdog, nextWithin } from './watchdog.js';
import type { StepResult, WatcherContext, WatcherEvent, WatcherState } from './watcher-state.js';

type Streaming<T extends KubeObject> = Extract<WatcherState<T>, { phase: 'InitStreaming' }>;

/** The server timeout of one watch, picked at random in the configured range. */
export function watchTimeout(ctx: WatcherContext): number {
  const [min, max] = ctx.watchTimeoutSeconds;
  return Math.round(min + (max - min) * ctx.random());
}

/**
 * Opens a streaming list: of any cached state the first time (resourceVersion "0", as the LIST
 * path's first listing), of the latest state after an expiry or with `initialListFromCache` off
 * (resourceVersion "": the API server answers from its watch cache once that has caught up).
 */
export function openStreamingList<T extends KubeObject>(ctx: WatcherContext<T>, consistent: boolean): StepResult<T> {
  const resourceVersion = !consistent && ctx.initialListFromCache ? '0' : '';
  const abort = new AbortController();
  const onAbort = () => abort.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  abort.signal.addEventListener('abort', () => ctx.signal.removeEventListener('abort', onAbort), { once: true });
  const iterable = ctx.lw.watch({ resourceVersion, sendInitialEvents: true, allowWatchBookmarks: true, timeoutSeconds: watchTimeout(ctx), dropManagedFields: ctx.dropManagedFields, signal: abort.signal });
  return {
    events: [{ type: 'Init' }, { type: 'WatchStarted', resourceVersion }],
    next: {
      phase: 'InitStreaming',
      consistent,
      stream: iterable[Symbol.asyncIterator](),
      abort,
      openedAt: ctx.clock.now(),
      events: 0,
      watchdog: new Watchdog(ctx.clock, ctx.watchdogMs, abort.signal),
    },
  };
}

/**
 * Reads initial events, up to a page's worth (`pageSize`) per step, so that a large listing is
 * handed over in batches as a LIST's pages are. The closing bookmark completes the listing at
 * its resourceVersion and turns the state into Watching on the same stream. A refusal by the
 * server switches its informers to LIST (no error: nothing failed); any other failure starts
 * the listing over from Empty, the same way it would have started.
 */
export async function readStreamingList<T extends KubeObject>(state: Streaming<T>, ctx: WatcherContext<T>): Promise<StepResult<T>> {
  const events: WatcherEvent<T>[] = [];
  let received = state.events;
  const restart = (error: Error, expired = isResourceExpired(error)): StepResult<T> => {
    state.abort.abort();
    events.push({ type: 'Error', error });
    return { events, next: { phase: 'Empty', consistent: state.consistent || expired } };
  };
  while (events.length < ctx.pageSize) {
    let result: IteratorResult<WatchEvent<T>> | 'stalled';
    try {
      result = await nextWithin(state.stream, state.watchdog);
    } catch (err) {
      if (isStreamingListRefused(err) && received === 0) {
        state.abort.abort();
        ctx.streamingListSupport.refuse(err as Error);
        // Whatever was handed over belongs to this listing's Init; the LIST starts with a new one.
        return { events, next: { phase: 'Empty', consistent: state.consistent } };
      }
      return restart(new WatchFailedError(ctx.lw.description, err));
    }
    if (result === 'stalled') return restart(new WatchdogTimeoutError(ctx.lw.description, ctx.watchdogMs));
    if (result.done) return restart(new StreamingListEndedError(ctx.lw.description, received));
    const ev = result.value;
    received++;
    switch (ev.type) {
      case 'ADDED':
      case 'MODIFIED': {
        let object: T;
        try {
          object = ctx.onListItem ? (ctx.onListItem(ev.object) as T) : ev.object;
        } catch (err) {
          return restart(new WatchFailedError(ctx.lw.description, err), false);
        }
        events.push({ type: 'InitApply', object });
        continue;
      }
      case 'BOOKMARK': {
        if (ev.object.metadata?.annotations?.[INITIAL_EVENTS_END_ANNOTATION] !== 'true') continue;
        const resourceVersion = ev.object.metadata?.resourceVersion ?? '';
        if (!resourceVersion) return restart(new NoResourceVersionError(ctx.lw.description, 'streaming list'), false);
        events.push({ type: 'InitDone', resourceVersion, streamed: true });
        const { stream, abort, openedAt, watchdog } = state;
        return { events, next: { phase: 'Watching', resourceVersion, stream, abort, openedAt, events: received, watchdog } };
      }
      case 'ERROR':
        return restart(new WatchStatusError(ctx.lw.description, ev.object));
      default:
        // A DELETED among the initial events, or a type the API server does not send: malformed, never skipped.
        return restart(new WatchFailedError(ctx.lw.description, new Error(`unexpected ${String((ev as { type?: unknown }).type)} event among the initial events of a streaming list`)), false);
    }
  }
  return { events, next: { ...state, events: received } };
}
