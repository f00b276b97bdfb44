/** Label selectors: parse the API server's selector syntax once, then match labels locally. */
import { ReflexError } from '../core/index.js';

/** One requirement of a selector, e.g. `tier in (web, api)`. */
export interface Requirement {
  key: string;
  operator: 'Equals' | 'NotEquals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

/** A parsed label selector: every requirement must hold. The empty selector matches everything. */
export interface LabelSelector {
  readonly requirements: readonly Requirement[];
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

/** A selector string the API server would reject; the message names the offending text. */
export class LabelSelectorError extends ReflexError {
  constructor(
    readonly selector: string,
    detail: string,
  ) {
    super(`invalid label selector ${JSON.stringify(selector)}: ${detail}`, { code: 'ERR_LABEL_SELECTOR' });
  }
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms.map((t) => t.trim()).filter((t) => t.length > 0);
}

const SET_TERM = /^([^\s!=()]+)\s+(in|notin)\s*\(([^()]*)\)$/;
const EQ_TERM = /^([^\s!=()]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/;
const EXISTS_TERM = /^(!?)\s*([^\s!=()]+)$/;

function parseTerm(selector: string, term: string): Requirement {
  let m = SET_TERM.exec(term);
  if (m) {
    const values = m[3].split(',').map((v) => v.trim()).filter((v) => v.length > 0);
    return { key: m[1], operator: m[2] === 'in' ? 'In' : 'NotIn', values };
  }
  m = EQ_TERM.exec(term);
  if (m) return { key: m[1], operator: m[2] === '!=' ? 'NotEquals' : 'Equals', values: [m[3]] };
  m = EXISTS_TERM.exec(term);
  if (m) return { key: m[2], operator: m[1] ? 'DoesNotExist' : 'Exists', values: [] };
  throw new LabelSelectorError(selector, `cannot parse ${JSON.stringify(term)}; expected key=value, key!=value, key in (a,b), key notin (a,b), key or !key`);
}

function holds(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = labels[r.key];
  switch (r.operator) {
    case 'Equals':
      return has && value === r.values[0];
    case 'NotEquals':
      return !has || value !== r.values[0];
    case 'In':
      return has && r.values.includes(value);
    case 'NotIn':
      return !has || !r.values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

/** Parses a selector such as `app=web,tier in (a, b),!legacy`; throws LabelSelectorError when malformed. */
export function parseLabelSelector(selector: string | undefined): LabelSelector {
  const requirements = splitTerms(selector ?? '').map((t) => parseTerm(selector ?? '', t));
  return {
    requirements,
    matches(labels) {
      const l = labels ?? {};
      return requirements.every((r) => holds(r, l));
    },
  };
}
