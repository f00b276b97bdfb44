/**
 * `reflex tail [--url ws://HOST:PORT/traces] [--rule NAME]…`: streams the decision traces of a
 * running daemon, one line per decision, until interrupted or the daemon goes away. It sends the
 * bearer token of the kubeconfig's context when it has one (an exposed daemon requires it).
 */
import { createAuthenticator, loadConfig } from '../client/index.js';
import { errorMessage } from '../core/index.js';
import type { DecisionTrace } from '../daemon/index.js';
import { CONTEXT, defineCommand, HELP, KUBECONFIG, NAMESPACE, output, UsageError, type CommandSpec } from './flags.js';
import { useColor, type CommandIO } from './io.js';

/** Where a daemon started with the default traces address serves its traces (through a port-forward). */
export const DEFAULT_TAIL_URL = 'ws://127.0.0.1:9091/traces';

/** The longest tail line in text mode unless `--wide`, in visible characters. */
export const TAIL_WIDTH = 159;

export const TAIL_SPEC: CommandSpec = {
  name: 'tail',
  summary: 'stream decision traces from a running daemon',
  description: 'Each line: time, rule, event, object, the decision (or why it was filtered out) and the actions.\nColour on a terminal unless NO_COLOR is set.',
  flags: [
    { name: 'url', value: 'URL', default: DEFAULT_TAIL_URL, help: "the daemon's /traces WebSocket (kubectl port-forward deploy/reflex 9091)" },
    { name: 'rule', value: 'NAME', multiple: true, help: 'only traces of this rule' },
    NAMESPACE('only traces of objects in this namespace'),
    { ...KUBECONFIG, help: 'kubeconfig whose bearer token is sent (default: $KUBECONFIG, ~/.kube/config; none found, none sent)' },
    CONTEXT,
    { name: 'wide', type: 'boolean', help: `whole lines; by default a text line stops at ${TAIL_WIDTH} characters` },
    output(['text', 'json']),
    HELP,
  ],
  exits: { 0: 'interrupted, or the daemon closed the stream normally', 1: 'nothing listens at the URL, or the connection broke' },
  examples: ['kubectl -n reflex port-forward deploy/reflex 9091 & reflex tail --rule delete-finished-jobs'],
};

export interface TailOptions {
  /** Ends the tail (exit 0); default: SIGINT and SIGTERM. */
  signal?: AbortSignal;
}

/**
 * Connects and prints traces. Resolves to 0 when interrupted or when the daemon closes the
 * stream normally, 1 when it cannot connect or the connection breaks, 2 on usage errors.
 */
export async function runTail(args: string[], io: CommandIO, options: TailOptions = {}): Promise<number> {
  return defineCommand(TAIL_SPEC, async ({ values }) => {
    let url: URL;
    try {
      url = new URL(values.url as string);
      if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error('the scheme must be ws: or wss:');
    } catch (err) {
      throw new UsageError(`--url "${values.url}" is not a WebSocket URL (${errorMessage(err)}); e.g. ${DEFAULT_TAIL_URL}`);
    }
    const rules = (values.rule as string[] | undefined) ?? [];
    for (const r of rules) url.searchParams.append('rule', r);
    const authorization = await bearerOf(values.kubeconfig as string | undefined, values.context as string | undefined);
    if (authorization && url.protocol === 'ws:' && !isLoopback(url.hostname)) {
      io.err(`reflex tail: warning: your token goes unencrypted to ${url.host}; prefer kubectl port-forward and the default URL`);
    }
    const color = useColor(io);
    const width = values.wide === true ? undefined : TAIL_WIDTH;
    const namespace = values.namespace as string | undefined;
    const print = (trace: DecisionTrace, raw: string) => {
      if (namespace !== undefined && trace.object?.namespace !== namespace) return;
      io.out(values.output === 'json' ? raw : formatTrace(trace, { color, width }));
    };
    return stream(url, rules, authorization, print, io, options.signal ?? processSignal());
  }).run(args, io);
}

/** The command, for the command table (runTail with the process's signals). */
export const tailCommand = { spec: TAIL_SPEC, run: (args: string[], io: CommandIO) => runTail(args, io) };

/** Why a connection attempt failed, in words: nothing listening, a name that does not resolve, or the error. */
function connectFailure(err: Error & { code?: string }, url: URL): string {
  const where = `${url.origin}${url.pathname}`;
  if (err.code === 'ECONNREFUSED') return `nothing is listening at ${where}; is the daemon running (with traces enabled)? e.g. kubectl -n reflex port-forward deploy/reflex 9091`;
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return `cannot resolve the host of ${where}`;
  if (/Unexpected server response: 404/.test(err.message)) return `${where} answered 404: the daemon serves no traces there (traces.enabled false, or not the metrics address?)`;
  return `cannot connect to ${where}: ${errorMessage(err)}; is the daemon running with traces enabled? (e.g. kubectl port-forward deploy/reflex 9091)`;
}

/**
 * The `Bearer …` header of the kubeconfig's context (token, token file or exec plugin); undefined
 * when it has none or, with no kubeconfig or context named, when none is found (a port-forwarded
 * daemon needs none).
 */
async function bearerOf(kubeconfig: string | undefined, context: string | undefined): Promise<string | undefined> {
  let config;
  try {
    config = loadConfig({ kubeconfig, context });
  } catch (err) {
    if (kubeconfig !== undefined || context !== undefined) throw err;
    return undefined;
  }
  const header = (await createAuthenticator(config).headers()).authorization;
  return typeof header === 'string' && /^Bearer\s/i.test(header) ? header : undefined;
}

