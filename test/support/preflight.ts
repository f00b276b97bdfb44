/**
 * Preflight of `npm test`: makes sure the control plane can run before mocha
 * starts, so a missing Go or a broken build fails the run with one line.
 * REFLEX_SKIP_CLUSTER=1 skips it (unit tests only) and says so loudly.
 */
import { ControlPlaneError, ensureBinary } from './control-plane.js';

if (process.env.REFLEX_SKIP_CLUSTER === '1') {
  process.stderr.write('!!! REFLEX_SKIP_CLUSTER=1: integration tests will be SKIPPED (unit tests only) !!!\n');
} else {
  try {
    ensureBinary();
  } catch (err) {
    process.stderr.write(`npm test: ${err instanceof ControlPlaneError ? err.message : String(err)}\n`);
    process.stdout.write('0 passed, 1 failed\n');
    process.exit(1);
  }
}
