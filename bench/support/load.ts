/**
 * Loader: writes ConfigMaps to the control plane over raw HTTP (undici, the admin
 * token), many at a time, independent of src/client so the load does not depend on
 * the code under measurement.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import type { ControlPlane } from '../../test/support/control-plane.js';
import { wallMs } from './proc.js';

/** The payload that makes a ConfigMap ~1 KB as served (with its metadata). */
export const PAYLOAD = 'x'.repeat(850);
/** Objects are spread over this many `bucket` labels; rule i matches bucket i. */
export const BUCKETS = 250;

export const cmName = (i: number): string => `cm-${String(i).padStart(6, '0')}`;

/** The ConfigMap `i` of a benchmark namespace, generation `gen`. */
export function configMap(namespace: string, i: number, gen = 0, seen?: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: cmName(i),
      namespace,
      labels: { app: 'bench', bucket: String(i % BUCKETS) },
      ...(seen === undefined ? {} : { annotations: { seen: String(seen) } }),
    },
    data: { gen: String(gen), payload: PAYLOAD },
  };
}

export interface WriteResult {
  /** Wall clock when the response arrived (the write is committed by then). */
  at: number;
  resourceVersion: string;
}

export class Loader {
  private readonly pool: Pool;
  private readonly token: string;

  constructor(cp: ControlPlane, connections = 32) {
    this.token = cp.state.adminToken;
    this.pool = new Pool(cp.state.server, { connect: { ca: readFileSync(join(cp.dir, 'ca.crt'), 'utf8') }, connections, pipelining: 1 });
  }

  async call(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; text: string }> {
    const res = await this.pool.request({
      method,
      path,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': contentType, accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.statusCode, text: await res.body.text() };
  }

  async ok(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, contentType?: string): Promise<WriteResult> {
    const r = await this.call(method, path, body, contentType);
    const at = wallMs();
    if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    const rv = /"resourceVersion":"(\d+)"/.exec(r.text)?.[1] ?? '';
    return { at, resourceVersion: rv };
  }

  async namespace(name: string): Promise<void> {
    await this.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }

  /** Creates ConfigMaps `from`..`to-1` in `namespace`, `concurrency` at a time. */
  async seed(namespace: string, from: number, to: number, options: { concurrency?: number; seen?: (i: number) => number | undefined } = {}): Promise<void> {
    let next = from;
    await Promise.all(
      Array.from({ length: options.concurrency ?? 32 }, async () => {
        while (next < to) {
          const i = next++;
          await this.ok('POST', `/api/v1/namespaces/${namespace}/configmaps`, configMap(namespace, i, 0, options.seen?.(i)));
        }
      }),
    );
  }

  /** Sets `data.gen` of ConfigMap `i` (a merge patch). */
  bump(namespace: string, i: number, gen: number): Promise<WriteResult> {
    return this.ok('PATCH', `/api/v1/namespaces/${namespace}/configmaps/${cmName(i)}`, { data: { gen: String(gen) } }, 'application/merge-patch+json');
  }

  /** The number of objects of a list as the server counts them (one small request). */
  async count(namespace: string): Promise<number> {
    const r = await this.call('GET', `/api/v1/namespaces/${namespace}/configmaps?limit=1`);
    const m = /"remainingItemCount":(\d+)/.exec(r.text);
    const items = (JSON.parse(r.text) as { items: unknown[] }).items.length;
    return items + (m ? Number(m[1]) : 0);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
