/**
 * The parts of undici Reflex uses, loaded from their own files.
 *
 * undici's package entry loads every part of the library at once (fetch, WebSocket,
 * EventSource, the mock agents, the cache stores, every interceptor): about 8 MiB of resident
 * memory and 150–230 ms of start-up that a Kubernetes client never uses. Reflex needs an Agent,
 * the `request` call and, only when a proxy is configured, a proxy agent; this module requires
 * those files directly (undici declares no `exports` map, so they are reachable) and nothing
 * else. The versions are pinned by the lockfile; test/client/undici-parts.test.ts checks that
 * each part loads and is the class the package entry exports.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

/** undici's Agent (a pool per origin). */
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export type Agent = Undici.Agent;
export type Dispatcher = Undici.Dispatcher;

type RequestFn = (this: Undici.Dispatcher, options: Undici.Dispatcher.RequestOptions) => Promise<Undici.Dispatcher.ResponseData>;
const requestFn = require('undici/lib/api/api-request.js') as RequestFn;

/** `dispatcher.request(options)`: the package entry adds `request` to every dispatcher's prototype; this calls it without that. */
export function dispatch(dispatcher: Undici.Dispatcher, options: Undici.Dispatcher.RequestOptions): Promise<Undici.Dispatcher.ResponseData> {
  return requestFn.call(dispatcher, options);
}

/** undici's ProxyAgent (HTTP(S) proxies), loaded on first use. */
export const proxyAgent = (): typeof Undici.ProxyAgent => require('undici/lib/dispatcher/proxy-agent.js') as typeof Undici.ProxyAgent;
/** undici's Socks5ProxyAgent, loaded on first use. */
export const socks5ProxyAgent = (): typeof Undici.Socks5ProxyAgent =>
  require('undici/lib/dispatcher/socks5-proxy-agent.js') as typeof Undici.Socks5ProxyAgent;

let shared: Undici.Agent | undefined;

/**
 * A request to any URL through one shared Agent with undici's defaults: what undici's own
 * `request(url, options)` does through its global dispatcher (used for webhooks).
 */
export function requestUrl(url: string, options: Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path'>): Promise<Undici.Dispatcher.ResponseData> {
  const u = new URL(url);
  shared ??= new Agent();
  return dispatch(shared, { ...options, origin: u.origin, path: `${u.pathname}${u.search}` });
}
