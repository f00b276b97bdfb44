/**
 * Requester: sends one API request through the rate limiter, authentication,
 * retries (429, and 5xx with Retry-After, for idempotent verbs) and warnings, and
 * turns failures into KubeApiError or KubeNetworkError naming verb, resource and server.
 */
import { type Clock, type Logger, ReflexError, sleep } from '../core/index.js';
import { impersonationHeaders, type Authenticator } from './auth.js';
import type { Impersonation } from './config.js';
import { ListDecodeError } from './list-decoder.js';
import { decodeProtoObject, isProtobuf, protoTypesIfLoaded } from './proto/index.js';
import { KubeApiError, KubeNetworkError, reasonForStatus, type RequestContext, type Status } from './errors.js';
import type { RequestLimiter } from './rate-limiter.js';
import { classifyNetworkError, type HttpRequest, type HttpResponse, type Transport } from './transport.js';
import type { WarningHandler } from './warnings.js';

export interface RequestSpec {
  /** Kubernetes verb and human resource, for messages. */
  verb: string;
  resource: string;
  method: HttpRequest['method'];
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
  watch?: boolean;
  /** Send as this identity: replaces the configuration's own impersonation, if any (see DynamicClient.impersonate). */
  impersonate?: Impersonation;
  /**
   * Awaited when the answer's headers have come and before anything of it is used: a request
   * sent before it was known to be the right one (see DynamicClient.list) is kept only if this
   * resolves; if it rejects, the answer is dropped and its error is thrown.
   */
  confirm?: () => Promise<void>;
}

export interface RetryPolicy {
  /** Most retries of one request. Default 5. */
  maxRetries: number;
  /** Total time one request may spend waiting between retries, ms. Default 30 000. */
  budgetMs: number;
  /** Wait after a 429 without Retry-After, ms. Default 1 000. */
  defaultWaitMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 5, budgetMs: 30_000, defaultWaitMs: 1_000 };

export interface RequesterDeps {
  server: string;
  /** Where the CA came from, for TLS error messages. */
  caSource: string;
  transport: Transport;
  auth: Authenticator;
  limiter: RequestLimiter;
  warnings: WarningHandler;
  logger: Logger;
  clock: Clock;
  userAgent: string;
  /** Time limit of one ordinary request (not watches), ms. */
  timeoutMs: number;
  retry: RetryPolicy;
}

/** HTTP methods that may be sent twice with the same effect. */
const IDEMPOTENT = new Set(['GET', 'PUT', 'DELETE']);

