/** StreamingListSupport: whether a server serves streaming lists (WatchList), found out once and shared. */
import { KubeApiError } from '../client/index.js';

/**
 * Whether informers list through streaming lists by default. Chosen from the figures in
 * bench/RESULTS.md; docs/architecture.md says why.
 */
export const DEFAULT_STREAMING_LIST = false;

/** The annotation of the BOOKMARK that closes the initial events of a streaming list. */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

/**
 * Statuses that say "this server does not serve streaming lists" rather than "this request
 * failed": 400 and 422 (an API server before 1.27, or with the WatchList feature off, rejects
 * `sendInitialEvents` or `resourceVersionMatch` on a watch as invalid), 405, 406, 415 and 501.
 * Not among them: 401 and 403 (credentials and RBAC: a LIST would fail alike), 404 (the
 * resource went away), 408, 409, 410 (an expired resourceVersion), 429.
 */
const REFUSALS = new Set([400, 405, 406, 415, 422, 501]);

/** True when `err` is the server refusing a streaming list (see REFUSALS). */
export function isStreamingListRefused(err: unknown): boolean {
  return err instanceof KubeApiError && REFUSALS.has(err.status);
}

/**
 * What is known of one server: streaming lists are tried until the server refuses one, and
 * from then on every informer sharing this object lists with LIST. Not retried while the
 * process runs (a server upgraded in place is picked up by the next start).
 */
export class StreamingListSupport {
  private refusal: Error | undefined;

  /** `onRefused` is called once, with the server's answer, when the server first refuses. */
  constructor(private readonly onRefused?: (error: Error) => void) {}

  /** False once the server has refused a streaming list. */
  get served(): boolean {
    return this.refusal === undefined;
  }

  /** The server's refusal, once there was one. */
  get refusedWith(): Error | undefined {
    return this.refusal;
  }

  /** Records that the server refused a streaming list. */
  refuse(error: Error): void {
    if (this.refusal) return;
    this.refusal = error;
    this.onRefused?.(error);
  }
}