const isLoopback = (host: string) => host === 'localhost' || host === '[::1]' || /^127\./.test(host);

async function stream(url: URL, rules: string[], authorization: string | undefined, print: (t: DecisionTrace, raw: string) => void, io: CommandIO, signal: AbortSignal): Promise<number> {
  // Loaded here, not with the command table: every other command (the daemon too) goes without it.
  const { WebSocket } = await import('ws');
  return new Promise((resolve) => {
    const ws = new WebSocket(url, authorization ? { headers: { authorization } } : {});
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        if (settled) return;
        io.err(`reflex tail: ${url.origin}${url.pathname} refused the connection: ${res.statusCode}${body.trim() ? ` ${body.trim().slice(0, 200)}` : ''}`);
        finish(1);
      });
    });
    let opened = false;
    let settled = false;
    const finish = (code: number) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      resolve(code);
    };
    const onAbort = () => {
      ws.close(1000);
      finish(0);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    ws.on('open', () => {
      opened = true;
      io.err(`reflex tail: connected to ${url.origin}${url.pathname}${rules.length ? ` (rules: ${rules.join(', ')})` : ''}`);
    });
    ws.on('message', (data) => {
      const raw = String(data);
      try {
        const trace = JSON.parse(raw) as DecisionTrace;
        if (rules.length === 0 || rules.includes(trace.rule)) print(trace, raw);
      } catch {
        io.err(`reflex tail: ignoring a message that is not a trace: ${raw.slice(0, 80)}`);
      }
    });
    ws.on('error', (err) => {
      if (signal.aborted || settled) return;
      io.err(`reflex tail: ${opened ? `the connection to ${url.origin}${url.pathname} failed: ${errorMessage(err)}` : connectFailure(err, url)}`);
      finish(1);
    });
    ws.on('close', (code, reason) => {
      if (signal.aborted || settled) return finish(0);
      const normal = code === 1000 || code === 1001;
      const why = code === 1006 ? 'the connection dropped without a close frame (the daemon stopped or the port-forward ended)' : `code ${code}${reason.length ? ` ${String(reason)}` : ''}`;
      io.err(`reflex tail: the daemon closed the stream (${why})`);
      finish(normal ? 0 : 1);
    });
  });
}

const PAINT = { dim: '\x1b[2m', green: '\x1b[32m', yellow: '\x1b[33m', red: '\x1b[31m', reset: '\x1b[0m' };

/** A trace with the reason an update was filtered out, when the daemon sends one. */
type TailTrace = DecisionTrace & { filtered?: string; skipped?: string };

/** The decision in words: `match`, `no match`, `filtered: changes unchanged`, `error (…)`. */
function decision(t: TailTrace): { text: string; tone: keyof typeof PAINT } {
  if (t.condition === 'error') return { text: `error${t.error ? ` (${t.error})` : ''}`, tone: 'red' };
  if (t.filtered) return { text: `filtered: ${t.filtered}`, tone: 'dim' };
  if (t.skipped) return { text: `skipped: ${t.skipped}`, tone: 'yellow' };
  return t.condition ? { text: 'match', tone: 'green' } : { text: 'no match', tone: 'dim' };
}

/** An action's error in a tail line: from an API error only its reason and the server's message. */
export function shortError(error: string): string {
  const m = /\b([A-Z][A-Za-z]+ \(\d{3}\): .*)$/.exec(error);
  return m ? m[1] : error;
}

/**
 * One readable line: `TIME RULE EVENT KIND NS/NAME decision → actions (DURATION)` (with sharding,
 * `[bucket N on REPLICA]` after the object); coloured when
 * asked; at most `width` visible characters (the end of the actions cut with `…`).
 */
export function formatTrace(t: TailTrace, options: { color?: boolean; width?: number } = {}): string {
  const paint = (tone: keyof typeof PAINT, s: string) => (options.color ? `${PAINT[tone]}${s}${PAINT.reset}` : s);
  const o = t.object ?? { apiVersion: '?', kind: '?', name: '?' };
  const time = t.time?.slice(11, 23) ?? '';
  const target = `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}${t.shard ? ` [bucket ${t.shard.bucket} on ${t.shard.replica}]` : ''}`;
  const d = decision(t);
  const failed = (t.executed ?? []).some((a) => a.outcome === 'failed');
  const executed = (t.executed ?? []).map((a) => `${a.action} ${a.outcome}${a.durationMs !== undefined ? ` ${a.durationMs}ms` : ''}${a.error ? ` (${shortError(a.error)})` : ''}`);
  const planned = t.planned?.length ?? 0;
  const actions = executed.length > 0 ? executed.join(', ') : planned > 0 ? `${planned} planned` : 'no actions';
  const head = `${time} ${t.rule} ${t.event} ${target}: `;
  let rest = ` → ${actions} (${t.durationMs}ms)`;
  const room = options.width === undefined ? Infinity : options.width - head.length - d.text.length;
  if (rest.length > room) rest = `${rest.slice(0, Math.max(0, room - 1))}…`;
  return `${paint('dim', time)}${head.slice(time.length)}${paint(d.tone, d.text)}${failed ? paint('red', rest) : rest}`;
}

/** Aborts on the first SIGINT or SIGTERM. */
function processSignal(): AbortSignal {
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ctl.signal;
}
