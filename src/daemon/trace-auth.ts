/**
 * trace-auth: who may read `/traces` on an exposed listener, asked of the API server as
 * controller-runtime's secure metrics serving does: a TokenReview says who the bearer is, a
 * SubjectAccessReview whether they may `get` the non-resource URL `/traces`. Answers are cached
 * for `ttlMs` per token (hashed), so a reconnecting client costs no extra requests.
 */
import { createHash } from 'node:crypto';
import { errorMessage, ReflexError, type Clock, type KubeObject } from '../core/index.js';
import type { KubeClient } from '../client/index.js';
import type { TraceAuthenticator } from './trace-stream.js';

type Verdict = Awaited<ReturnType<TraceAuthenticator>>;

/** A TraceAuthenticator on the daemon's client; needs `create` on tokenreviews and subjectaccessreviews. */
export function kubeTraceAuthenticator(client: KubeClient, clock: Clock, options: { ttlMs?: number } = {}): TraceAuthenticator {
  const ttl = options.ttlMs ?? 10_000;
  const cache = new Map<string, { at: number; verdict: Verdict }>();
  return async (token, signal) => {
    const key = createHash('sha256').update(token).digest('hex');
    const hit = cache.get(key);
    if (hit && clock.now() - hit.at < ttl) return hit.verdict;
    const verdict = await review(client, token, signal);
    if (cache.size > 1000) cache.clear();
    cache.set(key, { at: clock.now(), verdict });
    return verdict;
  };
}

async function review(client: KubeClient, token: string, signal: AbortSignal): Promise<Verdict> {
  let tr: KubeObject & { status?: { authenticated?: boolean; error?: string; user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> } } };
  try {
    tr = await client.create({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token } } as KubeObject, { signal });
  } catch (err) {
    throw new ReflexError(`TokenReview failed: ${errorMessage(err)}`, { code: 'ERR_TRACE_AUTH', cause: err });
  }
  const user = tr.status?.user;
  if (!tr.status?.authenticated || !user?.username) return { allowed: false, status: 401, reason: 'the token is not valid' };
  const sar = (await client.create(
    {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      metadata: {},
      spec: { user: user.username, uid: user.uid, groups: user.groups, extra: user.extra, nonResourceAttributes: { path: '/traces', verb: 'get' } },
    } as KubeObject,
    { signal },
  )) as KubeObject & { status?: { allowed?: boolean } };
  if (!sar.status?.allowed) return { allowed: false, status: 403, reason: `${user.username} may not get /traces` };
  return { allowed: true, user: user.username };
}
