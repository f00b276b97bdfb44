/**
 * Discovery: what the server serves (aggregated discovery apidiscovery.k8s.io/v2, with a
 * fallback to legacy /api + /apis), and the REST mapping GVK ↔ GVR with scope, verbs,
 * subresources and short names. Cached; an unknown kind triggers a refresh, at most one
 * per `minRefreshIntervalMs`, shared by concurrent callers.
 */
import { type Clock, formatApiVersion, type Logger, parseApiVersion, sleep } from '../core/index.js';
import { UnknownKindError } from './errors.js';
import type { Requester } from './request.js';
import type { ResourceInfo } from './types.js';

export const AGGREGATED_DISCOVERY_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

type Dict = Record<string, unknown>;

interface AggregatedResource {
  resource: string;
  responseKind?: { group?: string; version?: string; kind?: string };
  scope?: string;
  verbs?: string[];
  shortNames?: string[];
  subresources?: { subresource: string }[];
}

/** Parses an APIGroupDiscoveryList (the body of /api or /apis with the aggregated Accept header). */
export function parseAggregated(doc: Dict): ResourceInfo[] {
  const out: ResourceInfo[] = [];
  for (const g of (doc.items as Dict[] | undefined) ?? []) {
    const group = String((g.metadata as Dict | undefined)?.name ?? '');
    for (const v of (g.versions as Dict[] | undefined) ?? []) {
      const version = String(v.version);
      for (const r of (v.resources as AggregatedResource[] | undefined) ?? []) {
        const kind = r.responseKind?.kind;
        if (!kind) continue;
        out.push({
          gvk: { group, version, kind },
          gvr: { group, version, resource: r.resource },
          namespaced: r.scope === 'Namespaced',
          verbs: r.verbs ?? [],
          shortNames: r.shortNames ?? [],
          subresources: (r.subresources ?? []).map((s) => s.subresource),
        });
      }
    }
  }
  return out;
}

/** Parses a legacy APIResourceList of one group version; `a/b` entries become subresources of `a`. */
export function parseResourceList(groupVersion: string, doc: Dict): ResourceInfo[] {
  const { group, version } = parseApiVersion(groupVersion);
  const list = (doc.resources as Dict[] | undefined) ?? [];
  const byName = new Map<string, ResourceInfo>();
  for (const r of list) {
    const name = String(r.name);
    if (name.includes('/')) continue;
    byName.set(name, {
      gvk: { group: String(r.group ?? group) || group, version: String(r.version ?? version) || version, kind: String(r.kind) },
      gvr: { group, version, resource: name },
      namespaced: r.namespaced === true,
      verbs: (r.verbs as string[] | undefined) ?? [],
      shortNames: (r.shortNames as string[] | undefined) ?? [],
      subresources: [],
    });
  }
  for (const r of list) {
    const [parent, sub] = String(r.name).split('/');
    if (sub) byName.get(parent)?.subresources.push(sub);
  }
  return [...byName.values()];
}

/** Settles like `p`, or rejects with the signal's reason when it aborts first. */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const key = (apiVersion: string, kind: string) => `${apiVersion}|${kind}`;

export interface DiscoveryOptions {
  /** Least time between two refreshes caused by unknown kinds, ms. Default 1 000. */
  minRefreshIntervalMs?: number;
}

export class Discovery {
  private byKind: Map<string, ResourceInfo> | undefined;
  private refreshing: Promise<void> | undefined;
  private lastRefresh = -Infinity;
  private readonly minInterval: number;
  /** Whether the last refresh used aggregated discovery. */
  aggregated = false;

  constructor(
    private readonly req: Requester,
    private readonly clock: Clock,
    private readonly logger: Logger,
    options: DiscoveryOptions = {},
  ) {
    this.minInterval = options.minRefreshIntervalMs ?? 1_000;
  }

  /** Everything the server serves (from the cache, loading it on first use). */
  async resources(signal?: AbortSignal): Promise<ResourceInfo[]> {
    if (!this.byKind) await this.refresh(signal);
    return [...(this.byKind?.values() ?? [])];
  }

  /** Whether discovery has been loaded at least once. */
  get loaded(): boolean {
    return this.byKind !== undefined;
  }

  /** Resolves apiVersion + kind; an unknown kind refreshes once (rate-bounded) before failing with UnknownKindError. */
  async resolve(apiVersion: string, kind: string, signal?: AbortSignal): Promise<ResourceInfo> {
    if (!this.byKind) await this.refresh(signal);
    let info = this.byKind?.get(key(apiVersion, kind));
    if (info) return info;
    await this.refresh(signal);
    info = this.byKind?.get(key(apiVersion, kind));
    if (!info) throw new UnknownKindError(apiVersion, kind, this.req.server);
    return info;
  }

  /**
   * Reloads discovery; concurrent calls share one load, and loads are at least
   * `minRefreshIntervalMs` apart. A caller's signal abandons its wait, not the shared load.
   */
  refresh(signal?: AbortSignal): Promise<void> {
    this.refreshing ??= (async () => {
      const wait = this.lastRefresh + this.minInterval - this.clock.now();
      if (wait > 0) await sleep(this.clock, wait);
      try {
        const all = await this.load();
        this.byKind = new Map(all.map((r) => [key(formatApiVersion(r.gvk.group, r.gvk.version), r.gvk.kind), r]));
      } finally {
        this.lastRefresh = this.clock.now();
      }
    })().finally(() => (this.refreshing = undefined));
    return abortable(this.refreshing, signal);
  }

  private async load(): Promise<ResourceInfo[]> {
    const get = (path: string, accept?: string) => this.req.json<Dict>({ verb: 'get', resource: `discovery ${path}`, method: 'GET', path, accept });
    const [core, groups] = await Promise.all([get('/api', AGGREGATED_DISCOVERY_ACCEPT), get('/apis', AGGREGATED_DISCOVERY_ACCEPT)]);
    if (core.kind === 'APIGroupDiscoveryList' && groups.kind === 'APIGroupDiscoveryList') {
      this.aggregated = true;
      return [...parseAggregated(core), ...parseAggregated(groups)];
    }
    this.aggregated = false;
    const gvs = [
      ...((core.versions as string[] | undefined) ?? []),
      ...((groups.groups as Dict[] | undefined) ?? []).flatMap((g) => ((g.versions as Dict[] | undefined) ?? []).map((v) => String(v.groupVersion))),
    ];
    const lists = await Promise.all(
      gvs.map(async (gv) => {
        try {
          return parseResourceList(gv, await get(gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`));
        } catch (err) {
          // An unavailable aggregated API must not hide the rest of the server.
          this.logger.debug('discovery of a group version failed', { groupVersion: gv, error: (err as Error).message });
          return [];
        }
      }),
    );
    return lists.flat();
  }
}
