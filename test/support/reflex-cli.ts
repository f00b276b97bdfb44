/** runReflex: runs a `reflex` command in process, as a user would from a directory, and captures what it printed. */
import { main } from '../../src/cli/main.js';
import { repoRoot } from './control-plane.js';

export interface CliResult {
  code: number;
  /** What went to stdout, as a terminal shows it: every printed text ends its line. */
  out: string;
  err: string;
}

/** A printed text as the real stdio writes it (src/cli/io.ts): ending its line. */
const line = (t: string) => (t.endsWith('\n') ? t : `${t}\n`);

/** Runs `reflex ARGS` from `cwd` (default: the repository root, where rules/ and examples/ are); `stdin` is what `-` reads. */
export async function runReflex(args: string[], options: { cwd?: string; stdin?: string } = {}): Promise<CliResult> {
  let out = '';
  let err = '';
  const before = process.cwd();
  process.chdir(options.cwd ?? repoRoot);
  try {
    const stdin = options.stdin === undefined ? undefined : async () => options.stdin as string;
    const code = await main(args, { out: (t) => void (out += line(t)), err: (t) => void (err += line(t)), ...(stdin ? { stdin } : {}) });
    return { code, out, err };
  } finally {
    process.chdir(before);
  }
}
