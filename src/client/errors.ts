/** Typed errors of the client: API errors (the server answered), network errors (it did not), configuration and auth errors. */
import { ReflexError } from '../core/index.js';

/** The `Status` object the API server sends with an error. */
export interface Status {
  apiVersion?: string;
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: StatusDetails;
  [field: string]: unknown;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
  retryAfterSeconds?: number;
}

/** What a request was about, for error messages: `list configmaps in namespace "x"`. */
export interface RequestContext {
  /** Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection (or discovery). */
  verb: string;
  /** Human form of the resource, e.g. `configmaps "a" in namespace "x"`. */
  resource: string;
  /** Server URL. */
  server: string;
}

function describe(ctx: RequestContext): string {
  return `${ctx.verb} ${ctx.resource} on ${ctx.server}`;
}

/** The longest server message an error repeats, in characters. */
export const MAX_MESSAGE_CHARS = 300;

/**
 * A server's message as one line of at most MAX_MESSAGE_CHARS: line breaks and runs of spaces
 * become one space, and the rest is cut with `…`. (A 422's message can quote the whole object it
 * refused, escaped; logs and Events take the gist, the error's `body` keeps the rest.)
 */
export function oneLine(text: string, max = MAX_MESSAGE_CHARS): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * The API server answered with an error Status. Classify it with the `is…` predicates, never by
 * its message. The message is one line: `VERB RESOURCE on SERVER: Reason (code): the Status message`
 * (the message made one line and cut, see `oneLine`); the whole Status stays in `body`.
 */
export class KubeApiError extends ReflexError {
  readonly status: number;
  /** The Status reason (`NotFound`, `Conflict`, …), or `Unknown`. */
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  /** The Status the server sent (or one synthesized from a non-Status body). */
  readonly body: Status;
  readonly verb: string;
  readonly resource: string;
  readonly server: string;
  /** Seconds the server asked us to wait (Retry-After header or details.retryAfterSeconds). */
  readonly retryAfterSeconds: number | undefined;

  constructor(ctx: RequestContext, status: number, body: Status, retryAfterSeconds?: number) {
    const reason = body.reason || reasonForStatus(status);
    const what = body.message ? `: ${oneLine(String(body.message))}` : '';
    super(`${describe(ctx)}: ${reason} (${status})${what}`, { code: 'ERR_KUBE_API' });
    this.status = status;
    this.reason = reason;
    this.details = body.details;
    this.body = body;
    this.verb = ctx.verb;
    this.resource = ctx.resource;
    this.server = ctx.server;
    this.retryAfterSeconds = retryAfterSeconds ?? body.details?.retryAfterSeconds;
  }

  /** The error a Status describes, e.g. the object of a watch ERROR event (so `isGone` and friends apply to it). */
  static fromStatus(status: Status, ctx: Partial<RequestContext> = {}): KubeApiError {
    const code = typeof status.code === 'number' && status.code > 0 ? status.code : 500;
    return new KubeApiError({ verb: ctx.verb ?? 'watch', resource: ctx.resource ?? 'resource', server: ctx.server ?? 'the API server' }, code, status);
  }
}

/** The reason the API server uses for a bare HTTP status, for bodies that are not a Status. */
export function reasonForStatus(status: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
    406: 'NotAcceptable', 409: 'Conflict', 410: 'Gone', 415: 'UnsupportedMediaType', 422: 'Invalid',
    429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
  };
  return reasons[status] ?? 'Unknown';
}

/** Why a request got no answer. */
export type NetworkFailure = 'connection-refused' | 'tls' | 'timeout' | 'dns' | 'reset' | 'other';

/** No answer from the server: connection refused, TLS failure, timeout, reset. Separate from KubeApiError. */
export class KubeNetworkError extends ReflexError {
  constructor(
    message: string,
    readonly failure: NetworkFailure,
    readonly server: string,
    cause?: unknown,
  ) {
    super(message, { code: 'ERR_KUBE_NETWORK', cause });
  }
}

