/**
 * AdminRest: a minimal HTTPS client for test fixtures (namespaces, set-up and
 * checks), independent of src/client so the harness never depends on the code it tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import type { ControlPlaneState } from './control-plane.js';

export interface RestResponse<T = unknown> {
  status: number;
  body: T;
}

export class AdminRest {
  private readonly agent: Agent;

  constructor(
    readonly server: string,
    private readonly token: string,
    ca: string,
  ) {
    this.agent = new Agent({ connect: { ca }, connections: 16 });
  }

  /** A client for the control plane saved in `dir`, as the admin (or the no-grants user). */
  static fromState(dir: string, state: ControlPlaneState, user: 'admin' | 'nogrants' = 'admin'): AdminRest {
    const ca = readFileSync(join(dir, 'ca.crt'), 'utf8');
    return new AdminRest(state.server, user === 'admin' ? state.adminToken : state.noGrantsToken, ca);
  }

  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<RestResponse<T>> {
    const res = await request(this.server + path, {
      method: method as 'GET',
      dispatcher: this.agent,
      headers: { authorization: `Bearer ${this.token}`, 'content-type': contentType, accept: 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.statusCode, body: parsed as T };
  }

  /** A GET answered as bytes, with `accept` (e.g. protobuf). */
  async raw(path: string, accept: string): Promise<{ status: number; contentType: string; bytes: Buffer }> {
    const res = await request(this.server + path, { method: 'GET', dispatcher: this.agent, headers: { authorization: `Bearer ${this.token}`, accept } });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, contentType: String(res.headers['content-type'] ?? ''), bytes };
  }

  /** Like `call`, but throws unless the status is 2xx. */
  async ok<T = Record<string, unknown>>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.call<T>(method, path, body, contentType);
    if (res.status < 200 || res.status > 299) {
      throw new Error(`${method} ${path}: HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    return res.body;
  }

  /** Polls `check` every 100 ms until it returns a truthy value or `timeoutMs` passes. */
  async eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await check();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
