/**
 * docker-compose.yml: parse, validate and edit any compose file without disturbing what the
 * user wrote. compose.ts loads this module only when a run needs it: for a file create-ovu-app
 * has not indexed (compose-index.ts), or for an edit the index does not cover.
 *
 * Editing never re-serialises the file. The `yaml` Document API (with source ranges) finds where
 * things are; the new YAML fragments are rendered with the file's own indentation, sequence
 * style, quote style and line endings, and spliced into the original text at node boundaries.
 * Every byte outside the inserted fragments (and the app's own service, when --force replaces it)
 * is left as it was. The result is then parsed again and must equal the original object plus
 * exactly the intended additions, and must validate; anything else is a bug and throws.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  Document,
  LineCounter,
  Pair,
  Scalar,
  YAMLMap,
  YAMLSeq,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  type Node as YNode,
  type ToStringOptions,
} from 'yaml';
import { checkComposeSchema, formatPath, type ComposePath, type SchemaProblem } from './schema.ts';
import {
  DEFAULT_TOKEN_VAR,
  FlowList,
  INITDB_DIR,
  INITDB_MOUNT,
  NotSimple,
  PG_DATA_VOLUME,
  Quoted,
  appService,
  blockLines as emitBlockLines,
  composeInfo,
  envHas,
  findPostgres,
  findTokenVar,
  tokenVarOf,
  healthcheck,
  isObj,
  isYMap,
  mountsInitDir,
  newPostgres,
  pgUser,
  renderFlowPair as emitFlowPair,
  seqLines as emitSeqLines,
  simpleScalars,
  yToJS,
  type ComposeInfo,
  type Obj,
  type ScalarRenderer,
  type Style,
  type Y,
  type YMap,
} from './model.ts';
import { createComposeFast, type ComposeEdit, type ComposeIndex } from './fast-index.ts';
import { dominantEol } from '../eol.ts';
import { UserError } from '../../errors.ts';
import type { AppSpec } from '../../app/spec.ts';

// ---------------------------------------------------------------------------------------------
// Loading and validation
// ---------------------------------------------------------------------------------------------

interface Loaded {
  text: string;
  fileName: string;
  doc: Document.Parsed;
  lc: LineCounter;
  js: Obj;
}

/**
 * One run reads the same compose text several times (inspect, edit, verify the result, read the
 * result's token variable); parsing and validating a workspace with hundreds of services is the
 * slowest step, so the last few results are kept. Callers never mutate a Loaded (editCompose
 * clones `js` and splices text), which is what makes sharing them safe.
 */
const parsed = new Map<string, Loaded>();

function parseCompose(text: string, fileName: string): Loaded {
  const key = `${fileName}\0${text}`;
  const hit = parsed.get(key);
  if (hit) return hit;
  const loaded = parseComposeUncached(text, fileName);
  if (parsed.size >= 4) parsed.delete(parsed.keys().next().value!);
  parsed.set(key, loaded);
  return loaded;
}

function parseComposeUncached(text: string, fileName: string): Loaded {
  const lc = new LineCounter();
  const doc = parseDocument(text, {
    keepSourceTokens: true,
    merge: true,
    lineCounter: lc,
    prettyErrors: true,
    uniqueKeys: true,
  });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    const msg = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?\s*$/, '');
    throw new UserError(`${fileName}:${pos?.line ?? 1}:${pos?.col ?? 1}: not valid YAML: ${msg}`);
  }
  let js: unknown;
  try {
    js = doc.toJS();
  } catch (e) {
    // toJS fails on an alias whose anchor is not defined (before it).
    let line = 1;
    visitNodes(doc.contents, (n) => {
      if (line === 1 && isAlias(n) && !n.resolve(doc) && n.range) line = lc.linePos(n.range[0]).line;
    });
    throw new UserError(`${fileName}:${line}: not valid YAML: ${(e as Error).message}`);
  }
  if (js === null || js === undefined) {
    throw new UserError(`${fileName}:1: the file has no content; add a services: section or delete the file`);
  }
  const loaded = { text, fileName, doc, lc, js: js as Obj };
  const problem = checkComposeSchema(js) ?? checkReferences(loaded.js);
  if (problem) throw new UserError(`${fileName}:${lineOf(loaded, problem.path, problem.key)}: ${problem.message}`);
  return loaded;
}

