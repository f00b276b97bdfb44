/**
 * Preflight of `npm test`: builds (or finds) the control plane of every supported Kubernetes
 * version (the full suite runs on the newest, the smoke suite on the oldest) and helm before
 * mocha starts, so a missing Go or a broken build fails the run with one line.
 * REFLEX_SKIP_CLUSTER=1 skips it (unit tests only) and says so loudly.
 */
import { ensureBinary, KUBERNETES_VERSIONS } from './control-plane.js';
import { ensureHelm } from './helm.js';

if (process.env.REFLEX_SKIP_CLUSTER === '1') {
  process.stderr.write('!!! REFLEX_SKIP_CLUSTER=1: integration tests will be SKIPPED (unit tests only) !!!\n');
} else {
  try {
    for (const version of KUBERNETES_VERSIONS) ensureBinary(version);
    ensureHelm(); // the chart tests render with it
  } catch (err) {
    process.stderr.write(`npm test: ${err instanceof Error ? err.message : String(err)}\n`);
    process.stdout.write('0 passed, 1 failed\n');
    process.exit(1);
  }
}
