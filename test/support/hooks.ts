/** Mocha root hooks: the shared control plane is stopped once, after the whole run, even when tests fail. */
import { stopSharedControlPlane } from './cluster.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopSharedControlPlane();
  },
};

// A hard stop (Ctrl-C) must not leave a control plane behind.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void stopSharedControlPlane().finally(() => process.exit(130));
  });
}
