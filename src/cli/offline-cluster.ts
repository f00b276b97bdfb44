/** offline-cluster: manifests as the whole cluster state, for `reflex dry-run`: a lister, kind scopes from built-ins and CRDs. */
import { loadAll, YAMLException } from 'js-yaml';
import { objectKey, type KubeObject } from '../core/index.js';
import { builtinKind, type KindScope, type ObjectLister } from '../engine/index.js';

/** A manifest problem, `file:line:col: message`. */
export interface ManifestProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

const isObj = (v: unknown): v is KubeObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses manifest files into objects (items of `kind: List` flattened); problems are collected, never thrown. */
export function parseManifests(sources: { file: string; text: string }[]): { objects: KubeObject[]; problems: ManifestProblem[] } {
  const objects: KubeObject[] = [];
  const problems: ManifestProblem[] = [];
  const seen = new Map<string, string>();
  for (const src of sources) {
    let docs: unknown[];
    try {
      docs = loadAll(src.text, { filename: src.file });
    } catch (err) {
      const mark = err instanceof YAMLException ? err.mark : undefined;
      problems.push({ file: src.file, line: (mark?.line ?? 0) + 1, column: (mark?.column ?? 0) + 1, message: `invalid YAML: ${err instanceof YAMLException ? err.reason : String(err)}` });
      continue;
    }
    docs.forEach((doc, i) => {
      if (doc === null || doc === undefined) return;
      const items = isObj(doc) && typeof doc.kind === 'string' && doc.kind.endsWith('List') && Array.isArray(doc.items) ? doc.items : [doc];
      for (const item of items) {
        if (!isObj(item) || typeof item.apiVersion !== 'string' || typeof item.kind !== 'string' || typeof item.metadata?.name !== 'string') {
          problems.push({ file: src.file, line: 1, column: 1, message: `document ${i + 1}: expected a Kubernetes object with apiVersion, kind and metadata.name` });
          continue;
        }
        // A cluster holds one object per identity: a second definition is a mistake, not a second object.
        const id = identity(item);
        const first = seen.get(id);
        if (first !== undefined) {
          problems.push({ file: src.file, line: 1, column: 1, message: `document ${i + 1}: ${describeObject(item)} is defined again (first in ${first}); a cluster holds one object per name, the later definition is ignored` });
          continue;
        }
        seen.set(id, src.file);
        objects.push(item);
      }
    });
  }
  return { objects, problems };
}

/** Group, kind, namespace and name: what makes two manifests the same object (the version does not). */
function identity(o: KubeObject): string {
  const av = String(o.apiVersion);
  const group = av.includes('/') ? av.slice(0, av.indexOf('/')) : '';
  return `${group}|${o.kind}|${o.metadata?.namespace ?? ''}|${o.metadata?.name}`;
}

function describeObject(o: KubeObject): string {
  return `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
}

interface CrdScope {
  group: string;
  versions: string[];
  kind: string;
  scope: KindScope;
}

function crdScopes(objects: KubeObject[]): CrdScope[] {
  return objects
    .filter((o) => o.apiVersion === 'apiextensions.k8s.io/v1' && o.kind === 'CustomResourceDefinition')
    .map((o) => {
      const spec = (o.spec ?? {}) as { group?: string; scope?: string; names?: { kind?: string }; versions?: { name?: string }[] };
      return {
        group: String(spec.group ?? ''),
        versions: (spec.versions ?? []).map((v) => String(v.name ?? '')),
        kind: String(spec.names?.kind ?? ''),
        scope: spec.scope === 'Cluster' ? ('Cluster' as const) : ('Namespaced' as const),
      };
    });
}

/**
 * OfflineCluster: the manifests as cluster state. Namespaced objects without a namespace land in
 * `defaultNamespace` (`-n`; default `default`, as kubectl would put them); cluster-scoped objects
 * lose a stray namespace.
 */
export class OfflineCluster implements ObjectLister {
  readonly objects: KubeObject[];
  private readonly crds: CrdScope[];
  private readonly byKind = new Map<string, KubeObject[]>();

  constructor(
    objects: KubeObject[],
    private readonly defaultNamespace = 'default',
  ) {
    this.crds = crdScopes(objects);
    this.objects = objects.map((o) => this.normalize(o));
    for (const o of this.objects) {
      const k = `${o.apiVersion}|${o.kind}`;
      const list = this.byKind.get(k) ?? [];
      list.push(o);
      this.byKind.set(k, list);
    }
  }

  /** Scope of a kind: built-in table first, then the CRDs in the manifests. */
  scopeOf = (apiVersion: string, kind: string): KindScope | undefined => {
    const b = builtinKind(apiVersion, kind);
    if (b) return b.scope;
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    return this.crds.find((c) => c.group === group && c.kind === kind && c.versions.includes(version))?.scope;
  };

  private normalize(o: KubeObject): KubeObject {
    const scope = this.scopeOf(String(o.apiVersion), String(o.kind));
    const metadata = { ...(o.metadata ?? {}) };
    if (scope === 'Namespaced' && !metadata.namespace) metadata.namespace = this.defaultNamespace;
    if (scope === 'Cluster') delete metadata.namespace;
    return { ...o, metadata };
  }

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return (this.byKind.get(`${apiVersion}|${kind}`) ?? []).find((o) => o.metadata?.name === name && (o.metadata?.namespace ?? undefined) === (namespace || undefined));
  }

  list(apiVersion: string, kind: string, namespace: string | undefined): KubeObject[] {
    const all = this.byKind.get(`${apiVersion}|${kind}`) ?? [];
    return namespace ? all.filter((o) => o.metadata?.namespace === namespace) : all;
  }

  /** Objects of a kind in key order (namespace/name), for deterministic sweeps. */
  sorted(apiVersion: string, kind: string): KubeObject[] {
    return [...(this.byKind.get(`${apiVersion}|${kind}`) ?? [])].sort((a, b) => (objectKey(a) < objectKey(b) ? -1 : objectKey(a) > objectKey(b) ? 1 : 0));
  }
}
