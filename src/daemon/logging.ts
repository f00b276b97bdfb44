/**
 * logging: the core Logger port on winston. JSON lines when the stream is not a terminal,
 * readable coloured lines when it is; every field and message goes through `redact` first.
 */
import { inspect } from 'node:util';
import winston from 'winston';
import type { Logger, LogFields } from '../core/index.js';
import type { LogFormat, LogLevel } from './config-schema.js';
import { redact, redactText } from './redact.js';

export interface LoggerOptions {
  /** Lowest level written. Default `info`. */
  level?: LogLevel;
  /** `auto` (default): `json` unless the stream is a TTY, then `text`. */
  format?: LogFormat;
  /** Where lines go. Default process.stdout. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Colour the level in text mode. Default: when the stream is a TTY and NO_COLOR is unset. */
  color?: boolean;
}

/** A winston-backed Logger plus the means to flush it on shutdown. */
export interface DaemonLogger extends Logger {
  /** Waits until every line written so far has reached the stream. */
  flush(): Promise<void>;
}

const MESSAGE = Symbol.for('message');
const LEVEL = Symbol.for('level');
/** Keys winston (or the JSON shape) owns; fields of the same name are written as `field.NAME`. */
const RESERVED = new Set(['level', 'message', 'msg', 'time']);

const COLORS: Record<string, string> = { debug: '\x1b[90m', info: '\x1b[36m', warn: '\x1b[33m', error: '\x1b[31m' };
const RESET = '\x1b[0m';

/** Creates the daemon's logger. */
export function createLogger(options: LoggerOptions = {}): DaemonLogger {
  const stream = options.stream ?? process.stdout;
  const tty = Boolean(stream.isTTY);
  const format = options.format === undefined || options.format === 'auto' ? (tty ? 'text' : 'json') : options.format;
  const color = options.color ?? (tty && !process.env.NO_COLOR);
  const transport = new winston.transports.Stream({ stream });
  const w = winston.createLogger({
    level: options.level ?? 'info',
    levels: { error: 0, warn: 1, info: 2, debug: 3 },
    format: winston.format((info) => {
      (info as Record<symbol, unknown>)[MESSAGE] = format === 'json' ? jsonLine(info) : textLine(info, color, options.level === 'debug');
      return info;
    })(),
    transports: [transport],
    exitOnError: false,
  });
  return new WinstonLogger(w, {}, () => flush(transport, stream));
}

class WinstonLogger implements DaemonLogger {
  constructor(
    private readonly w: winston.Logger,
    private readonly base: LogFields,
    readonly flush: () => Promise<void>,
  ) {}
  debug(message: string, fields?: LogFields): void {
    this.write('debug', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.write('info', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.write('warn', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.write('error', message, fields);
  }
  child(fields: LogFields): DaemonLogger {
    return new WinstonLogger(this.w, { ...this.base, ...fields }, this.flush);
  }
  private write(level: LogLevel, message: string, fields?: LogFields): void {
    if (!this.w.isLevelEnabled(level)) return;
    const safe = redact({ ...this.base, ...fields }) as Record<string, unknown>;
    const meta: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(safe)) meta[RESERVED.has(k) ? `field.${k}` : k] = v;
    this.w.log({ ...meta, level, message: redactText(message), time: new Date().toISOString() });
  }
}

function fieldsOf(info: winston.Logform.TransformableInfo): [string, unknown][] {
  return Object.entries(info).filter(([k]) => !RESERVED.has(k));
}

/** `{"time":…,"level":…,"msg":…,…fields}`: one JSON object per line. */
function jsonLine(info: winston.Logform.TransformableInfo): string {
  const level = String((info as Record<symbol, unknown>)[LEVEL] ?? info.level);
  return JSON.stringify({ time: info.time, level, msg: info.message, ...Object.fromEntries(fieldsOf(info)) });
}

/** The longest text line below level debug, in visible characters; the rest is at debug. */
export const SHORT_LINE = 159;

/**
 * `2026-01-02T03:04:05.678Z INFO  message key=value key="two words"`. Below debug level (`full`
 * false) lines are short for a terminal: the time of day only, no `component` and no field whose
 * value the message already says, object references as `Kind/ns/name`, at most SHORT_LINE characters (`…`
 * marks a cut; `--log-level debug` prints every line whole).
 */
function textLine(info: winston.Logform.TransformableInfo, color: boolean, full: boolean): string {
  const level = String((info as Record<symbol, unknown>)[LEVEL] ?? info.level);
  const tag = level.toUpperCase().padEnd(5);
  const message = String(info.message);
  const shown = full ? fieldsOf(info) : fieldsOf(info).filter(([k, v]) => k !== 'component' && !said(message, v));
  const fields = shown.map(([k, v]) => `${k}=${full ? textValue(v) : shortValue(v)}`);
  const time = full ? String(info.time) : String(info.time).slice(11, 23);
  let line = [time, tag, message, ...fields].join(' ');
  if (!full && line.length > SHORT_LINE) line = `${line.slice(0, SHORT_LINE - 1)}…`;
  return color ? line.replace(tag, `${COLORS[level] ?? ''}${tag}${RESET}`) : line;
}

/** Whether the message already says the value (a string, or an object reference as `Kind ns/name`). */
function said(message: string, v: unknown): boolean {
  if (typeof v === 'string') return v.length > 0 && message.includes(v);
  if (typeof v === 'object' && v !== null && 'kind' in v && 'name' in v) {
    const r = v as { kind: unknown; namespace?: unknown; name: unknown };
    return message.includes(`${String(r.kind)} ${r.namespace ? `${String(r.namespace)}/` : ''}${String(r.name)}`);
  }
  return false;
}

/** An object reference as `Kind/ns/name`; other objects as compact JSON. */
function shortValue(v: unknown): string {
  if (typeof v === 'object' && v !== null && 'kind' in v && 'name' in v) {
    const r = v as { kind: unknown; namespace?: unknown; name: unknown };
    return `${String(r.kind)}/${r.namespace ? `${String(r.namespace)}/` : ''}${String(r.name)}`;
  }
  if (typeof v === 'object' && v !== null) return JSON.stringify(v);
  return textValue(v);
}

function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'object' && v !== null) return inspect(v, { depth: 4, breakLength: Infinity, compact: true });
  return String(v);
}

/** Resolves once the transport and the stream have taken everything written before the call. */
function flush(transport: winston.transport, stream: NodeJS.WritableStream & { writableNeedDrain?: boolean }): Promise<void> {
  return new Promise((resolve) => {
    setImmediate(() => {
      const t = transport as unknown as { writableLength?: number };
      if (!t.writableLength && !stream.writableNeedDrain) resolve();
      else stream.once('drain', () => resolve());
    });
  });
}
