/** runReflex: runs a `reflex` command in process, as a user would from a directory, and captures what it printed. */
import { main } from '../../src/cli/main.js';
import { repoRoot } from './control-plane.js';

export interface CliResult {
  code: number;
  /** What went to stdout, as a terminal shows it: every printed text ends its line. */
  out: string;
  err: string;
}

/** A printed text as the real stdio writes it (src/cli/main.ts): ending its line. */
const line = (t: string) => (t.endsWith('\n') ? t : `${t}\n`);

/** Runs `reflex ARGS` from `cwd` (default: the repository root, where rules/ and examples/ are). */
export async function runReflex(args: string[], options: { cwd?: string } = {}): Promise<CliResult> {
  let out = '';
  let err = '';
  const before = process.cwd();
  process.chdir(options.cwd ?? repoRoot);
  try {
    const code = await main(args, { out: (t) => void (out += line(t)), err: (t) => void (err += line(t)) });
    return { code, out, err };
  } finally {
    process.chdir(before);
  }
}
