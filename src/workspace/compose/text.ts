/**
 * The text of a compose file as lines and offsets, and the style its YAML is written in, so that
 * added lines look like the lines around them.
 */
import { isCollection, isMap, isPair, isScalar, isSeq, type Document } from 'yaml';
import { dominantEol } from '../eol.ts';
import type { Style } from './render.ts';

export class Lines {
  readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  get count(): number {
    return this.starts.length;
  }
  index(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
  start(i: number): number {
    return this.starts[i]!;
  }
  hasEol(i: number): boolean {
    return i + 1 < this.starts.length;
  }
  /** Offset just past the line's end of line (or the end of the text). */
  next(i: number): number {
    return this.hasEol(i) ? this.starts[i + 1]! : this.text.length;
  }
  str(i: number): string {
    let end = this.hasEol(i) ? this.starts[i + 1]! - 1 : this.text.length;
    if (end > this.start(i) && this.text[end - 1] === '\r') end--;
    return this.text.slice(this.start(i), end);
  }
  indent(i: number): number {
    const s = i === 0 ? this.str(i).replace(/^\uFEFF/, '') : this.str(i);
    return s.length - s.trimStart().length;
  }
  isBlank(i: number): boolean {
    return this.str(i).trim() === '';
  }
  isComment(i: number): boolean {
    return this.str(i).trimStart().replace(/^\uFEFF/, '').startsWith('#');
  }
  column(offset: number): number {
    const i = this.index(offset);
    const bom = i === 0 && this.text.startsWith('\uFEFF') ? 1 : 0;
    return offset - this.starts[i]! - bom;
  }
}

function mostCommon(values: number[], fallback: number): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = fallback;
  let bestCount = 0;
  for (const [v, c] of counts) {
    if (c > bestCount || (c === bestCount && v < best)) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

export function visitNodes(node: unknown, fn: (n: unknown, parent: unknown) => void, parent: unknown = null): void {
  if (node === null || node === undefined) return;
  fn(node, parent);
  if (isPair(node)) {
    visitNodes(node.key, fn, node);
    visitNodes(node.value, fn, node);
  } else if (isCollection(node)) {
    for (const item of node.items) visitNodes(item, fn, node);
  }
}


/** The position of the `-` of a block sequence item. */
export function dashOffset(lines: Lines, item: unknown): number | undefined {
  const range = (item as { range?: number[] } | null)?.range;
  if (!range) return undefined;
  const line = lines.index(range[0]!);
  const before = lines.text.slice(lines.start(line), range[0]);
  const m = /^([ \uFEFF]*)-(?=\s)/.exec(before);
  return m ? lines.start(line) + m[1]!.length : undefined;
}

export function detectStyle(doc: Document.Parsed, lines: Lines): Style {
  const steps: number[] = [];
  const seqOffsets: number[] = [];
  let single = 0;
  let double = 0;
  let padded = 0;
  let tight = 0;
  visitNodes(doc.contents, (n) => {
    if (isScalar(n)) {
      if (n.type === 'QUOTE_SINGLE') single++;
      else if (n.type === 'QUOTE_DOUBLE') double++;
    } else if (isCollection(n) && n.flow && n.items.length > 0 && n.range) {
      const open = lines.text.indexOf(isMap(n) ? '{' : '[', n.range[0]);
      if (open >= 0) {
        if (lines.text[open + 1] === ' ') padded++;
        else tight++;
      }
    } else if (isPair(n) && isScalar(n.key) && n.key.range) {
      const keyCol = lines.column(n.key.range[0]);
      const v = n.value;
      if (isMap(v) && !v.flow) {
        const first = v.items[0]?.key as { range?: number[] } | undefined;
        if (first?.range) {
          const d = lines.column(first.range[0]!) - keyCol;
          if (d > 0) steps.push(d);
        }
      } else if (isSeq(v) && !v.flow) {
        const dash = dashOffset(lines, v.items[0]);
        if (dash !== undefined) {
          const d = lines.column(dash) - keyCol;
          if (d >= 0) seqOffsets.push(d);
        }
      }
    }
  });
  const step = mostCommon(steps, 2);
  return {
    step,
    seqOffset: mostCommon(seqOffsets, step),
    singleQuote: single > double,
    flowPadding: padded > tight,
    eol: dominantEol(lines.text),
  };
}
