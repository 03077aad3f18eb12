import fs from 'node:fs';
import path from 'node:path';
import type { Kind, Stack } from '../../src/app/spec.ts';
import { templateContext } from '../../src/stacks/render.ts';
import { stackIds } from '../../src/stacks/index.ts';
import { TEMPLATES_DIR } from '../../src/stacks/template-source.ts';
import { appSpec } from './spec.ts';

/** The stacks of src/stacks/index.ts's table (never listed again here). */
export const STACKS: readonly Stack[] = stackIds();
export const KINDS: readonly Kind[] = ['crud', 'readonly'];

/** One file of templates/, read from the real disk. */
export interface TemplateFileOnDisk {
  stack: string;
  /** `common`, or the kind whose apps alone get the file. */
  layer: string;
  /** Path inside the layer, `/`-separated, e.g. `app/main.py`. */
  rel: string;
  /** Path inside templates/, for messages: `python/common/app/main.py`. */
  name: string;
  source: string;
}

/** Every template file, in a stable order. */
export function templateFiles(): TemplateFileOnDisk[] {
  return fs
    .readdirSync(TEMPLATES_DIR, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(TEMPLATES_DIR, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort()
    .map((name) => {
      const [stack = '', layer = '', ...rest] = name.split('/');
      return { stack, layer, rel: rest.join('/'), name, source: fs.readFileSync(path.join(TEMPLATES_DIR, name), 'utf8') };
    });
}

/** templates/deploy/ (each app's deploy/, e.g. its Kubernetes manifests) is rendered for every stack. */
export const DEPLOY_DIR = 'deploy';

/** The stacks whose apps render a file of templates/<dir>/. */
export function stacksOf(dir: string): Stack[] {
  // ulm-dev/ is the workspace's (a derived kind), whatever the apps' stacks.
  return dir === DEPLOY_DIR || dir === 'ulm-dev' ? [...STACKS] : [dir as Stack];
}

/** A stack's CI workflow template (`templates/<stack>/ci/`): rendered for every app, of each kind. */
export const CI_DIR = 'ci';

/** The kinds whose apps render a file of `layer`. */
export function kindsOf(layer: string): Kind[] {
  return layer === 'common' || layer === CI_DIR ? [...KINDS] : KINDS.filter((k) => k === layer);
}

/** The context a file of `stack`/`kind` is rendered with, for a sample app. */
export function sampleContext(stack: string, kind: Kind): Record<string, unknown> {
  return templateContext(appSpec('inventory', { stack: stack as Stack, kind }));
}

/** A simple interpolation, `{{app.slug}}`: the only `{{…}}` templates may hold. */
export const INTERPOLATION = /\{\{([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\}\}/g;

/**
 * `source` with each interpolation replaced by a placeholder of its value's type: a number for a
 * number (`{{port}}` → `8000`), else an identifier (`{{app.slug}}` → `ovu_app_slug`), which is
 * also fine inside a string or a comment. What a reader sees once the `{{…}}` are filled in.
 */
export function withPlaceholders(source: string, context: Record<string, unknown>): string {
  return source.replace(INTERPOLATION, (_, name: string) => {
    const value = name.split('.').reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], context);
    return typeof value === 'number' ? '8000' : `ovu_${name.replace(/\./g, '_')}`;
  });
}
