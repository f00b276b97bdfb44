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
  /** A YAML syntax error (`syntax`) or a document over a size limit (`limit`): the document has no value. */
  error?: { message: string; at: LineCol; kind?: 'syntax' | 'limit' };
}

/** Bounds of one document, checked on the event stream before anything walks the values. */
export interface YamlLimits {
  /**
   * Nodes of a document once its aliases are expanded. Default 100 000. Parsing shares an
   * anchored node among its aliases, but everything that walks the value (the template compiler,
   * JSON output) visits it once per alias: nine levels of nine aliases is 387 million visits.
   */
  maxNodes?: number;
  /** Aliases (`*name`, merge keys included) in a document. Default 1 000. */
  maxAliases?: number;
}

export const DEFAULT_YAML_LIMITS: Required<YamlLimits> = { maxNodes: 100_000, maxAliases: 1_000 };

/**
 * Parses every document of `text`. A syntax error spoils only the document it is in: the text is
 * then cut at `---` lines and each part parsed alone. A document over `limits` gets a `limit` error.
 */
export function parseYamlDocuments(text: string, filename?: string, limits: YamlLimits = {}): YamlDocument[] {
  const lines = new LineIndex(text);
  const l = { ...DEFAULT_YAML_LIMITS, ...limits };
  try {
    return parseWhole(text, lines, 0, 0, l, filename);
  } catch {
    const docs: YamlDocument[] = [];
    for (const part of splitDocuments(text)) {
      const index = docs.length;
      try {
        docs.push(...parseWhole(part.text, lines, part.offset, index, l, filename));
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

function parseWhole(part: string, lines: LineIndex, base: number, firstIndex: number, limits: Required<YamlLimits>, filename?: string): YamlDocument[] {
  const events = parseEvents(part, { filename });
  const values = constructFromEvents(events, { source: part, filename });
  const maps = positionsOf(events, part, lines, base);
  const over = overLimits(events, part, limits);
  return values.map((value, i) => {
    const problem = over.get(i);
    if (!problem) return { index: firstIndex + i, value, positions: maps[i] };
    return { index: firstIndex + i, value: undefined, positions: maps[i], error: { message: problem.message, at: lines.at(base + problem.offset), kind: 'limit' as const } };
  });
}

/**
 * The documents of an event stream over `limits`, by index, with the offset of the node where
 * the limit was passed. Sizes of anchored nodes are counted once, as the parser built them, and
 * added again at each alias, so the count is what a walk of the value would visit; linear in the events.
 */
function overLimits(events: Event[], part: string, limits: Required<YamlLimits>): Map<number, { offset: number; message: string }> {
  const out = new Map<number, { offset: number; message: string }>();
  let doc = -1;
  let anchors = new Map<string, number>();
  let frames: { size: number; anchor?: string }[] = [];
  let expanded = 0;
  let aliases = 0;
  const name = (ev: { anchorStart: number; anchorEnd: number }) => (ev.anchorStart >= 0 ? part.slice(ev.anchorStart, ev.anchorEnd) : undefined);
  const add = (n: number, offset: number) => {
    const top = frames[frames.length - 1];
    if (top) top.size = Math.min(top.size + n, Number.MAX_SAFE_INTEGER);
    expanded = Math.min(expanded + n, Number.MAX_SAFE_INTEGER);
    if (expanded > limits.maxNodes && !out.has(doc)) {
      out.set(doc, { offset, message: `the document has more than ${limits.maxNodes.toLocaleString('en-US')} nodes once its aliases are expanded (an alias bomb?); split it or use fewer aliases` });
    }
  };
  for (const ev of events) {
    if (out.has(doc) && ev.type !== EVENT_ID.DOCUMENT) continue;
    switch (ev.type) {
      case EVENT_ID.DOCUMENT:
        doc++;
        anchors = new Map();
        frames = [];
        expanded = 0;
        aliases = 0;
        break;
      case EVENT_ID.SCALAR: {
        const a = name(ev);
        if (a !== undefined) anchors.set(a, 1);
        add(1, ev.valueStart);
        break;
      }
      case EVENT_ID.SEQUENCE:
      case EVENT_ID.MAPPING:
        add(1, ev.start);
        frames.push({ size: 1, anchor: name(ev) });
        break;
      case EVENT_ID.ALIAS:
        if (++aliases > limits.maxAliases) {
          out.set(doc, { offset: Math.max(0, ev.anchorStart - 1), message: `the document has more than ${limits.maxAliases.toLocaleString('en-US')} aliases` });
          break;
        }
        add(anchors.get(part.slice(ev.anchorStart, ev.anchorEnd)) ?? 1, Math.max(0, ev.anchorStart - 1));
        break;
      case EVENT_ID.POP: {
        const f = frames.pop();
        if (!f) break;
        if (f.anchor !== undefined) anchors.set(f.anchor, f.size);
        const parent = frames[frames.length - 1];
        // The collection itself was counted in its parent when it opened; now its contents are.
        if (parent) parent.size = Math.min(parent.size + f.size - 1, Number.MAX_SAFE_INTEGER);
        break;
      }
    }
  }
  return out;
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
