/**
 * options: the planned options the executor interprets, and the type each must have. The engine
 * checks every rendered field before planning; this is the executor's own guard for a plan made
 * elsewhere, so an option of the wrong type fails the action instead of being dropped or defaulted.
 */
import type { PlannedAction } from '../engine/index.js';

type Check = [expected: string, ok: (v: unknown) => boolean];

const bool: Check = ['a boolean', (v) => typeof v === 'boolean'];
const oneOf = (...values: string[]): Check => [`one of ${values.join(', ')}`, (v) => values.includes(v as string)];
const text: Check = ['text', (v) => typeof v === 'string'];

/** By action: option → its check. Options not listed are not read by the executor. */
const OPTIONS: Partial<Record<PlannedAction['action'], Record<string, Check>>> = {
  apply: { force: bool },
  create: { ifExists: oneOf('skip', 'fail') },
  patch: { type: oneOf('merge', 'json', 'strategic'), subresource: text, ignoreMissing: bool },
  delete: {
    propagationPolicy: oneOf('Foreground', 'Background', 'Orphan'),
    gracePeriodSeconds: ['an integer >= 0', (v) => Number.isInteger(v) && (v as number) >= 0],
    ignoreMissing: bool,
    prune: bool,
  },
  log: { level: oneOf('debug', 'info', 'warn', 'error') },
  webhook: { timeout: ['a duration like 5s or milliseconds', (v) => (typeof v === 'number' && Number.isInteger(v) && v > 0) || (typeof v === 'string' && /^([0-9]+(ms|s|m|h))+$/.test(v))] },
};

/** The first option of `p` of the wrong type: its name, what it expects and what it is; undefined when all are fine. */
export function wrongOption(p: PlannedAction): { option: string; expected: string; got: unknown } | undefined {
  const checks = OPTIONS[p.action] ?? {};
  for (const [option, v] of Object.entries(p.options ?? {})) {
    const check = checks[option];
    if (check && v !== undefined && !check[1](v)) return { option, expected: check[0], got: v };
  }
  return undefined;
}
