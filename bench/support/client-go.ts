/** Builds bench/client-go (a client-go shared informer) like the test control plane is built, cached beside it. */
import { join } from 'node:path';
import { repoRoot } from '../../test/support/control-plane.js';
import { ensureGoBinary } from '../../test/support/go-build.js';

export { goVersion } from '../../test/support/go-build.js';

/** The client-go benchmark binary, built when not cached yet. Throws with go's last lines when the build fails. */
export function clientGoBinary(log: (line: string) => void): string {
  return ensureGoBinary(
    { name: 'bench-client-go', moduleDir: join(repoRoot, 'bench', 'client-go'), pkg: '.', version: 'bench', ldflags: '-s -w', buildNote: 'a minute or two' },
    log,
  );
}
