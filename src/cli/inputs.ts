/** inputs: reading rule and manifest paths, where `-` is standard input (`kubectl get -o yaml | reflex …`). */
import { readSourceFiles, type ReadSourcesOptions, type SourceFile } from '../daemon/index.js';
import { readProcessStdin, type CommandIO } from './io.js';
import { UsageError } from './flags.js';

/** How standard input is named in messages (`<stdin>:3:1: …`). */
export const STDIN_NAME = '<stdin>';

/** Reads standard input at most once per command; a second `-` is a usage error. */
export class StdinOnce {
  private used: string | undefined;
  constructor(private readonly io: CommandIO) {}

  /** The text of stdin for `flag`; throws UsageError when another flag took it already. */
  async read(flag: string): Promise<string> {
    if (this.used !== undefined) throw new UsageError(`standard input (-) can feed only one flag; ${this.used} already reads it, so ${flag} cannot`);
    this.used = flag;
    return (this.io.stdin ?? readProcessStdin)();
  }
}

/** Reads `paths` (files, directories, `-` for stdin) in order; `flag` names the flag in errors. */
export async function readInputs(paths: string[], flag: string, stdin: StdinOnce, options: ReadSourcesOptions = {}): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  for (const p of paths) {
    if (p === '-') out.push({ file: STDIN_NAME, text: await stdin.read(flag) });
    else out.push(...(await readSourceFiles([p], options)));
  }
  return out;
}
