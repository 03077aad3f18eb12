/**
 * init-db.sql's structure: create-ovu-app's blocks between its marker lines
 * (`-- >>> create-ovu-app: <slug>` … `-- <<< create-ovu-app: <slug>`), found in a file whose every
 * line keeps its own terminator, so an edit can leave the bytes outside a block as they were.
 */
import { dominantEol } from './eol.ts';
import { UserError } from '../errors.ts';

export const PLATFORM_SLUG = 'platform';
/** The block of the workspace's monitoring role (workspace/monitoring/), just before the platform block. */
export const MONITORING_SLUG = 'monitoring';
export const RESERVED_SLUGS = new Set([PLATFORM_SLUG, MONITORING_SLUG]);
const START = '-- >>> create-ovu-app: ';
const END = '-- <<< create-ovu-app: ';
const SLUG_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;

export function startMarker(slug: string): string {
  return `${START}${slug}`;
}
export function endMarker(slug: string): string {
  return `${END}${slug}`;
}

export function assertSlug(slug: string): void {
  if (!SLUG_PATTERN.test(slug)) throw new Error(`invalid app slug ${JSON.stringify(slug)}`);
  if (RESERVED_SLUGS.has(slug)) {
    throw new UserError(`'${slug}' is reserved in init-db.sql for the ${slug} block; choose another app name`);
  }
}

/** A block where findBlocks finds it: by offsets alone. */
export interface Span {
  slug: string;
  /** Offsets in the file: where the start marker line begins, and just after the end marker line's terminator. */
  from: number;
  to: number;
}

/** A block of a file split into lines (parse). */
export interface Block extends Span {
  /** 0-based index of the start and end marker lines. */
  start: number;
  end: number;
}

export interface ParsedFile {
  /** Lines without their terminators. */
  lines: string[];
  /** Terminator of each line ('' for a last line without one). */
  terminators: string[];
  blocks: Block[];
  eol: '\n' | '\r\n';
}

/** Lines and their terminators ('\r\n', '\n', a lone '\r', or '' for a last line without one). */
export function splitLines(source: string): { lines: string[]; terminators: string[] } {
  // The common case, without a lone CR: one split instead of a regex match per line (a workspace
  // with hundreds of apps has an init-db.sql of tens of thousands of lines).
  if (!source.includes('\r') || !/\r(?!\n)/.test(source)) {
    const lines = source.split('\n');
    const terminators = lines.map(() => '\n');
    if (lines[lines.length - 1] === '') {
      lines.pop();
      terminators.pop();
    } else terminators[terminators.length - 1] = '';
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.endsWith('\r') && terminators[i] === '\n') {
        lines[i] = line.slice(0, -1);
        terminators[i] = '\r\n';
      }
    }
    return { lines, terminators };
  }
  const lines: string[] = [];
  const terminators: string[] = [];
  const re = /([^\r\n]*)(\r\n|\n|\r)?/g;
  for (;;) {
    const at = re.lastIndex;
    const m = re.exec(source);
    if (m === null || (m[0] === '' && at >= source.length)) break;
    lines.push(m[1] ?? '');
    const terminator = m[2] ?? '';
    terminators.push(terminator);
    if (terminator === '') break;
  }
  return { lines, terminators };
}

export function parse(source: string): ParsedFile {
  const { lines, terminators } = splitLines(source);
  const spans = findBlocks(source);
  // Each span's marker lines, by walking the lines' offsets once.
  const blocks: Block[] = [];
  let line = 0;
  let at = 0;
  const lineAt = (offset: number): number => {
    while (at < offset) at += lines[line]!.length + terminators[line++]!.length;
    return line;
  };
  for (const span of spans) {
    const start = lineAt(span.from);
    blocks.push({ ...span, start, end: lineAt(span.to) - 1 });
  }
  return { lines, terminators, blocks, eol: dominantEol(source) };
}

/** The 1-based line number of `offset`, for a message (the file's lines are counted up to it). */
export function lineNumberAt(source: string, offset: number): number {
  return terminatorsIn(source, 0, offset, source.includes('\r')) + 1;
}

/** Each line terminator (\r\n, \n, a lone \r) from `lastIndex` on: for files that have a CR at all. */
const TERMINATOR = /\r\n|\r|\n/g;

/** Where the line at `at` ends: the offset of its terminator and the offset after it. */
function lineEnd(source: string, at: number, hasCr: boolean): { end: number; next: number } {
  if (!hasCr) {
    const lf = source.indexOf('\n', at);
    return lf === -1 ? { end: source.length, next: source.length } : { end: lf, next: lf + 1 };
  }
  TERMINATOR.lastIndex = at;
  const m = TERMINATOR.exec(source);
  return m ? { end: m.index, next: m.index + m[0].length } : { end: source.length, next: source.length };
}

