/**
 * New YAML fragments for a compose file: block lines laid out in the file's own style, with every
 * scalar written by the `yaml` package (so quoting is always what a YAML parser reads back).
 */
import { Document, Pair, Scalar, YAMLMap, YAMLSeq, type Node as YNode, type ToStringOptions } from 'yaml';
import { plainScalar } from '../yaml-text.ts';

/** How a file writes its YAML, so added lines look like the lines around them. */
export interface Style {
  /** Indentation added per nesting level of block mappings. */
  step: number;
  /** Columns between a key and the `-` of a block sequence under it (0 = not indented). */
  seqOffset: number;
  singleQuote: boolean;
  flowPadding: boolean;
  eol: string;
}

/** `text` with the style's line endings. */
export const withEol = (text: string, style: Style): string => (style.eol === '\n' ? text : text.replace(/\n/g, style.eol));

export const DEFAULT_STYLE: Style = { step: 2, seqOffset: 2, singleQuote: false, flowPadding: false, eol: '\n' };

/** A string always written quoted, in the file's quote style (ports: "8001:8000"). */
export class Quoted {
  constructor(readonly value: string) {}
}

/** A list written in flow style on one line: `[a, b]`. */
export class FlowList {
  constructor(readonly items: Y[]) {}
}

export type Y = string | number | boolean | null | Quoted | FlowList | Y[] | YMap;

export interface YMap {
  [key: string]: Y;
}

export function isYMap(v: Y | undefined): v is YMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Quoted) && !(v instanceof FlowList);
}

/** The plain value a parser reads back from `v`. */
export function yToJS(v: Y): unknown {
  if (v instanceof Quoted) return v.value;
  if (v instanceof FlowList) return v.items.map(yToJS);
  if (Array.isArray(v)) return v.map(yToJS);
  if (isYMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, yToJS(x)]));
  return v;
}

function toStringOptions(style: Style): ToStringOptions {
  return { lineWidth: 0, minContentWidth: 0, singleQuote: style.singleQuote, flowCollectionPadding: style.flowPadding };
}

function scalarNode(v: Y, style: Style): Scalar {
  if (v instanceof FlowList || Array.isArray(v) || isYMap(v)) throw new Error('not a scalar');
  if (v instanceof Quoted) {
    const s = new Scalar(v.value);
    s.type = style.singleQuote ? 'QUOTE_SINGLE' : 'QUOTE_DOUBLE';
    return s;
  }
  return new Scalar(v);
}

function yToNode(v: Y, style: Style): YNode {
  if (Array.isArray(v) || v instanceof FlowList) {
    const seq = new YAMLSeq();
    seq.flow = true;
    for (const item of Array.isArray(v) ? v : v.items) seq.items.push(yToNode(item, style));
    return seq;
  }
  if (isYMap(v)) {
    const map = new YAMLMap();
    map.flow = true;
    for (const [k, x] of Object.entries(v)) map.items.push(new Pair(new Scalar(k), yToNode(x, style)));
    return map;
  }
  return scalarNode(v, style);
}

/** A scalar as the value of a block mapping pair or a block sequence item, on one line. */
function blockScalar(v: Y, style: Style): string {
  const node = scalarNode(v, style);
  const render = (): string => {
    const doc = new Document(new YAMLMap());
    (doc.contents as YAMLMap).items.push(new Pair(new Scalar('k'), node));
    return doc.toString(toStringOptions(style));
  };
  let out = render();
  // A value yaml would fold onto several lines (or write as a block scalar) goes double-quoted.
  if (!out.startsWith('k: ') || out.indexOf('\n') !== out.length - 1) {
    node.type = 'QUOTE_DOUBLE';
    out = render();
  }
  if (!out.startsWith('k: ') || out.indexOf('\n') !== out.length - 1) throw new Error(`cannot render ${String(node.value)} on one line`);
  return out.slice(3, -1);
}

/** Any value as it would appear inside a flow collection, on one line. */
export function flowValue(v: Y, style: Style): string {
  const seq = new YAMLSeq();
  seq.flow = true;
  seq.items.push(yToNode(v, style));
  const out = new Document(seq).toString(toStringOptions(style)).replace(/\r?\n$/, '');
  const m = /^\[ ?([^\n]*?) ?\]$/.exec(out);
  if (!m) throw new Error(`cannot render a flow value on one line: ${out}`);
  return m[1]!;
}

