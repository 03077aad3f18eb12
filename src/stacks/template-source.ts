import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import templateOptions from './template-options.json' with { type: 'json' };

/**
 * Where templates come from when running from the sources (tests, plop): the templates/ folder,
 * compiled with Handlebars on first use. The published bundle replaces this module with one that
 * holds the same templates precompiled at build time (scripts/build.mjs), so a run neither walks
 * the folder nor compiles anything, and loads only its own stack's. Both expose this one
 * function.
 */

/** A template file: its path inside the layer (`/`-separated), and how to render it. */
export interface TemplateFile {
  path: string;
  /** `partials`: what `{{> name}}` renders (src/stacks/render.ts). */
  render: (context: object, options?: { partials?: Record<string, (context: object) => string> }) => string;
}

export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

function walk(dir: string, rel = ''): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]));
}

/**
 * Shared with the build's precompilation, so both behave alike: no HTML escaping (these are not
 * web pages), and strict, so a misspelt variable fails instead of rendering as an empty string.
 */
export const COMPILE_OPTIONS = templateOptions;

/**
 * The files of one layer, e.g. `python/common`, in a stable order. Async because the bundle
 * loads each stack's precompiled templates only when a run renders that stack.
 */
export async function templateLayer(layer: string): Promise<TemplateFile[]> {
  // A stack outside templates/ (the tests') names its layers by absolute path.
  return readLayer(path.resolve(TEMPLATES_DIR, layer));
}

function readLayer(dir: string): TemplateFile[] {
  return walk(dir)
    .sort()
    .map((rel) => {
      const source = fs.readFileSync(path.join(dir, rel), 'utf8');
      const render = source.includes('{{') ? Handlebars.compile(source, COMPILE_OPTIONS) : () => source;
      return { path: rel.split(path.sep).join('/'), render };
    });
}

/**
 * The same, synchronously, for the layers a derived workspace kind renders (derived kinds are
 * synchronous): only those under SYNC_TEMPLATE_ROOTS, which the bundle holds in its index chunk.
 */
export function templateLayerSync(layer: string): TemplateFile[] {
  if (!SYNC_TEMPLATE_ROOTS.includes(layer.split('/')[0]!)) throw new Error(`internal error: ${layer} is not a synchronous template layer`);
  return readLayer(path.join(TEMPLATES_DIR, layer));
}

/** Template roots a derived kind renders (kept in sync with scripts/build.mjs's). */
export const SYNC_TEMPLATE_ROOTS = ['ulm-dev'];
