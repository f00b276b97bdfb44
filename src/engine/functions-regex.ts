/**
 * functions-regex: every regular expression of a rule runs on re2js, a port of RE2 whose matching
 * time is linear in the input, so no pattern (`/^(a+)+$/`, or one read from an annotation) can
 * stall the daemon. Regex literals reach it through JSONata's `RegexEngine` option; `$regex`
 * builds the same matcher from a string. RE2 has no backreferences and no lookarounds: a pattern
 * using them is an error naming the pattern, at load time for literals.
 */
import { RE2JS } from 're2js';

/** A pattern the linear-time engine cannot compile; `message` names the pattern and the reason. */
export class RegexCompileError extends Error {
  readonly code = 'ERR_REGEX';
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`cannot compile regular expression ${JSON.stringify(pattern)}: ${reason}`);
  }
}

const FLAG_BITS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL, g: 0 };
const cache = new Map<string, RE2JS>();
/** Each regex literal's compiled form (JSONata builds its engine once per evaluation of the literal). */
const literals = new WeakMap<RegExp, RE2JS>();

/** Compiles `pattern` (RE2 syntax; JS's `(?<name>…)` and `\/` accepted) with flags from `ims`; cached. */
export function compileRegex(pattern: string, flags = ''): RE2JS {
  const key = `${flags}/${pattern}`;
  let re = cache.get(key);
  if (re) return re;
  let bits = 0;
  for (const f of flags) {
    if (FLAG_BITS[f] === undefined) throw new RegexCompileError(pattern, `unknown flag "${f}" (expected i, m or s)`);
    bits |= FLAG_BITS[f];
  }
  try {
    re = RE2JS.compile(RE2JS.translateRegExp(pattern), bits);
  } catch (err) {
    const reason = String((err as Error).message ?? err).replace(/^error parsing regexp: /, '');
    throw new RegexCompileError(pattern, `${reason} (the linear-time engine has no backreferences or lookarounds)`);
  }
  if (cache.size >= 1000) cache.clear();
  cache.set(key, re);
  return re;
}

/** What JSONata expects of its RegexEngine: a RegExp-like object with `lastIndex` and `exec`. */
export class Re2RegExp {
  lastIndex = 0;
  private readonly re: RE2JS;
  constructor(source: RegExp | string, flags?: string) {
    if (typeof source === 'string') this.re = compileRegex(source, flags);
    else {
      let re = literals.get(source);
      if (!re) literals.set(source, (re = compileRegex(source.source, source.flags)));
      this.re = re;
    }
  }

  exec(str: string): (RegExpExecArray & { index: number }) | null {
    const m = this.re.matcher(str);
    if (this.lastIndex > str.length || !m.find(this.lastIndex)) {
      this.lastIndex = 0;
      return null;
    }
    const out = [m.group(0) ?? ''] as unknown as RegExpExecArray;
    for (let i = 1, n = m.groupCount(); i <= n; i++) out.push(m.group(i) ?? (undefined as unknown as string));
    out.index = m.start();
    this.lastIndex = m.end();
    return out;
  }
}

/** One match as JSONata's `$match`, `$contains`, `$replace` and `$split` read it. */
export interface MatchResult {
  match: string;
  start: number;
  end: number;
  groups: string[];
  next(): MatchResult | undefined;
}

/** JSONata's matcher function over `re`: the same contract as a regex literal's value. */
export function matcherOf(re: Re2RegExp): (str: string, fromIndex?: number) => MatchResult | undefined {
  const closure = (str: string, fromIndex?: number): MatchResult | undefined => {
    re.lastIndex = fromIndex ?? 0;
    const m = re.exec(str);
    if (m === null) return undefined;
    return {
      match: m[0],
      start: m.index,
      end: m.index + m[0].length,
      groups: m.slice(1) as string[],
      next() {
        if (re.lastIndex >= str.length) return undefined;
        const next = closure(str, re.lastIndex);
        if (next && next.match === '') throw Object.assign(new Error('regular expression matches the empty string'), { code: 'D1004' });
        return next;
      },
    };
  };
  return closure;
}

/** `$regex(pattern, flags?)`: a matcher from a string; undefined for an undefined pattern. */
export function regexFunction(pattern: unknown, flags?: unknown) {
  if (pattern === undefined) return undefined;
  if (typeof pattern !== 'string') throw new RegexCompileError(String(pattern), 'the pattern must be a string');
  if (flags !== undefined && typeof flags !== 'string') throw new RegexCompileError(pattern, 'flags must be a string of i, m, s');
  return matcherOf(new Re2RegExp(pattern, flags));
}
