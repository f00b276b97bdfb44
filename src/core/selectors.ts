/** selectors: shared by the engine (rules) and the informers (listers): label selectors (string and structured forms) and field selectors, parsed once and matched locally. */
import { ReflexError } from './errors.js';
import type { KubeObject } from './object.js';

/** A label selector in structured form (metav1.LabelSelector); the string form parses into the same LabelSelector. */
export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export type LabelOperator = 'in' | 'notin' | 'exists' | '!' | '=' | '!=';

/** One requirement of a label selector. */
export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

/** A parsed label selector; matching is the AND of its requirements. An empty selector matches everything. */
export class LabelSelector {
  constructor(readonly requirements: LabelRequirement[]) {}

  matches(labels: Record<string, string> | undefined): boolean {
    const l = labels ?? {};
    for (const r of this.requirements) {
      const has = Object.prototype.hasOwnProperty.call(l, r.key);
      const v = l[r.key];
      switch (r.operator) {
        case 'exists':
          if (!has) return false;
          break;
        case '!':
          if (has) return false;
          break;
        case '=':
        case 'in':
          if (!has || !r.values.includes(v)) return false;
          break;
        case '!=':
        case 'notin':
          if (has && r.values.includes(v)) return false;
          break;
      }
    }
    return true;
  }

  /** The canonical string form, as sent to the API server. */
  toString(): string {
    return this.requirements
      .map((r) => {
        switch (r.operator) {
          case 'exists':
            return r.key;
          case '!':
            return `!${r.key}`;
          case '=':
          case '!=':
            return `${r.key}${r.operator}${r.values[0]}`;
          default:
            return `${r.key} ${r.operator} (${r.values.join(',')})`;
        }
      })
      .join(',');
  }
}

/** A selector that does not parse; `position` is the 0-based character offset of the problem in the string form. */
export class SelectorSyntaxError extends ReflexError {
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(reason, { code: 'ERR_SELECTOR_SYNTAX' });
  }
}

const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

function checkKey(key: string, at: number): void {
  if (!QUALIFIED_NAME.test(key)) {
    throw new SelectorSyntaxError(`invalid label key "${key}": expected [prefix/]name, name of at most 63 characters [A-Za-z0-9._-]`, at);
  }
}
function checkValue(value: string, at: number): void {
  if (!LABEL_VALUE.test(value)) {
    throw new SelectorSyntaxError(`invalid label value "${value}": expected at most 63 characters [A-Za-z0-9._-], alphanumeric at both ends`, at);
  }
}

/** Parses the string form: `a=b, c!=d, e in (f,g), h notin (i), j, !k` (`==` is `=`). */
export function parseLabelSelector(text: string): LabelSelector {
  const reqs: LabelRequirement[] = [];
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const word = (): string => {
    const start = i;
    while (i < text.length && !/[\s,()=!]/.test(text[i])) i++;
    return text.slice(start, i);
  };
  ws();
  if (i === text.length) return new LabelSelector([]);
  for (;;) {
    ws();
    const start = i;
    if (text[i] === '!') {
      i++;
      ws();
      const at = i;
      const key = word();
      if (!key) throw new SelectorSyntaxError('expected a label key after "!"', at);
      checkKey(key, at);
      reqs.push({ key, operator: '!', values: [] });
    } else {
      const key = word();
      if (!key) throw new SelectorSyntaxError('expected a label key', start);
      checkKey(key, start);
      ws();
      const opAt = i;
      if (text.startsWith('==', i) || text.startsWith('!=', i) || text[i] === '=') {
        const op = text.startsWith('!=', i) ? '!=' : '=';
        i += text.startsWith('==', i) || op === '!=' ? 2 : 1;
        ws();
        const at = i;
        const value = word();
        checkValue(value, at);
        reqs.push({ key, operator: op, values: [value] });
      } else if (i === text.length || text[i] === ',') {
        reqs.push({ key, operator: 'exists', values: [] });
      } else {
        const op = word();
        if (op !== 'in' && op !== 'notin') {
          throw new SelectorSyntaxError(`unknown operator "${op || text[opAt]}": expected =, ==, !=, in, notin, or "," after an existence check`, opAt);
        }
        ws();
        if (text[i] !== '(') throw new SelectorSyntaxError(`expected "(" after ${op}`, i);
        i++;
        const values: string[] = [];
        for (;;) {
          ws();
          const at = i;
          const v = word();
          checkValue(v, at);
          values.push(v);
          ws();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === ')') {
            i++;
            break;
          }
          throw new SelectorSyntaxError(`expected "," or ")" in the values of ${op}`, i);
        }
        reqs.push({ key, operator: op, values });
      }
    }
    ws();
    if (i === text.length) break;
    if (text[i] !== ',') throw new SelectorSyntaxError(`expected "," between requirements, found "${text[i]}"`, i);
    i++;
  }
  return new LabelSelector(reqs);
}

