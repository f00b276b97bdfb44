/** Logger: the port every module logs through; the daemon plugs winston in, tests a recorder. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export type LogFields = Record<string, unknown>;

/** A logger that drops everything. */
export const nullLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return nullLogger;
  },
};

export interface LogRecord {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: LogFields;
}

/** A logger that keeps its lines in memory, for tests. */
export class MemoryLogger implements Logger {
  constructor(
    readonly records: LogRecord[] = [],
    private readonly base: LogFields = {},
  ) {}
  debug(message: string, fields?: LogFields): void {
    this.records.push({ level: 'debug', message, fields: { ...this.base, ...fields } });
  }
  info(message: string, fields?: LogFields): void {
    this.records.push({ level: 'info', message, fields: { ...this.base, ...fields } });
  }
  warn(message: string, fields?: LogFields): void {
    this.records.push({ level: 'warn', message, fields: { ...this.base, ...fields } });
  }
  error(message: string, fields?: LogFields): void {
    this.records.push({ level: 'error', message, fields: { ...this.base, ...fields } });
  }
  child(fields: LogFields): Logger {
    return new MemoryLogger(this.records, { ...this.base, ...fields });
  }
}
