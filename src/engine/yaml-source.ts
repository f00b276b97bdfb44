/**
 * yaml-source: parses a multi-document YAML text and keeps, for every node, where it sits in the
 * file, so schema, JSONata and semantic errors can name a line and a column.
 */
import {
  constructFromEvents,
  EVENT_ID,
  getScalarValue,
  parseEvents,
  SCALAR_STYLE,
  type Event,
  type ScalarEvent,
  YAMLException,
} from 'js-yaml';

/** 1-based line and column. */
export interface LineCol {
  line: number;
  column: number;
}

interface NodeInfo {
  /** Offset of the node's value in the text. */
  offset: number;
  /** Offset of its key, for members of a mapping. */
  keyOffset?: number;
  scalar?: ScalarEvent;
}

/** Converts offsets in a text to 1-based lines and columns. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  at(offset: number): LineCol {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] + 1 };
  }
}

/** Escapes one JSON-pointer segment (RFC 6901), as ajv's instancePath does. */
export const pointerSegment = (s: string | number): string => String(s).replace(/~/g, '~0').replace(/\//g, '~1');

/** Where the nodes of one document are: looked up by JSON pointer (`/spec/actions/0`). */
export class PositionMap {
  constructor(
    private readonly lines: LineIndex,
    private readonly nodes: Map<string, NodeInfo>,
    private readonly start: number,
  ) {}

  private nearest(pointer: string): NodeInfo | undefined {
    let p = pointer;
    for (;;) {
      const n = this.nodes.get(p);
      if (n) return n;
      if (p === '') return undefined;
      p = p.slice(0, p.lastIndexOf('/'));
    }
  }

  /** Position of the node's value (or of its nearest existing ancestor). */
  at(pointer: string): LineCol {
    const n = this.nearest(pointer);
    return this.lines.at(n ? n.offset : this.start);
  }

  /** Position of the node's key when it is a mapping member, else of its value. */
  keyAt(pointer: string): LineCol {
    const n = this.nearest(pointer);
    return this.lines.at(n ? (n.keyOffset ?? n.offset) : this.start);
  }

  /**
   * Position of character `index` of the decoded string at `pointer`, inside its YAML scalar.
   * Exact for plain, quoted and literal scalars on one line and for literal blocks; for folded
   * blocks and multi-line flow scalars each line break counts as one character, which is exact
   * unless the scalar has blank or more-indented lines (then the column may be off on that line).
   */
  inScalar(pointer: string, index: number): LineCol {
    const n = this.nodes.get(pointer);
    if (!n?.scalar) return this.at(pointer);
    return this.lines.at(scalarOffset(this.lines.text, n.scalar, index));
  }
}

/** Maps decoded character `index` of a scalar to an offset in the source (see PositionMap.inScalar). */
function scalarOffset(text: string, ev: ScalarEvent, index: number): number {
  const block = ev.style === SCALAR_STYLE.LITERAL_BLOCK || ev.style === SCALAR_STYLE.FOLDED_BLOCK;
  let pos = ev.valueStart;
  let decoded = 0;
  let lineStart = true;
  while (pos < ev.valueEnd) {
    const c = text[pos];
    if (lineStart && (c === ' ' || c === '\t') && (block ? pos - lineStartOffset(text, pos) < ev.indent : true)) {
      pos++;
      continue;
    }
    lineStart = false;
    if (decoded >= index) return pos;
    if (c === '\n') {
      lineStart = true;
      decoded++;
      pos++;
      continue;
    }
    if (ev.style === SCALAR_STYLE.SINGLE_QUOTED && c === "'" && text[pos + 1] === "'") pos += 2;
    else if (ev.style === SCALAR_STYLE.DOUBLE_QUOTED && c === '\\') pos += escapeLength(text[pos + 1]);
    else pos++;
    decoded++;
  }
  return Math.min(pos, Math.max(ev.valueEnd - 1, ev.valueStart));
}

function lineStartOffset(text: string, pos: number): number {
  return text.lastIndexOf('\n', pos - 1) + 1;
}

function escapeLength(next: string | undefined): number {
  if (next === 'x') return 4;
  if (next === 'u') return 6;
  if (next === 'U') return 10;
  return 2;
}

/** One document of a YAML text: its value and positions, or why it could not be parsed. */
export interface YamlDocument {
  /** 0-based index of the document in its file. */
  index: number;
  value: unknown;
  positions: PositionMap;
  /** A YAML syntax error: the document has no value. */
  error?: { message: string; at: LineCol };
}

/**
 * Parses every document of `text`. A syntax error spoils only the document it is in: the text is
 * then cut at `---` lines and each part parsed alone.
 */
export function parseYamlDocuments(text: string, filename?: string): YamlDocument[] {
  const lines = new LineIndex(text);
  try {
    return parseWhole(text, lines, 0, 0, filename);
  } catch {
    const docs: YamlDocument[] = [];
    for (const part of splitDocuments(text)) {
      const index = docs.length;
      try {
        docs.push(...parseWhole(part.text, lines, part.offset, index, filename));
      } catch (err) {
        const at = errorAt(err, lines, part.offset);
        const message = err instanceof YAMLException ? err.reason : String(err);
        docs.push({ index, value: undefined, positions: new PositionMap(lines, new Map(), part.offset), error: { message, at } });
      }
    }
    return docs;
  }
}

function errorAt(err: unknown, lines: LineIndex, base: number): LineCol {
  const mark = err instanceof YAMLException ? err.mark : undefined;
  return lines.at(base + (mark?.position ?? 0));
}

/** Cuts a text into documents at `---` lines, keeping each part's offset; empty parts are dropped. */
function splitDocuments(text: string): { text: string; offset: number }[] {
  const parts: { text: string; offset: number }[] = [];
  const re = /^---[ \t]*(?:#.*)?$|^---[ \t]/gm;
  let start = 0;
  let m: RegExpExecArray | null;
  const push = (end: number) => {
    const t = text.slice(start, end);
    const blank = t.split('\n').every((l) => /^\s*(#.*)?$/.test(l) || /^---\s*(#.*)?$/.test(l));
    if (!blank) parts.push({ text: t, offset: start });
  };
  while ((m = re.exec(text))) {
    push(m.index);
    start = m.index;
  }
  push(text.length);
  return parts;
}

function parseWhole(part: string, lines: LineIndex, base: number, firstIndex: number, filename?: string): YamlDocument[] {
  const events = parseEvents(part, { filename });
  const values = constructFromEvents(events, { source: part, filename });
  const maps = positionsOf(events, part, lines, base);
  return values.map((value, i) => ({ index: firstIndex + i, value, positions: maps[i] }));
}

interface Frame {
  kind: 'map' | 'seq';
  path: string;
  next: number;
  key?: { name: string; offset: number };
}

/** Walks the event stream and records a NodeInfo for every node of every document. */
function positionsOf(events: Event[], part: string, lines: LineIndex, base: number): PositionMap[] {
  const maps: PositionMap[] = [];
  let nodes = new Map<string, NodeInfo>();
  const stack: Frame[] = [];
  let docStart = base;
  const place = (offset: number, ev?: ScalarEvent): string | undefined => {
    const scalar = ev && { ...ev, valueStart: ev.valueStart + base, valueEnd: ev.valueEnd + base };
    const top = stack[stack.length - 1];
    if (!top) {
      nodes.set('', { offset: base + offset, scalar });
      return '';
    }
    if (top.kind === 'seq') {
      const path = `${top.path}/${top.next++}`;
      nodes.set(path, { offset: base + offset, scalar });
      return path;
    }
    if (!top.key) {
      const name = ev ? getScalarValue(part, ev) : '?';
      top.key = { name, offset: base + offset };
      return undefined;
    }
    const path = `${top.path}/${pointerSegment(top.key.name)}`;
    nodes.set(path, { offset: base + offset, keyOffset: top.key.offset, scalar });
    top.key = undefined;
    return path;
  };
  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        nodes = new Map();
        stack.length = 0;
        break;
      case EVENT_ID.SCALAR: {
        // A quoted scalar's node starts at its opening quote (valueStart is just inside it).
        const quoted = ev.style === SCALAR_STYLE.SINGLE_QUOTED || ev.style === SCALAR_STYLE.DOUBLE_QUOTED;
        place(quoted ? ev.valueStart - 1 : ev.valueStart, ev);
        if (stack.length === 0) docStart = base + ev.valueStart;
        break;
      }
      case EVENT_ID.ALIAS:
        place(ev.anchorStart);
        break;
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING: {
        if (stack.length === 0) docStart = base + ev.start;
        const path = place(ev.start) ?? '?';
        stack.push({ kind: ev.type === EVENT_ID.SEQUENCE ? 'seq' : 'map', path, next: 0 });
        break;
      }
      case EVENT_ID.POP:
        if (stack.length > 0) stack.pop();
        else maps.push(new PositionMap(lines, nodes, docStart));
        break;
    }
  }
  return maps;
}
