/**
 * `reflex tail [--url ws://HOST:PORT/traces] [--rule NAME]… [--output text|json]`: streams the
 * decision traces of a running daemon, one line per decision, until interrupted or the daemon goes away.
 */
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { errorMessage } from '../core/index.js';
import type { DecisionTrace } from '../daemon/index.js';
import type { CommandIO } from './commands.js';

/** Where a daemon started with the default metrics address serves its traces. */
export const DEFAULT_TAIL_URL = 'ws://127.0.0.1:9090/traces';

const USAGE = 'Usage: reflex tail [--url ws://HOST:PORT/traces] [--rule NAME]… [--output text|json]';

export interface TailOptions {
  /** Ends the tail (exit 0); default: SIGINT and SIGTERM. */
  signal?: AbortSignal;
}

/**
 * Connects and prints traces. Resolves to 0 when interrupted or when the daemon closes the
 * stream normally, 1 when it cannot connect or the connection breaks, 2 on usage errors.
 */
export async function runTail(args: string[], io: CommandIO, options: TailOptions = {}): Promise<number> {
  let values: { url?: string; rule?: string[]; output?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { url: { type: 'string' }, rule: { type: 'string', multiple: true }, output: { type: 'string' } },
      strict: true,
    }));
  } catch (err) {
    io.err(`reflex tail: ${errorMessage(err)}\n${USAGE}`);
    return 2;
  }
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json') {
    io.err(`reflex tail: --output must be text or json, got "${output}"\n${USAGE}`);
    return 2;
  }
  let url: URL;
  try {
    url = new URL(values.url ?? DEFAULT_TAIL_URL);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error('the scheme must be ws: or wss:');
  } catch (err) {
    io.err(`reflex tail: --url "${values.url}" is not a WebSocket URL (${errorMessage(err)}); e.g. ${DEFAULT_TAIL_URL}`);
    return 2;
  }
  const rules = values.rule ?? [];
  for (const r of rules) url.searchParams.append('rule', r);
  return stream(url, rules, (trace, raw) => io.out(output === 'json' ? raw : formatTrace(trace)), io, options.signal ?? processSignal());
}

function stream(url: URL, rules: string[], print: (t: DecisionTrace, raw: string) => void, io: CommandIO, signal: AbortSignal): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
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
      if (signal.aborted) return;
      const hint = opened ? '' : '; is the daemon running with traces enabled? (e.g. kubectl port-forward deploy/reflex 9090)';
      const what = opened ? `the connection to ${url.origin}${url.pathname} failed` : `cannot connect to ${url.origin}${url.pathname}`;
      io.err(`reflex tail: ${what}: ${errorMessage(err)}${hint}`);
      finish(1);
    });
    ws.on('close', (code, reason) => {
      if (signal.aborted) return finish(0);
      const normal = code === 1000 || code === 1001;
      io.err(`reflex tail: the daemon closed the stream (${code}${reason.length ? ` ${String(reason)}` : ''})`);
      finish(normal ? 0 : 1);
    });
  });
}

/** One readable line: `TIME RULE EVENT KIND NS/NAME condition → actions (DURATION)`. */
export function formatTrace(t: DecisionTrace): string {
  const o = t.object ?? { apiVersion: '?', kind: '?', name: '?' };
  const time = t.time?.slice(11, 23) ?? '';
  const target = `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
  const cond = t.condition === 'error' ? `error${t.error ? ` (${t.error})` : ''}` : t.condition ? 'match' : 'no match';
  const executed = (t.executed ?? []).map((a) => `${a.action} ${a.outcome}${a.durationMs !== undefined ? ` ${a.durationMs}ms` : ''}${a.error ? ` (${a.error})` : ''}`);
  const planned = t.planned?.length ?? 0;
  const actions = executed.length > 0 ? executed.join(', ') : planned > 0 ? `${planned} planned` : 'no actions';
  return `${time} ${t.rule} ${t.event} ${target}: ${cond} → ${actions} (${t.durationMs}ms)`;
}

/** Aborts on the first SIGINT or SIGTERM. */
function processSignal(): AbortSignal {
  const ctl = new AbortController();
  const stop = () => ctl.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return ctl.signal;
}