/** Parses Retry-After (seconds or an HTTP date) into ms. */
export function retryAfterMs(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Builds `path?query`, leaving out undefined values. */
export function withQuery(path: string, query: RequestSpec['query']): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.append(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** Turns a non-2xx body into a Status (the server's, or one made from the HTTP status). */
export function toStatus(status: number, text: string): Status {
  try {
    const doc = JSON.parse(text) as Status;
    if (doc && doc.kind === 'Status') return doc;
  } catch {
    /* not JSON */
  }
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: status, reason: reasonForStatus(status), message: text.trim().slice(0, 300) || undefined };
}

/** The Status of a non-2xx answer, in JSON or (when protobuf was asked for) protobuf. */
async function readStatus(res: HttpResponse): Promise<Status> {
  const types = protoTypesIfLoaded();
  if (!types || !isProtobuf(res.headers['content-type'])) return toStatus(res.status, await res.text());
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(Buffer.from(c));
  try {
    const doc = decodeProtoObject(types, Buffer.concat(chunks)) as unknown as Status;
    if (doc.kind === 'Status') return doc;
  } catch {
    /* not a Status */
  }
  return toStatus(res.status, '');
}

/** Decodes a body as it streams in (see ListDecoder); `end` returns the result or throws on malformed input. */
export interface BodyDecoder<T> {
  /** Called first, with the answer's Content-Type. */
  start?(contentType: string | undefined): void;
  write(chunk: Uint8Array): void;
  end(): T;
}

/** Auth headers with `as`'s Impersonate-* headers instead of the configuration's (unchanged without `as`). */
function withIdentity(auth: Record<string, string | string[]>, as: Impersonation | undefined): Record<string, string | string[]> {
  if (!as) return auth;
  const out = Object.fromEntries(Object.entries(auth).filter(([k]) => !k.startsWith('impersonate-')));
  return { ...out, ...impersonationHeaders(as) };
}

export class Requester {
  constructor(private readonly d: RequesterDeps) {}

  get server(): string {
    return this.d.server;
  }

  /** Sends and parses the JSON answer, or has `decoder` decode it as it streams in. */
  async json<T>(spec: RequestSpec, decoder?: BodyDecoder<T>): Promise<T> {
    const { res, timeout } = await this.send(spec);
    const ctx = this.ctx(spec);
    // JSON.parse's own message quotes the text (maybe a Secret's), so only the decoder's messages are passed on.
    const undecodable = (err: unknown) =>
      err instanceof ListDecodeError
        ? new ReflexError(`${ctx.verb} ${ctx.resource} on ${ctx.server}: ${err.message}`, { code: 'ERR_KUBE_DECODE', cause: err })
        : new ReflexError(`${ctx.verb} ${ctx.resource} on ${ctx.server}: the answer is not JSON`, { code: 'ERR_KUBE_DECODE' });
    if (decoder) {
      const ct = res.headers['content-type'];
      decoder.start?.(Array.isArray(ct) ? ct[0] : ct);
      try {
        for await (const chunk of res.body) decoder.write(chunk);
      } catch (err) {
        res.destroy();
        throw err instanceof ListDecodeError ? undecodable(err) : this.networkError(err, ctx, spec.signal, timeout);
      }
      try {
        return decoder.end();
      } catch (err) {
        throw undecodable(err);
      }
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw this.networkError(err, ctx, spec.signal, timeout);
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw undecodable(err);
    }
  }

  /** Sends and returns the open 2xx response (watches); the caller consumes or destroys its body. */
  async open(spec: RequestSpec): Promise<HttpResponse> {
    return (await this.send({ ...spec, watch: true })).res;
  }

  ctx(spec: Pick<RequestSpec, 'verb' | 'resource'>): RequestContext {
    return { verb: spec.verb, resource: spec.resource, server: this.d.server };
  }

  private async send(spec: RequestSpec): Promise<{ res: HttpResponse; timeout?: AbortSignal }> {
    const ctx = this.ctx(spec);
    const d = this.d;
    let retries = 0;
    let waited = 0;
    let reauthed = false;
    for (;;) {
      await d.limiter.wait(spec.signal);
      const timeout = spec.watch ? undefined : AbortSignal.timeout(d.timeoutMs);
      const signal = timeout && spec.signal ? AbortSignal.any([spec.signal, timeout]) : (timeout ?? spec.signal);
      const headers: Record<string, string | string[]> = {
        ...withIdentity(await d.auth.headers(), spec.impersonate),
        accept: spec.accept ?? 'application/json',
        'user-agent': d.userAgent,
      };
      const body = spec.body === undefined ? undefined : typeof spec.body === 'string' ? spec.body : JSON.stringify(spec.body);
      if (body !== undefined) headers['content-type'] = spec.contentType ?? 'application/json';
      let res: HttpResponse;
      try {
        res = await d.transport.request({ method: spec.method, path: withQuery(spec.path, spec.query), headers, body, signal, watch: spec.watch });
      } catch (err) {
        throw this.networkError(err, ctx, spec.signal, timeout);
      }
      if (spec.confirm) {
        try {
          await spec.confirm();
        } catch (err) {
          res.destroy();
          throw err;
        }
      }
      d.warnings.handle(res.headers.warning, ctx);
      if (res.status >= 200 && res.status < 300) return { res, timeout };
      let status: Status;
      try {
        status = await readStatus(res);
      } catch (err) {
        throw this.networkError(err, ctx, spec.signal, timeout);
      }
      if (res.status === 401 && !reauthed && d.auth.unauthorized()) {
        reauthed = true;
        continue;
      }
      const after = retryAfterMs(res.headers['retry-after'], d.clock.now());
      const retryable = IDEMPOTENT.has(spec.method) && (res.status === 429 || (res.status >= 500 && after !== undefined));
      const wait = after ?? d.retry.defaultWaitMs;
      if (retryable && retries < d.retry.maxRetries && waited + wait <= d.retry.budgetMs) {
        retries++;
        waited += wait;
        d.logger.debug('retrying after the server asked to wait', { verb: ctx.verb, resource: ctx.resource, status: res.status, waitMs: wait, retry: retries });
        await sleep(d.clock, wait, spec.signal);
        continue;
      }
      throw new KubeApiError(ctx, res.status, status, after === undefined ? undefined : after / 1000);
    }
  }

  /** Maps a thrown error: the caller's abort passes through; timeouts and socket/TLS errors become KubeNetworkError. */
  networkError(err: unknown, ctx: RequestContext, signal: AbortSignal | undefined, timeout?: AbortSignal): unknown {
    if (signal?.aborted) return signal.reason ?? err;
    const where = `${ctx.verb} ${ctx.resource} on ${ctx.server}`;
    if (timeout?.aborted) {
      return new KubeNetworkError(`${where}: no answer within ${this.d.timeoutMs} ms; is the API server overloaded or unreachable?`, 'timeout', ctx.server, err);
    }
    const c = classifyNetworkError(err);
    if (!c) return err;
    const advice: Record<string, string> = {
      'connection-refused': `nothing accepts connections at ${ctx.server}; is the API server running, and is this the right server URL?`,
      tls: `TLS with ${ctx.server} failed; the CA in use is ${this.d.caSource}. Check certificate-authority, tls-server-name and the server URL`,
      dns: `cannot resolve the host of ${ctx.server}; check the server URL`,
      timeout: `the connection to ${ctx.server} timed out`,
      reset: `the connection to ${ctx.server} was closed`,
      other: `cannot reach ${ctx.server}`,
    };
    return new KubeNetworkError(`${where}: ${c.detail}: ${advice[c.failure]}`, c.failure, ctx.server, err);
  }
}
