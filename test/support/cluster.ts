/**
 * The shared control plane of one test run and the per-test namespace fixture.
 *
 * `useCluster()` in an integration suite starts the control plane on first use
 * (one per test run, not per test), and gives each test its own namespace. The
 * root hook in hooks.ts stops it after the run, even when tests fail.
 */
import { ControlPlane } from './control-plane.js';
import { AdminRest } from './admin-rest.js';

let shared: Promise<ControlPlane> | undefined;

/** The control plane of this test run, started on first call. */
export function sharedControlPlane(): Promise<ControlPlane> {
  shared ??= ControlPlane.start();
  return shared;
}

/** Stops the shared control plane if it was started. */
export async function stopSharedControlPlane(): Promise<void> {
  if (!shared) return;
  const cp = await shared.catch(() => undefined);
  shared = undefined;
  await cp?.stop();
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
 */
export function useCluster(options: { namespace?: boolean } = {}): ClusterFixture {
  const fx = {} as ClusterFixture;
  before(async function () {
    this.timeout(30 * 60_000); // a cold build of the control plane takes minutes
    fx.cp = await sharedControlPlane();
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