/**
 * Throws a UserError `<fileName>:<line>: <what is wrong>` when `text` is not YAML, does not match
 * the Compose Specification, or refers to services, volumes or networks it does not define.
 */
export function validateCompose(text: string, fileName: string): void {
  parseCompose(text, fileName);
}

function deref(doc: Document.Parsed, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return typeof key.value === 'symbol' ? '<<' : String(key.value);
  return undefined;
}

function isMergePair(p: Pair): boolean {
  return isScalar(p.key) && typeof p.key.value === 'symbol';
}

/** The pair written in `map` itself for `key` (not one brought in by a merge key). */
function ownPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => !isMergePair(p) && keyText(p.key) === key);
}

/** The pair for `key`, looking through `<<` merge keys like the loader does. */
function findPair(doc: Document.Parsed, map: YAMLMap, key: string, depth = 0): Pair | undefined {
  const own = ownPair(map, key);
  if (own || depth > 20) return own;
  for (const p of map.items) {
    if (!isMergePair(p)) continue;
    const src = deref(doc, p.value);
    const sources = isSeq(src) ? src.items.map((i) => deref(doc, i)) : [src];
    for (const s of sources) {
      if (isMap(s)) {
        const found = findPair(doc, s, key, depth + 1);
        if (found) return found;
      }
    }
  }
  return undefined;
}

/** Line (1-based) of the node at `path` (or of `key` under it), or of its nearest ancestor. */
function lineOf(loaded: Loaded, path: ComposePath, key?: string): number {
  const { doc, lc } = loaded;
  const segments = key === undefined ? path : [...path, key];
  let node: unknown = doc.contents;
  let best: unknown = doc.contents;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    node = deref(doc, node);
    if (isMap(node)) {
      const pair = findPair(doc, node, String(seg));
      if (!pair) break;
      const last = i === segments.length - 1;
      best = last && key !== undefined ? pair.key : (hasRange(pair.value) ? pair.value : pair.key);
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) break;
      best = item;
      node = item;
    } else break;
  }
  const range = (best as { range?: [number, number, number] } | null)?.range;
  return range ? lc.linePos(range[0]).line : 1;
}

function hasRange(n: unknown): boolean {
  return !!(n && (n as { range?: unknown }).range && !(isScalar(n) && n.source === '' && n.value === null));
}

/** What the schema cannot check: names that must be defined elsewhere in the same file. */
function checkReferences(js: Obj): SchemaProblem | undefined {
  if (js['include'] !== undefined) return undefined; // services may come from the included files
  const services = isObj(js['services']) ? js['services'] : {};
  const names = Object.keys(services);
  const known = names.length ? names.join(', ') : 'none';
  const volumes = isObj(js['volumes']) ? js['volumes'] : {};
  const networks = isObj(js['networks']) ? js['networks'] : {};
  const undefinedService = (path: ComposePath, target: string, key?: string): SchemaProblem => ({
    path,
    ...(key === undefined ? {} : { key }),
    message: `${formatPath(path)} refers to service '${target}', which is not defined in this file (services: ${known})`,
  });

  for (const [name, svc] of Object.entries(services)) {
    if (!isObj(svc)) continue;
    const at = (...rest: ComposePath): ComposePath => ['services', name, ...rest];

    const dep = svc['depends_on'];
    if (Array.isArray(dep)) {
      for (const [i, d] of dep.entries()) {
        if (typeof d === 'string' && !(d in services)) return undefinedService(at('depends_on', i), d);
      }
    } else if (isObj(dep)) {
      for (const [d, cond] of Object.entries(dep)) {
        if (isObj(cond) && cond['required'] === false) continue;
        if (!(d in services)) return { ...undefinedService(at('depends_on'), d, d) };
      }
    }

    const links = svc['links'];
    if (Array.isArray(links)) {
      for (const [i, l] of links.entries()) {
        const target = typeof l === 'string' ? l.split(':')[0]! : '';
        if (target && !(target in services)) return undefinedService(at('links', i), target);
      }
    }

    const from = svc['volumes_from'];
    if (Array.isArray(from)) {
      for (const [i, f] of from.entries()) {
        if (typeof f !== 'string' || f.startsWith('container:')) continue;
        const target = f.replace(/^service:/, '').split(':')[0]!;
        if (!(target in services)) return undefinedService(at('volumes_from', i), target);
      }
    }

    const mode = svc['network_mode'];
    if (typeof mode === 'string' && mode.startsWith('service:')) {
      const target = mode.slice('service:'.length);
      if (!(target in services)) return undefinedService(at('network_mode'), target);
    }

    const ext = svc['extends'];
    const extTarget = typeof ext === 'string' ? ext : isObj(ext) && ext['file'] === undefined ? ext['service'] : undefined;
    if (typeof extTarget === 'string' && !(extTarget in services)) return undefinedService(at('extends'), extTarget);

    const vols = svc['volumes'];
    if (Array.isArray(vols)) {
      for (const [i, v] of vols.entries()) {
        const source = namedVolumeSource(v);
        if (source !== undefined && !(source in volumes)) {
          return {
            path: at('volumes', i),
            message: `${formatPath(at('volumes', i))} uses volume '${source}', which is not declared under the top-level volumes: (add '${source}:' there)`,
          };
        }
      }
    }

    const nets = svc['networks'];
    const netNames = Array.isArray(nets) ? nets.filter((n): n is string => typeof n === 'string') : isObj(nets) ? Object.keys(nets) : [];
    for (const n of netNames) {
      if (n !== 'default' && !(n in networks)) {
        const path = at('networks');
        return {
          path,
          ...(Array.isArray(nets) ? {} : { key: n }),
          message: `${formatPath(path)} uses network '${n}', which is not declared under the top-level networks: (add '${n}:' there)`,
        };
      }
    }
  }
  return undefined;
}

