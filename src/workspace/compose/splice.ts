/**
 * Edits as splices into the original text: new lines go in at node boundaries, in the file's own
 * style and line endings, and every other byte stays as it was.
 */
import { YAMLMap, YAMLSeq, isCollection, isMap, isPair, isScalar } from 'yaml';
import { blockLines, flowPair, flowValue, seqLines, type Style, type Y, type YMap } from './render.ts';
import { dashOffset, type Lines } from './text.ts';

export interface Splice {
  start: number;
  end: number;
  /** Uses '\n'; converted to the file's end of line when applied. */
  text: string;
  order: number;
  /** Set on insertions into an empty flow collection: joins them when several land there. */
  separator?: string;
}

export interface InsertPoint {
  offset: number;
  /** False when the point is the end of a file that does not end with a newline. */
  atLineStart: boolean;
}

/** Orders of splices that can land on the same offset: the first applied comes first in the text. */
export const ORDER = {
  newPostgres: 1,
  rootServices: 2,
  topVolumes: 3,
  include: 4,
} as const;

export class Editor {
  readonly splices: Splice[] = [];
  constructor(
    readonly lines: Lines,
    readonly style: Style,
  ) {}

  /** End of the written content of a node (not its trailing comments or blank lines). */
  contentEnd(node: unknown, flow = false): number {
    if (isPair(node)) {
      const key = node.key as { range?: number[] } | null;
      const keyEnd = key?.range?.[1] ?? 0;
      const v = node.value;
      if (v === null || v === undefined) return keyEnd;
      if (isScalar(v) && v.source === '' && v.value === null) return flow && v.range ? Math.max(keyEnd, v.range[0]) : keyEnd;
      return Math.max(keyEnd, this.contentEnd(v, flow));
    }
    if (isCollection(node)) {
      const last = node.items.at(-1);
      if (node.flow || last === undefined) return node.range![1];
      return this.contentEnd(last);
    }
    return (node as { range: number[] }).range[1]!;
  }

  /** Start of the line after `end`'s line, also passing comment lines indented deeper than `col`. */
  pointAfter(end: number, col: number): InsertPoint {
    const { lines } = this;
    let i = lines.index(Math.max(0, end - 1));
    while (i + 1 < lines.count && !lines.isBlank(i + 1) && lines.isComment(i + 1) && lines.indent(i + 1) > col) i++;
    return { offset: lines.next(i), atLineStart: lines.hasEol(i) };
  }

  insertLines(at: InsertPoint, body: string[], blankBefore: boolean, order: number): void {
    const text = body.join('\n');
    const prefix = blankBefore ? '\n' : '';
    this.splices.push({
      start: at.offset,
      end: at.offset,
      text: at.atLineStart ? `${prefix}${text}\n` : `\n${prefix}${text}`,
      order,
    });
  }

  /** Column of the keys of a block mapping. */
  keyColumn(map: YAMLMap): number {
    const first = map.items[0]?.key as { range?: number[] } | undefined;
    if (!first?.range) throw new Error('mapping without a located key');
    return this.lines.column(first.range[0]!);
  }

  addPairs(map: YAMLMap, entries: YMap, order: number, blankBefore = false): void {
    if (map.flow) {
      const text = Object.entries(entries)
        .map(([k, v]) => flowPair(k, v, this.style))
        .join(', ');
      this.insertFlow(map, text, order);
      return;
    }
    const col = this.keyColumn(map);
    this.insertLines(this.pointAfter(this.contentEnd(map), col), blockLines(entries, col, this.style), blankBefore, order);
  }

  addItems(seq: YAMLSeq, items: Y[], order: number): void {
    if (seq.flow) {
      this.insertFlow(seq, items.map((i) => flowValue(i, this.style)).join(', '), order);
      return;
    }
    const dash = dashOffset(this.lines, seq.items[0]);
    if (dash === undefined) throw new Error('block sequence without a located dash');
    const col = this.lines.column(dash);
    this.insertLines(this.pointAfter(this.contentEnd(seq), col), seqLines(items, col, this.style), false, order);
  }

  private insertFlow(coll: YAMLMap | YAMLSeq, text: string, order: number): void {
    const last = coll.items.at(-1);
    if (last === undefined) {
      const open = this.lines.text.indexOf(isMap(coll) ? '{' : '[', coll.range![0]);
      this.splices.push({ start: open + 1, end: open + 1, text, order, separator: ', ' });
    } else {
      const at = this.contentEnd(last, true);
      this.splices.push({ start: at, end: at, text: `, ${text}`, order });
    }
  }

  apply(): string {
    const sorted = [...this.splices].sort((a, b) => a.start - b.start || a.order - b.order);
    let out = '';
    let pos = 0;
    let prev: Splice | undefined;
    for (const s of sorted) {
      if (s.start < pos) throw new Error('overlapping compose edits');
      const sep = s.separator && prev?.separator === s.separator && prev.start === s.start ? s.separator : '';
      out += this.lines.text.slice(pos, s.start) + sep + s.text.replace(/\n/g, this.style.eol);
      pos = s.end;
      prev = s;
    }
    return out + this.lines.text.slice(pos);
  }
}

/** Whether the pairs of a block mapping are separated by blank lines (undefined: can't tell). */
export function blankSeparated(map: YAMLMap, lines: Lines): boolean | undefined {
  if (map.flow) return false;
  let yes = 0;
  let no = 0;
  for (const pair of map.items.slice(1)) {
    const range = (pair.key as { range?: number[] } | null)?.range;
    if (!range) continue;
    let i = lines.index(range[0]!) - 1;
    while (i >= 0 && lines.isComment(i) && !lines.isBlank(i)) i--;
    if (i >= 0 && lines.isBlank(i)) yes++;
    else no++;
  }
  if (yes + no === 0) return undefined;
  return yes > no;
}
