/**
 * limits: the size bounds of one evaluation. A rule's expressions may not build a string longer
 * than MAX_STRING characters or an array longer than MAX_ARRAY items (docs/rules.md, "Limits");
 * the walkers here (canonical JSON, JSON text) stop at those bounds instead of expanding a value
 * that shares its parts (`[$a, $a]` doubled thirty times) into gigabytes.
 */

/** Longest string an evaluation may build: 4 Mi characters (more than the API server accepts in a request, 3 MiB). */
export const MAX_STRING = 4 * 1024 * 1024;

/** Longest array an evaluation may build: 1 Mi items. */
export const MAX_ARRAY = 1024 * 1024;

/** The error of an evaluation that went past a size bound. */
export class EvaluationLimitError extends Error {
  readonly code = 'ERR_EVAL_LIMIT';
}

export const tooLong = (what: string) =>
  new EvaluationLimitError(`${what} would be longer than the evaluation limit of ${MAX_STRING.toLocaleString('en-US')} characters`);

/** JSON text of `v` with object keys sorted, or undefined for undefined; throws EvaluationLimitError past MAX_STRING. */
export function canonicalJson(v: unknown): string | undefined {
  if (v === undefined || typeof v === 'function') return undefined;
  const out: string[] = [];
  let size = 0;
  const push = (s: string) => {
    size += s.length;
    if (size > MAX_STRING) throw tooLong('the canonical JSON of the value');
    out.push(s);
  };
  const walk = (x: unknown): void => {
    if (x === null || typeof x !== 'object') {
      push(typeof x === 'number' && !Number.isFinite(x) ? 'null' : JSON.stringify(x));
      return;
    }
    if (Array.isArray(x)) {
      push('[');
      let first = true;
      for (const item of x) {
        if (item === undefined || typeof item === 'function') continue;
        if (!first) push(',');
        first = false;
        walk(item);
      }
      push(']');
      return;
    }
    push('{');
    let first = true;
    for (const k of Object.keys(x).sort()) {
      const item = (x as Record<string, unknown>)[k];
      if (item === undefined || typeof item === 'function') continue;
      push(`${first ? '' : ','}${JSON.stringify(k)}:`);
      first = false;
      walk(item);
    }
    push('}');
  };
  walk(v);
  return out.join('');
}