/** The named volume a service volume entry uses, or undefined for bind mounts and anonymous ones. */
function namedVolumeSource(v: unknown): string | undefined {
  let source: unknown;
  if (typeof v === 'string') {
    const colon = v.indexOf(':');
    if (colon < 0) return undefined;
    source = v.slice(0, colon);
    if (/^[a-zA-Z]$/.test(source as string) && /^[\\/]/.test(v.slice(colon + 1))) return undefined; // C:\path
  } else if (isObj(v) && (v['type'] === 'volume' || v['type'] === undefined)) {
    source = v['source'];
  }
  return typeof source === 'string' && /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(source) ? source : undefined;
}

// ---------------------------------------------------------------------------------------------
// Inspection
// ---------------------------------------------------------------------------------------------

/**
 * Parse (without editing) to learn existing service names, published host ports, and the env var
 * name existing services use for the ULM service token (`ULM_SERVICE_TOKEN: ${ULM_TOKEN}` →
 * 'ULM_TOKEN'). Validates first: throws the same UserError as validateCompose.
 */
export function inspectCompose(source: string, fileName: string): ComposeInfo {
  return composeInfo(parseCompose(source, fileName).js);
}

// ---------------------------------------------------------------------------------------------
// Text: lines, offsets, detected style
// ---------------------------------------------------------------------------------------------