/** How many line terminators are in source[from, to): each search stops at the next one, so the file is read once in all. */
function terminatorsIn(source: string, from: number, to: number, hasCr: boolean): number {
  let n = 0;
  if (!hasCr) {
    for (let i = source.indexOf('\n', from); i !== -1 && i < to; i = source.indexOf('\n', i + 1)) n++;
    return n;
  }
  TERMINATOR.lastIndex = from;
  for (let m = TERMINATOR.exec(source); m && m.index < to; m = TERMINATOR.exec(source)) n++;
  return n;
}

/**
 * create-ovu-app's blocks in init-db.sql, found by their marker lines alone: the file is searched
 * for the markers' prefix, not split into lines, so a file of tens of thousands of lines costs a
 * few scans. A malformed or unbalanced marker stops the run, naming its line.
 */
export function findBlocks(source: string): Span[] {
  const markers: { at: number; isStart: boolean }[] = [];
  for (const [prefix, isStart] of [[START.trimEnd(), true], [END.trimEnd(), false]] as const) {
    for (let i = source.indexOf(prefix); i !== -1; i = source.indexOf(prefix, i + prefix.length)) {
      const before = source[i - 1];
      if (i === 0 || before === '\n' || before === '\r') markers.push({ at: i, isStart });
    }
  }
  markers.sort((a, b) => a.at - b.at);
  const blocks: Span[] = [];
  let open: { slug: string; from: number } | undefined;
  const seen = new Map<string, number>();
  const hasCr = source.includes('\r');
  // Line numbers only for a message: counting them for every marker would read the whole file again.
  const lineOf = (offset: number): number => lineNumberAt(source, offset);
  for (const { at, isStart } of markers) {
    const { end, next } = lineEnd(source, at, hasCr);
    const line = source.slice(at, end).trimEnd();
    const slug = line.slice((isStart ? START : END).length).trim();
    if (!line.startsWith(isStart ? START : END) || !SLUG_PATTERN.test(slug)) {
      throw new UserError(`init-db.sql line ${lineOf(at)}: malformed create-ovu-app marker ${JSON.stringify(line)}`);
    }
    if (isStart) {
      if (open) {
        throw new UserError(
          `init-db.sql line ${lineOf(at)}: block '${slug}' starts inside block '${open.slug}' (opened on line ${lineOf(open.from)}, no end marker); fix the markers by hand`,
        );
      }
      const first = seen.get(slug);
      if (first !== undefined) {
        throw new UserError(
          `init-db.sql line ${lineOf(at)}: second block for '${slug}' (the first starts on line ${lineOf(first)}); remove one of them`,
        );
      }
      seen.set(slug, at);
      open = { slug, from: at };
      continue;
    }
    if (!open) {
      throw new UserError(`init-db.sql line ${lineOf(at)}: end marker for '${slug}' without a start marker; fix the markers by hand`);
    }
    if (open.slug !== slug) {
      throw new UserError(
        `init-db.sql line ${lineOf(at)}: end marker for '${slug}' but the open block is '${open.slug}' (line ${lineOf(open.from)}); fix the markers by hand`,
      );
    }
    blocks.push({ slug, from: open.from, to: next });
    open = undefined;
  }
  if (open) {
    throw new UserError(
      `init-db.sql line ${lineOf(open.from)}: block '${open.slug}' has no end marker ("${endMarker(open.slug)}"); fix the markers by hand`,
    );
  }
  return blocks;
}

/** A block's lines as the file has them, joined with "\n" (markers included). */
export function blockText(source: string, block: Span): string {
  return splitLines(source.slice(block.from, block.to)).lines.join('\n');
}

/** The app's block as it is in the file, markers included, lines joined with "\n"; undefined when it has none. */
export function initDbBlockOf(source: string, slug: string): string | undefined {
  const block = findBlocks(source).find((b) => b.slug === slug);
  return block && blockText(source, block);
}

export function listInitDbApps(source: string): string[] {
  return findBlocks(source)
    .map((b) => b.slug)
    .filter((slug) => !RESERVED_SLUGS.has(slug));
}

/** The app's block as the file has it (markers included, lines joined with "\n"), or undefined. */
export function appBlockText(source: string | undefined, slug: string): string | undefined {
  return source === undefined ? undefined : initDbBlockOf(source, slug);
}