/** No configuration, a missing context, an unreadable or malformed kubeconfig, a bad in-cluster setup. */
export class KubeconfigError extends ReflexError {
  constructor(message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, { code: 'ERR_KUBECONFIG', cause: options.cause });
    this.file = options.file;
  }
  /** The kubeconfig file involved, when there is one. */
  readonly file: string | undefined;
}

/** Alias: every configuration error is a KubeconfigError. */
export { KubeconfigError as ConfigError };

/** An exec credential plugin is missing, failed, or printed something that is not an ExecCredential. */
export class ExecPluginError extends ReflexError {
  constructor(
    message: string,
    readonly command: string,
    readonly stderr: string,
    cause?: unknown,
  ) {
    super(message, { code: 'ERR_EXEC_PLUGIN', cause });
  }
}

/** A watch stream carried a line that is not a watch event. The line's content is never included (it may hold secrets). */
export class WatchDecodeError extends ReflexError {
  constructor(ctx: RequestContext, detail: string, cause?: unknown) {
    super(`${describe(ctx)}: malformed watch event: ${detail}`, { code: 'ERR_WATCH_DECODE', cause });
  }
}

/** Discovery does not know the apiVersion + kind, even after a refresh. */
export class UnknownKindError extends ReflexError {
  constructor(
    readonly apiVersion: string,
    readonly kind: string,
    server: string,
  ) {
    super(
      `the server ${server} does not serve kind ${kind} in ${apiVersion}; check the apiVersion and kind, or install the CRD that defines it`,
      { code: 'ERR_UNKNOWN_KIND' },
    );
  }
}

const api = (e: unknown): e is KubeApiError => e instanceof KubeApiError;

export const isNotFound = (e: unknown): boolean => api(e) && (e.reason === 'NotFound' || e.status === 404);
export const isConflict = (e: unknown): boolean => api(e) && (e.reason === 'Conflict' || e.status === 409) && e.reason !== 'AlreadyExists';
export const isAlreadyExists = (e: unknown): boolean => api(e) && e.reason === 'AlreadyExists';
/** 410 Gone or reason Expired: the resourceVersion is too old; an informer relists on both. */
export const isGone = (e: unknown): boolean => api(e) && (e.status === 410 || e.reason === 'Gone' || e.reason === 'Expired');
export const isExpired = (e: unknown): boolean => api(e) && (e.reason === 'Expired' || e.reason === 'Gone' || e.status === 410);
export const isForbidden = (e: unknown): boolean => api(e) && (e.reason === 'Forbidden' || e.status === 403);
export const isUnauthorized = (e: unknown): boolean => api(e) && (e.reason === 'Unauthorized' || e.status === 401);
export const isInvalid = (e: unknown): boolean => api(e) && (e.reason === 'Invalid' || e.status === 422);
export const isTooManyRequests = (e: unknown): boolean => api(e) && (e.reason === 'TooManyRequests' || e.status === 429);
export const isServerTimeout = (e: unknown): boolean => api(e) && (e.reason === 'ServerTimeout' || e.reason === 'Timeout' || e.status === 504);
/** Any KubeApiError; with `reason`, one with that reason. */
export const isKubeApiError = (e: unknown, reason?: string): e is KubeApiError => api(e) && (reason === undefined || e.reason === reason);
/** 400 BadRequest: the request itself is malformed (retrying the same request cannot help). */
export const isBadRequest = (e: unknown): boolean => api(e) && (e.reason === 'BadRequest' || e.status === 400);
/** 415 UnsupportedMediaType: e.g. a patch type the resource does not take. */
export const isUnsupportedMediaType = (e: unknown): boolean => api(e) && (e.reason === 'UnsupportedMediaType' || e.status === 415);
/** A 5xx answer: the server (or something in front of it) failed; worth retrying. */
export const isServerError = (e: unknown): boolean => api(e) && e.status >= 500;
/** No answer from the server at all (refused, reset, timed out, TLS, DNS). */
export const isNetworkError = (e: unknown): e is KubeNetworkError => e instanceof KubeNetworkError;
/** Discovery does not know the kind, even after a refresh (a failed discovery request is a network or API error instead). */
export const isUnknownKind = (e: unknown): e is UnknownKindError => e instanceof UnknownKindError;
