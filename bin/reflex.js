#!/usr/bin/env node
// The reflex command: runs the compiled CLI (npm ci compiles it in `prepare`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('reflex: not compiled yet; run `npm run build` (npm ci does it for you)');
  process.exit(2);
}
const { main: run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
