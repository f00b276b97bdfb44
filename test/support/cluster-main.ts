/**
 * `npm run cluster`: runs the test control plane in the foreground. Prints the admin
 * kubeconfig path once ready; Ctrl-C or SIGTERM stops it cleanly.
 *
 *   npm run cluster [-- --dir DIR]     state in DIR (default: <cache>/dev-cluster, kept between runs)
 *   npm run cluster -- --version 1.35  serve another supported release (default: the newest; state
 *                                      in <cache>/dev-cluster-v1.35.4 unless --dir says)
 *   npm run cluster -- --build-only    build (or find) the binaries of every supported release and exit
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cacheDir, ControlPlaneError, ensureBinary, kubernetesVersion, KUBERNETES_VERSIONS } from './control-plane.js';

function main(): void {
  const args = process.argv.slice(2);
  const versionAt = args.indexOf('--version');
  const wanted = versionAt >= 0 ? args[versionAt + 1] : undefined;
  let bins: string[];
  let version: string;
  try {
    version = kubernetesVersion(wanted);
    const versions = args.includes('--build-only') && wanted === undefined ? KUBERNETES_VERSIONS : [version];
    bins = versions.map((v) => ensureBinary(v));
  } catch (err) {
    process.stderr.write(`${err instanceof ControlPlaneError ? err.message : String(err)}\n`);
    process.exit(1);
  }
  if (args.includes('--build-only')) {
    process.stdout.write(`${bins.join('\n')}\n`);
    return;
  }
  const bin = bins[0];
  const dirAt = args.indexOf('--dir');
  const dir = dirAt >= 0 ? args[dirAt + 1] : join(cacheDir(), version === KUBERNETES_VERSIONS[0] ? 'dev-cluster' : `dev-cluster-${version}`);
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
