/**
 * `npm run cluster`: runs the test control plane in the foreground. Prints the admin
 * kubeconfig path once ready; Ctrl-C or SIGTERM stops it cleanly.
 *
 *   npm run cluster [-- --dir DIR]     state in DIR (default: <cache>/dev-cluster, kept between runs)
 *   npm run cluster -- --build-only    build (or find) the cached binary and exit
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cacheDir, ControlPlaneError, ensureBinary } from './control-plane.js';

function main(): void {
  const args = process.argv.slice(2);
  let bin: string;
  try {
    bin = ensureBinary();
  } catch (err) {
    process.stderr.write(`${err instanceof ControlPlaneError ? err.message : String(err)}\n`);
    process.exit(1);
  }
  if (args.includes('--build-only')) {
    process.stdout.write(`${bin}\n`);
    return;
  }
  const dirAt = args.indexOf('--dir');
  const dir = dirAt >= 0 ? args[dirAt + 1] : join(cacheDir(), 'dev-cluster');
  process.stderr.write(`starting the control plane (state in ${dir}, log in ${join(dir, 'control-plane.log')})…\n`);
  const child = spawn(bin, ['--dir', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  process.on('SIGINT', forward('SIGINT'));
  process.on('SIGTERM', forward('SIGTERM'));
  child.on('exit', (code, signal) => {
    if (code === 0 || signal === 'SIGINT' || signal === 'SIGTERM') {
      process.stderr.write('control plane stopped\n');
      process.exit(0);
    }
    process.stderr.write(`control plane exited with ${code ?? signal} (see ${join(dir, 'control-plane.log')})\n`);
    process.exit(1);
  });
}

main();
