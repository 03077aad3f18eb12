/**
 * The workspace's compose file: what a run reads from it and how an app is added to it.
 *
 * Two paths give the same result. A file create-ovu-app wrote before is known by its
 * index (compose-index.ts, kept by compose-cache.ts): the app's lines go in at the indexed offsets
 * without parsing, which keeps the 200th app as quick as the 1st. Any other file, or an edit the
 * index does not cover, goes through compose-edit.ts, which parses, validates, splices and
 * verifies; it and the `yaml` package and the schema validator load only then.
 */
import { loadIndex, saveIndex } from './compose-cache.ts';
import { createComposeFast, editComposeFast, type ComposeEdit, type ComposeIndex } from './compose-index.ts';
import { NotSimple, composeInfo, type ComposeInfo } from './compose-model.ts';
import type { AppSpec } from './types.ts';

export type { ComposeEdit, ComposeInfo };

const full = () => import('./compose-edit.ts');

/** The last texts looked up: a run asks about the same text several times. */
const indexes = new Map<string, ComposeIndex | undefined>();

function indexFor(text: string): ComposeIndex | undefined {
  if (indexes.has(text)) return indexes.get(text);
  const index = loadIndex(text);
  if (indexes.size >= 4) indexes.delete(indexes.keys().next().value!);
  indexes.set(text, index);
  return index;
}

/**
 * Existing service names, published host ports and the ULM token variable. Throws a UserError
 * `<fileName>:<line>: …` when the file is not valid (an indexed file was valid when indexed).
 */
export async function inspectCompose(source: string, fileName: string): Promise<ComposeInfo> {
  const index = indexFor(source);
  if (index) return composeInfo(index.js);
  return (await full()).inspectCompose(source, fileName);
}

/** Adds the app (source undefined: no compose file yet, create one). Throws a UserError on bad input. */
export async function editCompose(source: string | undefined, spec: AppSpec, opts: { fileName: string; force: boolean }): Promise<ComposeEdit> {
  try {
    if (source === undefined) return createComposeFast(spec, opts.fileName);
    const index = indexFor(source);
    const edit = index && editComposeFast(source, index, spec);
    if (edit) return edit;
  } catch (e) {
    if (!(e instanceof NotSimple)) throw e;
  }
  return (await full()).editCompose(source, spec, opts);
}

/** After the edit is on disk: lets the next run find the file's index. */
export function rememberCompose(edit: ComposeEdit): void {
  if (edit.index) saveIndex(edit.text, edit.index);
}
