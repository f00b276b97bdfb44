/** io: where a command reads and writes; the real process streams by default, captured in tests. */

/** Where a command writes (and, for `-`, reads); tests capture it. */
export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  /** The whole of standard input, for `--manifests -` and `--rules -`. Default: process.stdin. */
  stdin?: () => Promise<string>;
  /** Whether stdout/stderr is a terminal (colour, short lines). Default: false for captured output. */
  isTTY?: boolean;
}

/** The process's streams. */
export const stdio: CommandIO = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  stdin: readProcessStdin,
  isTTY: Boolean(process.stdout.isTTY),
};

/** Reads process.stdin to its end as UTF-8. */
export async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Whether colour may be used on `io`: a terminal, and NO_COLOR unset or empty (https://no-color.org). */
export function useColor(io: CommandIO, env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(io.isTTY) && !env.NO_COLOR;
}
