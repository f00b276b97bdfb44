/** Errors of the informers: each names the step that failed and wraps its cause. */
import { ReflexError, type KubeObject } from '../core/index.js';
import { isGone } from '../client/index.js';

/** The watch stream stayed silent longer than the watchdog allows; it is restarted. */
export class WatchdogTimeoutError extends ReflexError {
  constructor(
    readonly resource: string,
    readonly idleMs: number,
  ) {
    super(`watch of ${resource} was silent for ${idleMs} ms (no event or bookmark); restarting it`, { code: 'ERR_WATCHDOG_TIMEOUT' });
  }
}

/** The server sent an ERROR event in a watch stream; `status` is the Status it carried. */
export class WatchStatusError extends ReflexError {
  readonly statusCode: number;
  readonly reason: string;
  constructor(
    readonly resource: string,
    readonly status: KubeObject,
  ) {
    const code = typeof status.code === 'number' ? status.code : 0;
    const reason = typeof status.reason === 'string' ? status.reason : '';
    const message = typeof status.message === 'string' ? status.message : reason || 'unknown error';
    super(`watch of ${resource} failed: ${message} (HTTP ${code || '?'}${reason ? ` ${reason}` : ''})`, { code: 'ERR_WATCH_STATUS' });
    this.statusCode = code;
    this.reason = reason;
  }
}

/** A watch ended cleanly but at once, without a single event: treated as a failure, so it is backed off. */
export class WatchClosedEarlyError extends ReflexError {
  constructor(
    readonly resource: string,
    readonly afterMs: number,
  ) {
    super(`watch of ${resource} was closed by the server after ${afterMs} ms without events`, { code: 'ERR_WATCH_CLOSED_EARLY' });
  }
}

/** Listing failed; the list is retried with backoff. */
export class ListFailedError extends ReflexError {
  constructor(readonly resource: string, cause: unknown) {
    super(`list of ${resource} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { code: 'ERR_LIST_FAILED', cause });
  }
}

/**
 * A list (or a streaming list's closing bookmark) came without a resourceVersion, or a watch was
 * about to be asked from none: there is nothing to watch from, and a watch from "" would be a
 * second full listing in disguise. The listing starts over (kube-rs: `NoResourceVersion`).
 */
export class NoResourceVersionError extends ReflexError {
  constructor(
    readonly resource: string,
    readonly step: 'list' | 'watch' | 'streaming list',
  ) {
    const what = step === 'watch' ? 'a watch was to be opened without a resourceVersion' : `the ${step} answered without a resourceVersion`;
    super(`${resource}: ${what}, so there is nothing to watch from; listing again`, { code: 'ERR_NO_RESOURCE_VERSION' });
  }
}

/** A streaming list's stream ended before the bookmark that closes its initial events; the listing starts over. */
export class StreamingListEndedError extends ReflexError {
  constructor(
    readonly resource: string,
    readonly events: number,
  ) {
    super(`streaming list of ${resource} ended after ${events} events, before its initial-events-end bookmark; listing again`, { code: 'ERR_STREAMING_LIST_ENDED' });
  }
}

/** Opening or reading the watch failed; it is re-opened with backoff. */
export class WatchFailedError extends ReflexError {
  constructor(readonly resource: string, cause: unknown) {
    super(`watch of ${resource} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { code: 'ERR_WATCH_FAILED', cause });
  }
}

/**
 * True when `err` says the requested resourceVersion is too old (HTTP 410, reason
 * Gone or Expired): the cache must relist. Classifies the client's API errors and
 * ERROR events by status code and reason, never by message text.
 */
export function isResourceExpired(err: unknown): boolean {
  if (err instanceof WatchStatusError) return err.statusCode === 410 || err.reason === 'Expired' || err.reason === 'Gone';
  if (err instanceof ListFailedError || err instanceof WatchFailedError) return isResourceExpired(err.cause);
  return isGone(err);
}