class Lines {
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

function visitNodes(node: unknown, fn: (n: unknown, parent: unknown) => void, parent: unknown = null): void {
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
function dashOffset(lines: Lines, item: unknown): number | undefined {
  const range = (item as { range?: number[] } | null)?.range;
  if (!range) return undefined;
  const line = lines.index(range[0]!);
  const before = lines.text.slice(lines.start(line), range[0]);
  const m = /^([ \uFEFF]*)-(?=\s)/.exec(before);
  return m ? lines.start(line) + m[1]!.length : undefined;
}

function detectStyle(doc: Document.Parsed, lines: Lines): Style {
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

// ---------------------------------------------------------------------------------------------
// Rendering new YAML fragments: the built-in emitter's scalars, and `yaml` for any other
// ---------------------------------------------------------------------------------------------

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

/** Every scalar through the `yaml` package (exported for the tests that hold the emitter to it). */
export const yamlScalars: ScalarRenderer = {
  /** A scalar as the value of a block mapping pair or a block sequence item, on one line. */
  block(v, style) {
    const node = scalarNode(v, style);
    const render = (): string => {
      const doc = new Document(new YAMLMap());
      (doc.contents as YAMLMap).items.push(new Pair(new Scalar('k'), node));
      return doc.toString(toStringOptions(style));
    };
    let out = render();
    if (!out.startsWith('k: ') || out.indexOf('\n') !== out.length - 1) {
      node.type = 'QUOTE_DOUBLE';
      out = render();
    }
    if (!out.startsWith('k: ') || out.indexOf('\n') !== out.length - 1) throw new Error(`cannot render ${String(node.value)} on one line`);
    return out.slice(3, -1);
  },
  /** Any value as it would appear inside a flow collection, on one line. */
  flow(v, style) {
    const seq = new YAMLSeq();
    seq.flow = true;
    seq.items.push(yToNode(v, style));
    const out = new Document(seq).toString(toStringOptions(style)).replace(/\r?\n$/, '');
    const m = /^\[ ?([^\n]*?) ?\]$/.exec(out);
    if (!m) throw new Error(`cannot render a flow value on one line: ${out}`);
    return m[1]!;
  },
};

/** `simple`, or `full` for what `simple` declines. */
function orElse(simple: ScalarRenderer['block'], full: ScalarRenderer['block']): ScalarRenderer['block'] {
  return (v, style) => {
    try {
      return simple(v, style);
    } catch (e) {
      if (e instanceof NotSimple) return full(v, style);
      throw e;
    }
  };
}

/** The emitter where it can (so both paths write the same bytes), `yaml` where it cannot. */
const scalars: ScalarRenderer = {
  block: orElse(simpleScalars.block, yamlScalars.block),
  flow: orElse(simpleScalars.flow, yamlScalars.flow),
};

const blockLines = (map: YMap, col: number, style: Style): string[] => emitBlockLines(map, col, style, scalars);
const seqLines = (items: Y[], col: number, style: Style): string[] => emitSeqLines(items, col, style, scalars);
const renderFlowValue = (v: Y, style: Style): string => scalars.flow(v, style);
const renderFlowPair = (key: string, v: Y, style: Style): string => emitFlowPair(key, v, style, scalars);

// ---------------------------------------------------------------------------------------------
// Splicing
// ---------------------------------------------------------------------------------------------

interface Splice {
  start: number;
  end: number;
  /** Uses '\n'; converted to the file's end of line when applied. */
  text: string;
  order: number;
  /** Set on insertions into an empty flow collection: joins them when several land there. */
  separator?: string;
}

interface InsertPoint {
  offset: number;
  /** False when the point is the end of a file that does not end with a newline. */
  atLineStart: boolean;
}

/** Orders of splices that can land on the same offset: the first applied comes first in the text. */
const ORDER = {
  pgEnv: 1,
  pgVolumes: 2,
  pgKeys: 3,
  newPostgres: 4,
  appService: 5,
  rootServices: 6,
  topVolumes: 7,
} as const;

class Editor {
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
        .map(([k, v]) => renderFlowPair(k, v, this.style))
        .join(', ');
      this.insertFlow(map, text, order);
      return;
    }
    const col = this.keyColumn(map);
    this.insertLines(this.pointAfter(this.contentEnd(map), col), blockLines(entries, col, this.style), blankBefore, order);
  }

  addItems(seq: YAMLSeq, items: Y[], order: number): void {
    if (seq.flow) {
      this.insertFlow(seq, items.map((i) => renderFlowValue(i, this.style)).join(', '), order);
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

  /** Replace one pair of `map` (its key line through its last line) by `entries`. */
  replacePair(map: YAMLMap, pair: Pair, entries: YMap, order: number): void {
    const key = pair.key as { range: number[] };
    if (map.flow) {
      const text = Object.entries(entries)
        .map(([k, v]) => renderFlowPair(k, v, this.style))
        .join(', ');
      this.splices.push({ start: key.range[0]!, end: this.contentEnd(pair, true), text, order });
      return;
    }
    const { lines } = this;
    const line = lines.index(key.range[0]!);
    const col = lines.column(key.range[0]!);
    const lineStart = lines.start(line);
    const onlyIndent = /^[ \uFEFF]*$/.test(lines.text.slice(lineStart, key.range[0]));
    const end = this.pointAfter(this.contentEnd(pair), col);
    const text = blockLines(entries, col, this.style).join('\n') + (end.atLineStart ? '\n' : '');
    const start = onlyIndent ? lineStart + (line === 0 && lines.text.startsWith('\uFEFF') ? 1 : 0) : key.range[0]!;
    this.splices.push({ start, end: end.offset, text: onlyIndent ? text : text.trimStart(), order });
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

// ---------------------------------------------------------------------------------------------
// editCompose
// ---------------------------------------------------------------------------------------------

/** source undefined => no compose file: create a minimal one. */
export function editCompose(
  source: string | undefined,
  spec: AppSpec,
  opts: { fileName: string; force: boolean },
): ComposeEdit {
  if (source === undefined) return createCompose(spec, opts.fileName);

  const loaded = parseCompose(source, opts.fileName);
  const { doc, js, fileName } = loaded;
  const lines = new Lines(source);
  const style = detectStyle(doc, lines);
  const editor = new Editor(lines, style);
  const notes: string[] = [];
  const expected = structuredClone(js);
  const name = spec.names.service;
  const crud = spec.settings.kind !== 'readonly';

  const root = doc.contents;
  if (!isMap(root)) throw new UserError(`${fileName}:1: the top level must be a mapping with a services: key`);

  const usedAnchors = new Set<string>();
  visitNodes(doc.contents, (n) => {
    if (isAlias(n)) usedAnchors.add(n.source);
  });
  const lineAt = (node: unknown): number => {
    const r = (node as { range?: number[] } | null)?.range;
    return r ? loaded.lc.linePos(r[0]!).line : 1;
  };
  const sharedAnchor = (node: unknown, subtree: boolean): string | undefined => {
    if (isAlias(node)) return node.source;
    let shared: string | undefined;
    const check = (n: unknown): void => {
      const anchor = (n as { anchor?: string } | null)?.anchor;
      if (anchor && usedAnchors.has(anchor)) shared ??= anchor;
    };
    if (subtree) visitNodes(node, check);
    else check(node);
    return shared;
  };
  /** Editing a node shared through an anchor in place would change its other users too. */
  const assertNotShared = (node: unknown, subtree: boolean, what: string, todo: string): void => {
    const shared = sharedAnchor(node, subtree);
    if (shared !== undefined) {
      throw new UserError(
        `${fileName}:${lineAt(node)}: ${what} is shared through the YAML anchor '&${shared}', so create-ovu-app will not edit it; ${todo} by hand, then run again`,
      );
    }
  };

  const servicesPair = ownPair(root, 'services');
  const servicesNode = servicesPair?.value;
  if (servicesPair && !isMap(servicesNode)) {
    throw new UserError(`${fileName}:${lineAt(servicesNode)}: services: must be a mapping written in this file (not an alias)`);
  }
  const servicesMap = isMap(servicesNode) ? servicesNode : undefined;
  const services = isObj(js['services']) ? js['services'] : {};
  if (!isObj(expected['services'])) expected['services'] = {};
  const expServices = expected['services'] as Obj;

  const existing = servicesMap ? ownPair(servicesMap, name) : undefined;
  if (name in services) {
    if (!opts.force) {
      throw new UserError(`${fileName} already has a service '${name}'; pass --force to replace it or choose another name`);
    }
    if (!existing || !servicesMap) throw new UserError(`${fileName}: service '${name}' is not written in this file's services:; remove it by hand`);
    assertNotShared(existing.value, true, `service '${name}'`, 'remove it');
  }

  const tokenVar = findTokenVar(services, name) ?? DEFAULT_TOKEN_VAR;
  if (tokenVar !== DEFAULT_TOKEN_VAR) {
    notes.push(`${name}: ULM_SERVICE_TOKEN reads \${${tokenVar}}, the variable the other services use`);
  }

  const rootBlank = blankSeparated(root, lines) ?? true;
  const newServices: YMap = {};
  let pgName: string | undefined;
  if (crud) {
    pgName = findPostgres(services, name);
    if (pgName === undefined) {
      pgName = 'postgres';
      const pgService = newPostgres(spec);
      newServices[pgName] = pgService;
      expServices[pgName] = yToJS(pgService);
      notes.push(`added service postgres (postgres:15 with init-db.sql)`);
      addTopVolume();
    } else {
      editPostgres(pgName);
    }
  }

  const svc = appService(spec, pgName, tokenVar);
  expServices[name] = yToJS(svc);

  if (existing && servicesMap) {
    editor.replacePair(servicesMap, existing, { [name]: svc }, ORDER.appService);
    notes.push(`replaced service ${name}`);
  } else {
    newServices[name] = svc;
    notes.push(`added service ${name}`);
  }
  const toAdd = Object.entries(newServices);
  if (toAdd.length > 0) {
    if (servicesMap) {
      const blank = blankSeparated(servicesMap, lines) ?? rootBlank;
      for (const [n, s] of toAdd) {
        editor.addPairs(servicesMap, { [n]: s }, n === name ? ORDER.appService : ORDER.newPostgres, blank && !servicesMap.flow);
      }
    } else {
      editor.addPairs(root, { services: Object.fromEntries(toAdd) }, ORDER.rootServices, rootBlank && !root.flow);
    }
  }

  const text = editor.apply();
  const result = verify(text, expected, fileName);
  return { text, created: false, notes, ulmTokenVar: tokenVarOf(result.js), index: composeIndex(result) };

  function addTopVolume(): void {
    const vols = js['volumes'];
    if (isObj(vols) && PG_DATA_VOLUME in vols) return;
    const volNode = ownPair(root as YAMLMap, 'volumes')?.value;
    if (isMap(volNode)) {
      assertNotShared(volNode, false, 'the top-level volumes:', `add '${PG_DATA_VOLUME}:' to it`);
      editor.addPairs(volNode, { [PG_DATA_VOLUME]: null }, ORDER.topVolumes);
    } else if (vols !== undefined) {
      throw new UserError(`${fileName}:${lineAt(volNode)}: the top-level volumes: is an alias; add '${PG_DATA_VOLUME}:' to it by hand`);
    } else {
      editor.addPairs(root as YAMLMap, { volumes: { [PG_DATA_VOLUME]: null } }, ORDER.topVolumes, rootBlank && !(root as YAMLMap).flow);
    }
    if (!isObj(expected['volumes'])) expected['volumes'] = {};
    (expected['volumes'] as Obj)[PG_DATA_VOLUME] = null;
    notes.push(`added volume ${PG_DATA_VOLUME}`);
  }

  function editPostgres(pg: string): void {
    const pgPair = ownPair(servicesMap!, pg)!;
    const pgNode = pgPair.value;
    const where = `the ${pg} service`;
    const pgJs = services[pg] as Obj;
    const expPg = expServices[pg] as Obj;
    const passVar = spec.names.passwordVar;
    const passValue = `\${${passVar}}`;
    const newKeys: YMap = {};

    const needEnv = !envHas(pgJs['environment'], passVar);
    const needMount = !mountsInitDir(pgJs['volumes']);
    const needHealth = pgJs['healthcheck'] === undefined;
    if (!needEnv && !needMount && !needHealth) return;
    if (!isMap(pgNode)) throw new UserError(`${fileName}:${lineAt(pgNode)}: ${where} must be a mapping written in this file`);

    if (needEnv) {
      const envPair = ownPair(pgNode, 'environment');
      const envNode = envPair?.value;
      if (envPair && (isMap(envNode) || isSeq(envNode))) {
        assertNotShared(envNode, false, `the environment of ${where}`, `add '${passVar}: ${passValue}' to it`);
      }
      if (envPair && isMap(envNode)) editor.addPairs(envNode, { [passVar]: passValue }, ORDER.pgEnv);
      else if (envPair && isSeq(envNode)) editor.addItems(envNode, [`${passVar}=${passValue}`], ORDER.pgEnv);
      else if (!envPair && pgJs['environment'] === undefined) newKeys['environment'] = { [passVar]: passValue };
      else {
        throw new UserError(
          `${fileName}:${lineAt(envNode ?? pgNode)}: ${where} gets its environment from a YAML alias or merge key; add '${passVar}: ${passValue}' to it by hand`,
        );
      }
      const env = expPg['environment'];
      if (Array.isArray(env)) env.push(`${passVar}=${passValue}`);
      else expPg['environment'] = { ...(isObj(env) ? env : {}), [passVar]: passValue };
      notes.push(`${pg}: added ${passVar} to environment`);
    }

    if (needMount) {
      const volPair = ownPair(pgNode, 'volumes');
      const volNode = volPair?.value;
      if (volPair && isSeq(volNode)) assertNotShared(volNode, false, `the volumes of ${where}`, `add '- ${INITDB_MOUNT}' to them`);
      if (volPair && isSeq(volNode)) editor.addItems(volNode, [INITDB_MOUNT], ORDER.pgVolumes);
      else if (!volPair && pgJs['volumes'] === undefined) newKeys['volumes'] = [INITDB_MOUNT];
      else {
        throw new UserError(
          `${fileName}:${lineAt(volNode ?? pgNode)}: ${where} gets its volumes from a YAML alias or merge key; add '- ${INITDB_MOUNT}' to them by hand`,
        );
      }
      expPg['volumes'] = [...(Array.isArray(expPg['volumes']) ? expPg['volumes'] : []), INITDB_MOUNT];
      notes.push(`${pg}: mounted ./init-db.sql in ${INITDB_DIR}`);
    }

    if (needHealth) {
      const user = pgUser(pgJs['environment']);
      newKeys['healthcheck'] = healthcheck(user);
      notes.push(`${pg}: added healthcheck (pg_isready -U ${user})`);
    }

    if (Object.keys(newKeys).length > 0) {
      assertNotShared(pgNode, false, where, `add ${Object.keys(newKeys).join(', ')} to it`);
      editor.addPairs(pgNode, newKeys, ORDER.pgKeys);
      for (const [k, v] of Object.entries(newKeys)) expPg[k] = yToJS(v);
    }
  }
}

/** Whether the pairs of a block mapping are separated by blank lines (undefined: can't tell). */
function blankSeparated(map: YAMLMap, lines: Lines): boolean | undefined {
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

function verify(text: string, expected: Obj, fileName: string): Loaded {
  let result: Loaded;
  try {
    result = parseCompose(text, fileName);
  } catch (e) {
    throw new Error(`internal error: the edited ${fileName} does not validate: ${(e as Error).message}`);
  }
  if (!isDeepStrictEqual(result.js, expected)) {
    throw new Error(`internal error: editing ${fileName} would change more than the intended additions`);
  }
  return result;
}

/** A new compose file, for values the built-in emitter does not write: verified like an edit. */
export function createCompose(spec: AppSpec, fileName: string): ComposeEdit {
  const created = createComposeFast(spec, fileName, scalars);
  const result = verify(created.text, created.index!.js, fileName);
  return { ...created, ulmTokenVar: tokenVarOf(result.js), index: composeIndex(result) };
}

// ---------------------------------------------------------------------------------------------
// The index of a parsed file (see compose-index.ts)
// ---------------------------------------------------------------------------------------------

/** The index of a valid file (throws a UserError like validateCompose when it is not). */
export function indexCompose(text: string, fileName: string): ComposeIndex | undefined {
  return composeIndex(parseCompose(text, fileName));
}

/** The index compose-index.ts extends, or undefined when the file is not one it can extend. */
function composeIndex(loaded: Loaded): ComposeIndex | undefined {
  const { doc, js, text } = loaded;
  const root = doc.contents;
  if (!text.endsWith('\n') || !isMap(root) || root.flow) return undefined;
  let plain = true;
  // Block scalars (| and >) keep or fold the blank lines after them, which moves where an insertion
  // may go and what counts as a blank separator: a file with one is left to the full path.
  visitNodes(root, (n) => {
    if (isAlias(n) || (n as { anchor?: string } | null)?.anchor || (isPair(n) && isMergePair(n))) plain = false;
    if (isScalar(n) && (n.type === 'BLOCK_LITERAL' || n.type === 'BLOCK_FOLDED')) plain = false;
  });
  // The index goes through JSON: a value JSON cannot hold (.inf, .nan) keeps the file unindexed.
  if (!plain || !isDeepStrictEqual(JSON.parse(JSON.stringify(js)), js)) return undefined;

  const servicesMap = ownPair(root, 'services')?.value;
  if (!isMap(servicesMap) || servicesMap.flow || servicesMap.items.length === 0) return undefined;
  const lines = new Lines(text);
  const style = detectStyle(doc, lines);
  const editor = new Editor(lines, style);
  const col = editor.keyColumn(servicesMap);
  const at = editor.pointAfter(editor.contentEnd(servicesMap), col);
  if (!at.atLineStart) return undefined;
  const blank = blankSeparated(servicesMap, lines) ?? blankSeparated(root, lines) ?? true;

  let postgres: ComposeIndex['postgres'] = null;
  const pgName = findPostgres(js['services'] as Obj, '');
  const pgNode = pgName === undefined ? undefined : ownPair(servicesMap, pgName)?.value;
  const envNode = isMap(pgNode) ? ownPair(pgNode, 'environment')?.value : undefined;
  if (pgName !== undefined && isMap(envNode) && !envNode.flow && envNode.items.length > 0) {
    const envCol = editor.keyColumn(envNode);
    const envAt = editor.pointAfter(editor.contentEnd(envNode), envCol);
    if (envAt.atLineStart) postgres = { name: pgName, envCol, envAt: envAt.offset };
  }
  return { js, style, services: { col, blank, at: at.offset }, postgres };
}
