/** Test helpers of the client suites. */
import { fileURLToPath } from 'node:url';

/** Absolute path of a fixture in test/client/fixtures (tests run from dist/test/client). */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../../test/client/fixtures/${name}`, import.meta.url));
}

/** Polls `check` every 20 ms until it is truthy or `ms` pass. */
export async function until(check: () => boolean | Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
