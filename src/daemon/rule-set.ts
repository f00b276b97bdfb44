/**
 * RuleSet: the rules in force, rebuilt from every source on each reload. A document
 * that fails to load keeps the previous good version of what it defined running.
 */
import { loadRulesStepwise, type CompiledRule, type LoadOptions, type RuleLoadError, type RuleSource } from '../engine/index.js';

/** The outcome of one reload. */
export interface RuleSetUpdate {
  /** The rules in force after the reload, by name. */
  rules: Map<string, CompiledRule>;
  /** Every load problem of this reload. */
  errors: RuleLoadError[];
  /** What loads but deserves a look (a deprecated kind). */
  warnings: RuleLoadError[];
  /** Rules kept at their previous version because their new document failed to load. */
  kept: string[];
}

const docKey = (file: string, document: number) => `${file}#${document}`;

export class RuleSet {
  /** The last good rule per source document. */
  private good = new Map<string, CompiledRule>();

  constructor(private readonly options: LoadOptions = {}) {}

  /**
   * Loads `sources` (all of them: a source left out is a source removed). A rule whose
   * document failed keeps its previous version, if it had one from the same document.
   * Loading pauses for the event loop every `sliceMs` (default 20 ms), so probes stay answered
   * while thousands of rules load.
   */
  async reload(sources: RuleSource[], options: { sliceMs?: number } = {}): Promise<RuleSetUpdate> {
    const { rules, errors, warnings } = await stepThrough(loadRulesStepwise(sources, this.options), options.sliceMs ?? 20);
    const next = new Map<string, CompiledRule>();
    for (const r of rules) next.set(docKey(r.source.file, r.source.document), r);
    const names = new Set(rules.map((r) => r.name));
    const kept: string[] = [];
    const files = new Set(sources.map((s) => s.file));
    for (const err of errors) {
      const key = docKey(err.location.file, err.location.document);
      const prev = this.good.get(key);
      if (!prev || next.has(key) || !files.has(err.location.file) || names.has(prev.name)) continue;
      next.set(key, prev);
      names.add(prev.name);
      kept.push(prev.name);
    }
    this.good = next;
    const byName = new Map<string, CompiledRule>();
    for (const r of next.values()) byName.set(r.name, r);
    return { rules: byName, errors, warnings, kept };
  }
}

/** Runs a generator to its end, giving the event loop a turn whenever `sliceMs` have passed since the last. */
export async function stepThrough<T>(steps: Generator<void, T, void>, sliceMs: number): Promise<T> {
  let due = performance.now() + sliceMs;
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() >= due) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      due = performance.now() + sliceMs;
    }
  }
}
