/** Server `Warning` headers: parsed, handed to listeners, logged once per distinct message. */
import type { Logger } from '../core/index.js';
import type { ServerWarning } from './types.js';

/**
 * Parses Warning header values (RFC 7234: `299 - "text" ["date"]`, several per
 * header separated by commas). Values that do not parse are kept whole as the text.
 */
export function parseWarnings(value: string | string[] | undefined): ServerWarning[] {
  if (value === undefined) return [];
  const out: ServerWarning[] = [];
  for (const line of Array.isArray(value) ? value : [value]) {
    const re = /\s*(\d{3})\s+(\S+)\s+"((?:[^"\\]|\\.)*)"(?:\s+"[^"]*")?\s*(?:,|$)/y;
    let pos = 0;
    let ok = true;
    while (pos < line.length) {
      re.lastIndex = pos;
      const m = re.exec(line);
      if (!m) {
        ok = false;
        break;
      }
      out.push({ code: Number(m[1]), agent: m[2], text: m[3].replace(/\\(.)/g, '$1') });
      pos = re.lastIndex;
    }
    if (!ok && line.trim()) out.push({ code: 299, agent: '-', text: line.trim() });
  }
  return out;
}

/** Most distinct messages remembered for log de-duplication. */
const MAX_REMEMBERED = 1_000;

/** Fans warnings out to listeners and logs each distinct text once. */
export class WarningHandler {
  private readonly listeners = new Set<(w: ServerWarning) => void>();
  private readonly logged = new Set<string>();

  constructor(private readonly logger: Logger) {}

  on(listener: (w: ServerWarning) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  handle(header: string | string[] | undefined, context: { verb: string; resource: string }): void {
    for (const w of parseWarnings(header)) {
      if (!this.logged.has(w.text)) {
        if (this.logged.size >= MAX_REMEMBERED) this.logged.clear();
        this.logged.add(w.text);
        this.logger.warn(`API server warning: ${w.text}`, { verb: context.verb, resource: context.resource });
      }
      for (const l of this.listeners) {
        try {
          l(w);
        } catch {
          /* a listener's failure is its own */
        }
      }
    }
  }
}
