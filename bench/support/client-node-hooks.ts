/**
 * Module resolution hook (registered by client-node.ts): @kubernetes/client-node 2.x
 * ships undici 8, which needs Node.js >= 22.19; on older Node.js its `undici` import is
 * resolved to this project's undici 7 instead (client-node uses only Agent, ProxyAgent
 * and fetch, whose API is the same).
 */
interface ResolveContext {
  parentURL?: string;
  conditions: string[];
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<unknown>;

const root = new URL('../../../package.json', import.meta.url).href;

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<unknown> {
  if (specifier === 'undici' && context.parentURL?.includes('/@kubernetes/client-node/')) return next(specifier, { ...context, parentURL: root });
  return next(specifier, context);
}