export function renderKey(key: string): string {
  const plain = /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key) && !/^(true|false|null|yes|no|on|off|y|n)$/i.test(key);
  return plain ? key : JSON.stringify(key);
}

export function flowPair(key: string, v: Y, style: Style): string {
  return `${renderKey(key)}: ${flowValue(v, style)}`;
}

/**
 * Renders block scalars in one `yaml` document (a document per scalar costs more than the rest of
 * a large file's layout): each as it would be written as a block mapping value, on one line.
 */
function blockScalars(values: Y[], style: Style): string[] {
  if (values.length === 0) return [];
  // Names, numbers and ${VAR}s need no quotes in any style: only the others go through `yaml`.
  const fast = values.map((v) => (v instanceof Quoted ? undefined : plainScalar(v)));
  if (fast.some((f) => f !== undefined)) {
    const rest = values.filter((_, i) => fast[i] === undefined);
    const slow = blockScalars(rest, style);
    let j = 0;
    return fast.map((f) => f ?? slow[j++]!);
  }
  const doc = new Document(new YAMLMap());
  const map = doc.contents as YAMLMap;
  values.forEach((v, i) => map.items.push(new Pair(new Scalar(`k${i}`), scalarNode(v, style))));
  const lines = doc.toString(toStringOptions(style)).split('\n');
  lines.pop(); // after the last newline
  const prefix = (i: number): string => `k${i}: `;
  if (lines.length === values.length && lines.every((l, i) => l.startsWith(prefix(i)))) return lines.map((l, i) => l.slice(prefix(i).length));
  // Some value would take several lines: render each alone (blockScalar quotes it onto one).
  return values.map((v) => blockScalar(v, style));
}

type Slot = { line: number; value: Y };

/** Lays out lines with `layout`, then fills in all their scalars at once. */
function render(style: Style, layout: (out: string[], slots: Slot[]) => void): string[] {
  const out: string[] = [];
  const slots: Slot[] = [];
  layout(out, slots);
  const rendered = blockScalars(slots.map((s) => s.value), style);
  slots.forEach((s, i) => (out[s.line] += rendered[i]!));
  return out;
}

/** Block lines (no end of line) for the pairs of `map`, keys at column `col`. */
export function blockLines(map: YMap, col: number, style: Style): string[] {
  return render(style, (out, slots) => layoutMap(map, col, style, out, slots));
}

/** Block sequence lines with the `-` at column `col`. */
export function seqLines(items: Y[], col: number, style: Style): string[] {
  return render(style, (out, slots) => layoutSeq(items, col, style, out, slots));
}

/** Lines with every block scalar left as a slot to fill, so that all of them render at once. */
function layoutMap(map: YMap, col: number, style: Style, out: string[], slots: Slot[]): void {
  const pad = ' '.repeat(col);
  for (const [k, v] of Object.entries(map)) {
    const key = `${pad}${renderKey(k)}:`;
    if (Array.isArray(v)) {
      if (v.length === 0) out.push(`${key} []`);
      else {
        out.push(key);
        layoutSeq(v, col + style.seqOffset, style, out, slots);
      }
    } else if (isYMap(v)) {
      if (Object.keys(v).length === 0) out.push(`${key} {}`);
      else {
        out.push(key);
        layoutMap(v, col + style.step, style, out, slots);
      }
    } else if (v === null) out.push(key);
    else if (v instanceof FlowList) out.push(`${key} ${flowValue(v, style)}`);
    else {
      slots.push({ line: out.length, value: v });
      out.push(`${key} `);
    }
  }
}

function layoutSeq(items: Y[], col: number, style: Style, out: string[], slots: Slot[]): void {
  for (const item of items) {
    const dash = `${' '.repeat(col)}- `;
    if (Array.isArray(item) || isYMap(item) || item instanceof FlowList) out.push(dash + flowValue(item, style));
    else {
      slots.push({ line: out.length, value: item });
      out.push(dash);
    }
  }
}
