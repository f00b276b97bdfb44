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
import { setFlagsFromString } from 'node:v8';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

/*
 * undici parses HTTP with llhttp compiled to WebAssembly, on the first connection. V8 compiles
 * WebAssembly twice: at once with its baseline compiler (Liftoff), then, for functions that run
 * hot, again in the background with its optimizing compiler (TurboFan). llhttp's parser is one
 * very large function, and optimizing it takes about 35 MiB of compiler memory for a few hundred
 * milliseconds, plus their CPU, while the first large answer streams in: it was most of a 20k
 * list's peak memory above what the list itself needs (bench/RESULTS.md). The baseline code
 * parses a 23 MB list as fast, within the noise (a parser mostly steps over body bytes). So the
 * process compiles WebAssembly with Liftoff only. This is a process-wide V8 setting, set before
 * the first connection can be made; llhttp is the only WebAssembly Reflex runs.
 */
setFlagsFromString('--liftoff-only');

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
