/** Authenticator: the credential headers of each request (token, token file, basic, exec plugin) plus impersonation. */
import { readFile, stat } from 'node:fs/promises';
import { type Clock, realClock } from '../core/index.js';
import type { ConnectionConfig, Impersonation } from './config.js';
import { KubeconfigError } from './errors.js';
import { ExecCredentialPlugin, type ExecPluginOptions } from './exec-plugin.js';

/** Authenticator produces the auth headers of a request and reacts to a 401. */
export interface Authenticator {
  headers(): Promise<Record<string, string | string[]>>;
  /** After a 401: drops cached credentials; true when retrying once may help (a fresh exec credential). */
  unauthorized(): boolean;
}

/** A bearer token in a file, re-read when the file changes (stat on each use) and at least every `maxAgeMs`. */
export class TokenFile {
  private token = '';
  private stamp = '';
  private readAt = -Infinity;

  constructor(
    readonly path: string,
    private readonly clock: Clock = realClock,
    /** Re-read at least this often even if the file looks unchanged, ms. Default 60 000 (client-go's period). */
    private readonly maxAgeMs = 60_000,
  ) {}

  async get(): Promise<string> {
    let stamp: string;
    try {
      const s = await stat(this.path);
      stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      throw new KubeconfigError(`cannot read the token file ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    if (stamp !== this.stamp || this.clock.now() - this.readAt >= this.maxAgeMs) {
      const text = (await readFile(this.path, 'utf8').catch((err: Error) => {
        throw new KubeconfigError(`cannot read the token file ${this.path}: ${err.message}`, { cause: err });
      })).trim();
      if (!text) throw new KubeconfigError(`the token file ${this.path} is empty`);
      this.token = text;
      this.stamp = stamp;
      this.readAt = this.clock.now();
    }
    return this.token;
  }
}

/** The Impersonate-* headers of an identity (none for undefined). */
export function impersonationHeaders(imp: Impersonation | undefined): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = {};
  if (!imp) return h;
  if (imp.user) h['impersonate-user'] = imp.user;
  if (imp.uid) h['impersonate-uid'] = imp.uid;
  // One header line per group or extra value: the server does not split on commas.
  if (imp.groups?.length) h['impersonate-group'] = imp.groups;
  for (const [k, v] of Object.entries(imp.extra ?? {})) h[`impersonate-extra-${encodeURIComponent(k)}`] = v;
  return h;
}

export interface AuthenticatorOptions extends ExecPluginOptions {
  /** Called when an exec plugin returns a client certificate (the transport then uses it). */
  onClientCertificate?: (cert: string, key: string) => void;
}

/** Builds the Authenticator of a connection. */
export function createAuthenticator(config: ConnectionConfig, options: AuthenticatorOptions = {}): Authenticator & { exec?: ExecCredentialPlugin } {
  const imp = impersonationHeaders(config.impersonate);
  const auth = config.auth;
  switch (auth.type) {
    case 'none':
      return { headers: async () => ({ ...imp }), unauthorized: () => false };
    case 'token': {
      const h = { ...imp, authorization: `Bearer ${auth.token}` };
      return { headers: async () => h, unauthorized: () => false };
    }
    case 'basic': {
      const h = { ...imp, authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
      return { headers: async () => h, unauthorized: () => false };
    }
    case 'tokenFile': {
      const file = new TokenFile(auth.path, options.clock);
      return { headers: async () => ({ ...imp, authorization: `Bearer ${await file.get()}` }), unauthorized: () => false };
    }
    case 'exec': {
      const plugin = new ExecCredentialPlugin(auth.exec, {
        ...options,
        cluster: options.cluster ?? { server: config.server, tls: config.tls, proxyUrl: config.proxyUrl },
      });
      return {
        exec: plugin,
        async headers() {
          const cred = await plugin.get();
          if (cred.clientCertificateData && cred.clientKeyData) options.onClientCertificate?.(cred.clientCertificateData, cred.clientKeyData);
          return cred.token ? { ...imp, authorization: `Bearer ${cred.token}` } : { ...imp };
        },
        unauthorized() {
          plugin.invalidate();
          return true;
        },
      };
    }
  }
}
