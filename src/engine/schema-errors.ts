/** schema-errors: turns ajv's errors into one clear message per problem, placed at the right line and column. */
import type { SchemaError } from './schema.js';
import { ACTION_KINDS } from './types.js';
import type { LineCol, PositionMap } from './yaml-source.js';

/** A schema problem: message and where it is. */
export interface PlacedProblem {
  at: LineCol;
  message: string;
}

/** `/spec/actions/0/delete` → `spec.actions[0].delete`. */
export function fieldPath(pointer: string): string {
  if (pointer === '') return '(document)';
  let out = '';
  for (const seg of pointer.slice(1).split('/')) {
    const s = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^[0-9]+$/.test(s) ? `[${s}]` : out === '' ? s : `.${s}`;
  }
  return out;
}

const isActionItem = (pointer: string) => /^\/spec\/actions\/[0-9]+$/.test(pointer);
const show = (v: unknown) => JSON.stringify(v);
const typeText = (t: unknown) => (Array.isArray(t) ? t.map((x) => (x === 'object' ? 'a mapping' : x === 'array' ? 'a list' : String(x))).join(' or ') : String(t));

/** Formats ajv errors; errors inside an `anyOf` collapse into the anyOf's own "expected …". */
export function describeSchemaErrors(errors: SchemaError[], positions: PositionMap): PlacedProblem[] {
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => e.schemaPath + '/');
  // An `if`/`then`/`else` reports the branch's own errors and then "must match then schema": only the former say something.
  const kept = errors.filter((e) => e.keyword !== 'if' && !anyOfPaths.some((p) => e.schemaPath.startsWith(p)));
  const out: PlacedProblem[] = [];
  for (const e of kept) {
    const path = e.instancePath;
    const field = fieldPath(path);
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'additionalProperties': {
        const extra = String(params.additionalProperty);
        const child = `${path}/${extra.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
        const message = isActionItem(path)
          ? `${field}: unknown action "${extra}"; expected exactly one of ${ACTION_KINDS.join(', ')} (plus an optional forEach)`
          : `${field}: unknown field "${extra}"; expected one of ${allowed.join(', ')}`;
        out.push({ at: positions.keyAt(child), message });
        break;
      }
      case 'required':
        out.push({ at: positions.at(path), message: `${field}: missing required field "${String(params.missingProperty)}"` });
        break;
      case 'enum':
        out.push({
          at: positions.at(path),
          message: `${field}: expected one of ${(params.allowedValues as unknown[]).map((v) => String(v)).join(', ')}; got ${show(e.data)}`,
        });
        break;
      case 'const':
        out.push({ at: positions.at(path), message: `${field}: expected ${show(params.allowedValue)}; got ${show(e.data)}` });
        break;
      case 'anyOf': {
        const expected = (e.parentSchema as Record<string, unknown>)?.['x-expected'] ?? 'a different value';
        out.push({ at: positions.at(path), message: `${field}: expected ${String(expected)}; got ${show(e.data)}` });
        break;
      }
      case 'type':
        out.push({ at: positions.at(path), message: `${field}: expected ${typeText(params.type)}; got ${show(e.data)}` });
        break;
      case 'pattern':
        if (field === 'metadata.name') {
          out.push({ at: positions.at(path), message: `${field}: expected a DNS-1123 name (lowercase letters, digits, "-" and "."); got ${show(e.data)}` });
          break;
        }
        out.push({ at: positions.at(path), message: `${field}: ${show(e.data)} does not match the expected form ${String(params.pattern)}` });
        break;
      case 'minItems':
        out.push({ at: positions.at(path), message: `${field}: expected at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}; got none` });
        break;
      default:
        out.push({ at: positions.at(path), message: `${field}: ${e.message ?? e.keyword}` });
    }
  }
  return out;
}
