/**
 * lookups: the `$get`/`$list` calls an expression makes, read from its syntax tree, with the
 * arguments that are literals. Static checks (tenant confinement, Secret reads) use it; a call
 * whose arguments are computed is reported with those arguments as `dynamic`.
 */
import jsonata from 'jsonata';
import type { Expression } from './expression.js';
import type { TemplateNode } from './template.js';

/** A literal argument (`'v1'`, `null`), or `dynamic` for anything computed; `missing` when not passed. */
export type LookupArg = { literal: string | null } | 'dynamic' | 'missing';

/** One `$get(apiVersion, kind, namespace, name)` or `$list(apiVersion, kind, namespace?, selector?)` call. */
export interface LookupCall {
  fn: 'get' | 'list';
  apiVersion: LookupArg;
  kind: LookupArg;
  namespace: LookupArg;
  /** Index of the `$` of the call in the expression's source. */
  index: number;
}

interface AstNode {
  type?: string;
  value?: unknown;
  position?: number;
  procedure?: AstNode;
  arguments?: AstNode[];
}

/** The lookup calls of a JSONata source (none when it does not parse: the compiler reports that). */
export function lookupCalls(source: string): LookupCall[] {
  let ast: unknown;
  try {
    ast = jsonata(source).ast();
  } catch {
    return [];
  }
  const out: LookupCall[] = [];
  const seen = new Set<unknown>();
  const visit = (n: unknown): void => {
    if (n === null || typeof n !== 'object' || seen.has(n)) return;
    seen.add(n);
    if (Array.isArray(n)) return n.forEach(visit);
    const node = n as AstNode;
    const proc = node.procedure;
    if ((node.type === 'function' || node.type === 'partial') && proc?.type === 'variable' && (proc.value === 'get' || proc.value === 'list')) {
      const args = node.arguments ?? [];
      out.push({
        fn: proc.value,
        apiVersion: argOf(args[0]),
        kind: argOf(args[1]),
        namespace: argOf(args[2]),
        index: Math.max(0, (proc.position ?? 0) - String(proc.value).length - 1),
      });
    }
    for (const v of Object.values(node)) visit(v);
  };
  visit(ast);
  return out;
}

function argOf(n: AstNode | undefined): LookupArg {
  if (n === undefined) return 'missing';
  if (n.type === 'string' && typeof n.value === 'string') return { literal: n.value };
  if (n.type === 'value' && n.value === null) return { literal: null };
  return 'dynamic';
}

/** Every expression of a template, in order. */
export function templateExpressions(node: TemplateNode | undefined): Expression[] {
  if (!node) return [];
  switch (node.t) {
    case 'lit':
      return [];
    case 'expr':
      return [node.e];
    case 'text':
      return node.parts.filter((p): p is Expression => typeof p !== 'string');
    case 'arr':
      return node.items.flatMap(templateExpressions);
    case 'obj':
      return node.entries.flatMap(([, n]) => templateExpressions(n));
  }
}
