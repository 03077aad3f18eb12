/**
 * Reading a compose file: YAML with source positions, checked against the Compose Specification
 * and for references the schema cannot see, every problem a one-line `<file>:<line>: …` error.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseAllDocuments, parseDocument, type Document, type Pair, type YAMLMap } from 'yaml';
import { UserError } from '../../errors.ts';
import { checkComposeSchema, type ComposePath } from './schema.ts';
import { checkReferences } from './references.ts';
import { isObj, type Obj } from './model.ts';
import { mergeDocuments } from './documents.ts';
import { visitNodes } from './text.ts';

const MAX_ALIASES = 10_000;

export interface Loaded {
  text: string;
  fileName: string;
  /** The document edits go into (of several: the one with `include:`, else the last). */
  doc: Document.Parsed;
  lc: LineCounter;
  /** The file's value as Compose reads it (several documents merged, as Compose merges them). */
  js: Obj;
}

const OPTIONS = { keepSourceTokens: true, merge: true, prettyErrors: true, uniqueKeys: true } as const;

/** A YAML error of the document as one line `<file>:<line>:<col>: …`. */
function yamlError(doc: Document.Parsed, fileName: string): UserError | undefined {
  const err = doc.errors[0];
  if (!err) return undefined;
  const pos = err.linePos?.[0];
  const msg = (err.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?\s*$/, '');
  return new UserError(`${fileName}:${pos?.line ?? 1}:${pos?.col ?? 1}: not valid YAML: ${msg}`);
}

/**
 * A file of several YAML documents (`---`): Compose reads each as a project file and merges them in
 * order, as it merges `-f a -f b`; so does this. Edits go into one of them (see Loaded.doc).
 */
function parseDocuments(text: string, fileName: string, external: ReadonlySet<string> | undefined, included: boolean): Loaded {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { ...OPTIONS, lineCounter: lc });
  if (!Array.isArray(docs)) throw new UserError(`${fileName}:1: the file has no content; add a services: section or delete the file`);
  const values: Obj[] = [];
  for (const doc of docs) {
    const problem = yamlError(doc, fileName);
    if (problem) throw problem;
    const js = toValue(doc, lc, fileName);
    if (js === null || js === undefined) continue;
    if (!isObj(js)) {
      const line = doc.contents?.range ? lc.linePos(doc.contents.range[0]).line : 1;
      throw new UserError(`${fileName}:${line}: this YAML document is not a mapping, which Compose needs of each document of a file`);
    }
    values.push(js);
  }
  if (values.length === 0) throw new UserError(`${fileName}:1: the file has no content; add a services: section or delete the file`);
  const withContent = docs.filter((d) => isMap(d.contents));
  const doc = withContent.find((d) => ownPair(d.contents as YAMLMap, 'include')) ?? withContent.at(-1) ?? docs[0]!;
  const loaded = { text, fileName, doc, lc, js: mergeDocuments(values) };
  const problem = checkComposeSchema(loaded.js) ?? checkReferences(loaded.js, external, included);
  if (problem) throw new UserError(`${fileName}:${lineOf(loaded, problem.path, problem.key)}: ${problem.message}`);
  return loaded;
}

/**
 * Parses and validates `text`. `external` names the services other files of the project define
 * (included files), which this one may refer to; undefined when they are not known. An `included`
 * file may use volumes and networks that the file including it declares.
 */
export function parseCompose(text: string, fileName: string, external?: ReadonlySet<string>, included = false): Loaded {
  const lc = new LineCounter();
  const doc = parseDocument(text, { ...OPTIONS, lineCounter: lc });
  if (doc.errors[0]?.code === 'MULTIPLE_DOCS') return parseDocuments(text, fileName, external, included);
  const problem = yamlError(doc, fileName);
  if (problem) throw problem;
  const js = toValue(doc, lc, fileName);
  if (js === null || js === undefined) {
    throw new UserError(`${fileName}:1: the file has no content; add a services: section or delete the file`);
  }
  const loaded = { text, fileName, doc, lc, js: js as Obj };
  const invalid = checkComposeSchema(js) ?? checkReferences(loaded.js, external, included);
  if (invalid) throw new UserError(`${fileName}:${lineOf(loaded, invalid.path, invalid.key)}: ${invalid.message}`);
  return loaded;
}

/** The document's value, aliases expanded (an alias bomb refused). */
function toValue(doc: Document.Parsed, lc: LineCounter, fileName: string): unknown {
  let js: unknown;
  try {
    // Real stacks use aliases by the hundred (yaml's default allows 100); an alias bomb, which
    // expands each alias many times over, is still refused.
    js = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    if (/Excessive alias count/.test((e as Error).message)) {
      throw new UserError(`${fileName}:1: its YAML aliases expand to more than ${MAX_ALIASES} nodes, which looks like an alias bomb; create-ovu-app will not read it`);
    }
    // toJS fails on an alias whose anchor is not defined (before it).
    let line = 1;
    visitNodes(doc.contents, (n) => {
      if (line === 1 && isAlias(n) && !n.resolve(doc) && n.range) line = lc.linePos(n.range[0]).line;
    });
    throw new UserError(`${fileName}:${line}: not valid YAML: ${(e as Error).message}`);
  }
  return js;
}

export function deref(doc: Document.Parsed, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

export function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return typeof key.value === 'symbol' ? '<<' : String(key.value);
  return undefined;
}

export function isMergePair(p: Pair): boolean {
  return isScalar(p.key) && typeof p.key.value === 'symbol';
}

/** The pair written in `map` itself for `key` (not one brought in by a merge key). */
export function ownPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => !isMergePair(p) && keyText(p.key) === key);
}

/** The pair for `key`, looking through `<<` merge keys like the loader does. */
export function findPair(doc: Document.Parsed, map: YAMLMap, key: string, depth = 0): Pair | undefined {
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
export function lineOf(loaded: Loaded, path: ComposePath, key?: string): number {
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