/** Builds a selector from matchLabels/matchExpressions (operators In, NotIn, Exists, DoesNotExist). */
export function labelSelectorFromSpec(spec: LabelSelectorSpec): LabelSelector {
  const reqs: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(spec.matchLabels ?? {})) {
    checkKey(key, 0);
    checkValue(value, 0);
    reqs.push({ key, operator: '=', values: [value] });
  }
  for (const e of spec.matchExpressions ?? []) {
    checkKey(e.key, 0);
    const values = e.values ?? [];
    const needsValues = e.operator === 'In' || e.operator === 'NotIn';
    if (needsValues && values.length === 0) throw new SelectorSyntaxError(`operator ${e.operator} of key "${e.key}" needs at least one value`, 0);
    if (!needsValues && values.length > 0) throw new SelectorSyntaxError(`operator ${e.operator} of key "${e.key}" takes no values`, 0);
    values.forEach((v) => checkValue(v, 0));
    const op: LabelOperator = e.operator === 'In' ? 'in' : e.operator === 'NotIn' ? 'notin' : e.operator === 'Exists' ? 'exists' : '!';
    reqs.push({ key: e.key, operator: op, values });
  }
  return new LabelSelector(reqs);
}

/** Either form. */
export function toLabelSelector(spec: string | LabelSelectorSpec): LabelSelector {
  return typeof spec === 'string' ? parseLabelSelector(spec) : labelSelectorFromSpec(spec);
}

/** One requirement of a field selector: a dotted path compared as text. */
export interface FieldRequirement {
  path: string[];
  field: string;
  operator: '=' | '!=';
  value: string;
}

/** A parsed field selector, evaluated locally on an object's fields (offline mode). */
export class FieldSelector {
  constructor(readonly requirements: FieldRequirement[]) {}

  matches(obj: KubeObject): boolean {
    return this.requirements.every((r) => {
      let v: unknown = obj;
      for (const p of r.path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
      const text = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
      return r.operator === '=' ? text === r.value : text !== r.value;
    });
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${r.value}`).join(',');
  }
}

/** Parses `metadata.name=x,status.phase!=Running` (`==` is `=`). */
export function parseFieldSelector(text: string): FieldSelector {
  const reqs: FieldRequirement[] = [];
  let offset = 0;
  if (text.trim() === '') return new FieldSelector([]);
  for (const part of text.split(',')) {
    const m = /^\s*([A-Za-z0-9_.-]+)\s*(==|!=|=)\s*([^\s]*)\s*$/.exec(part);
    if (!m) throw new SelectorSyntaxError(`invalid field requirement "${part.trim()}": expected FIELD=VALUE, FIELD==VALUE or FIELD!=VALUE`, offset);
    reqs.push({ field: m[1], path: m[1].split('.'), operator: m[2] === '!=' ? '!=' : '=', value: m[3] });
    offset += part.length + 1;
  }
  return new FieldSelector(reqs);
}
