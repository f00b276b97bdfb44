/**
 * The shared control plane of one test run and the per-test namespace fixture.
 *
 * `useCluster()` in an integration suite starts the control plane on first use
 * (one per test run and Kubernetes version, not per test), and gives each test its own
 * namespace. The root hook in hooks.ts stops it after the run, even when tests fail.
 */
import { ControlPlane, KUBERNETES_VERSION } from './control-plane.js';
import { AdminRest } from './admin-rest.js';

const shared = new Map<string, Promise<ControlPlane>>();

/** The control plane of this test run serving `version` (default: the suite's), started on first call. */
export function sharedControlPlane(version = KUBERNETES_VERSION): Promise<ControlPlane> {
  let cp = shared.get(version);
  if (!cp) {
    cp = ControlPlane.start({ version });
    shared.set(version, cp);
  }
  return cp;
}

/** Stops every shared control plane that was started. */
export async function stopSharedControlPlane(): Promise<void> {
  const all = [...shared.values()];
  shared.clear();
  await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.stop()));
}

export interface ClusterFixture {
  /** The running control plane. */
  cp: ControlPlane;
  /** Admin REST access for set-up and checks. */
  admin: AdminRest;
  /** This test's namespace (created before it, deleted after it). */
  ns: string;
}

let counter = 0;

/** Makes a DNS-1123 namespace name from a test title. */
function namespaceFor(title: string): string {
  const slug = title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
  return `t-${slug || 'test'}-${(++counter).toString(36)}${Math.random().toString(36).slice(2, 6)}`.replace(/-+/g, '-');
}

/**
 * Declares the cluster fixture in a describe block: the returned object is filled
 * in before each test. Namespaces are deleted after each test without waiting.
 * `version` picks the Kubernetes release (one of KUBERNETES_VERSIONS; default the suite's).
 */
export function useCluster(options: { namespace?: boolean; version?: string } = {}): ClusterFixture {
  const fx = {} as ClusterFixture;
  before(async function () {
    this.timeout(30 * 60_000); // a cold build of the control plane takes minutes
    fx.cp = await sharedControlPlane(options.version);
    fx.admin = AdminRest.fromState(fx.cp.dir, fx.cp.state);
  });
  if (options.namespace !== false) {
    beforeEach(async function () {
      fx.ns = namespaceFor(this.currentTest?.title ?? 'test');
      await fx.admin.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: fx.ns } });
    });
    afterEach(async () => {
      if (fx.ns) await fx.admin.call('DELETE', `/api/v1/namespaces/${fx.ns}`).catch(() => undefined);
    });
  }
  after(async () => {
    await fx.admin?.close();
  });
  return fx;
}
