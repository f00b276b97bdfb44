/** explain-format: an Explanation as the text `reflex explain` prints, one numbered step after another. */
import type { Explanation, RecheckPart, WhenPart } from './explain-steps.js';

const MAX_VALUE = 160;
const mark = (ok: boolean) => (ok ? '✔' : '✘');
const value = (v: unknown) => {
  const s = v === undefined ? 'undefined' : typeof v === 'function' ? '(a function)' : JSON.stringify(v);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE)}…` : s;
};
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();
const ref = (r: { kind: string; namespace?: string; name: string }) => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;

function whenLines(p: WhenPart, indent: string): string[] {
  const result = p.error ? `error: ${p.error}` : typeof p.value === 'boolean' ? String(p.value) : `${value(p.value)} (${p.truthy ? 'truthy' : 'falsy'})`;
  const lines = [`${indent}${p.error ? '!' : mark(p.truthy === true)} ${oneLine(p.source)}  → ${result}`];
  if (p.parts) {
    lines.push(`${indent}  ${p.op === 'and' ? 'all of' : 'any of'}:`);
    for (const q of p.parts) lines.push(...whenLines(q, `${indent}    `));
  }
  return lines;
}

/** What `recheckAt` gave and what the daemon does with it. */
function recheckText(r: RecheckPart, now: number): string {
  const head = `${oneLine(r.source)}  → `;
  if (r.error) return `${head}error: ${r.error}`;
  if (r.at !== undefined) return `${head}${value(r.value)}: evaluated again at ${new Date(r.at).toISOString()} (in ${Math.ceil((r.at - now) / 1000)}s)`;
  return `${head}${value(r.value)}: no re-check (${r.value === undefined || r.value === null ? 'no time' : 'the time is not after now'})`;
}

/** The first reason the rule does not act, or undefined when it does. */
function whyNot(e: Explanation): string | undefined {
  if (!e.selected) return `the watch does not select the object (${e.selection.find((c) => !c.ok)?.what ?? 'selection'})`;
  if (e.rule.suspend) return 'the rule is suspended';
  if (!e.listens) return `the rule does not listen to ${e.event}`;
  if (e.when && e.when.error) return `when failed: ${e.when.error}`;
  if (e.when && !e.when.truthy) return 'when is false';
  if (e.error) return `its actions failed to render: ${e.error}`;
  return undefined;
}

/** The text report. `source` says where the object came from; `now` is the evaluation clock. */
export function formatExplanation(e: Explanation, options: { source: string; now: number }): string {
  const o = e.object;
  const out = [
    `rule    ${e.rule.name}  (${e.rule.source.file})`,
    `object  ${o.apiVersion} ${ref({ kind: String(o.kind), namespace: o.metadata?.namespace, name: String(o.metadata?.name) })}  (from ${options.source})`,
    `event   ${e.event}   now ${new Date(options.now).toISOString()}`,
    '',
    `1. the watch selects the object: ${e.selected ? 'yes' : 'no'}`,
    ...e.selection.map((c) => `   ${mark(c.ok)} ${c.what}: ${c.why}`),
    `2. the rule listens to ${e.event}: ${e.listens ? 'yes' : 'no'} (on: ${e.rule.on.join(', ')}${e.rule.suspend ? '; suspended' : ''})`,
  ];
  if (e.event === 'update' && e.rule.changes) out.push(`   changes: ${oneLine(e.rule.changes.source)} (not checked: explain has no previous state)`);
  if (!e.when) out.push('3. when: (none: always true)');
  else out.push(`3. when: ${e.when.error ? 'error' : e.when.truthy ? 'true' : 'false'}`, ...whenLines(e.when, '   '));
  if (e.recheck) out.push(`   recheckAt: ${recheckText(e.recheck, options.now)}`);
  if (!e.selected) out.push('4. actions: none (not selected)');
  else if (e.error) out.push(`4. actions: cannot render: ${e.error}`);
  else {
    out.push(e.acts ? `4. actions: ${e.actions.length} planned` : `4. actions: none planned; if the rule acted, it would plan ${e.actions.length}:`);
    e.actions.forEach((p, i) => {
      const opts = Object.keys(p.options).length ? `  options ${value(p.options)}` : '';
      out.push(`   [${i}] ${p.action} ${ref(p.target)}${opts}`);
      if (p.body !== null && p.body !== undefined) out.push(`       ${value(p.body)}`);
    });
  }
  const why = whyNot(e);
  out.push('', why ? `verdict: no action, because ${why}` : `verdict: the rule acts on this object (${e.actions.length} action${e.actions.length === 1 ? '' : 's'})`);
  return out.join('\n');
}
