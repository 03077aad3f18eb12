import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { CONTAINER_PORT, type AppSpec } from './types.ts';
import { VERSION } from './version.ts';

/**
 * The package's templates folder. src/ and dist/ both sit one level below the package root, so
 * the same relative URL works from the sources (tests, plop) and from the bundle.
 */
export const TEMPLATES_DIR = fileURLToPath(new URL('../templates/', import.meta.url));

/** What every template sees. Kept flat and boring: decisions are made here, not in templates. */
export function templateContext(spec: AppSpec) {
  const { names, settings } = spec;
  return {
    app: {
      slug: names.slug,
      snake: names.snake,
      title: names.title,
      db: names.db,
      user: names.user,
      envPrefix: names.envPrefix,
      passwordVar: names.passwordVar,
      service: names.service,
    },
    crud: settings.kind === 'crud',
    readonly: settings.kind === 'readonly',
    port: settings.port,
    containerPort: CONTAINER_PORT,
    pool: settings.pool,
    ulmUrl: settings.ulmUrl,
    generatorVersion: VERSION,
  };
}

/** npm drops `.gitignore` from packages, so templates name dotfiles `_gitignore`; `__init__.py` stays. */
export function outputName(templateName: string): string {
  return /^_[^_]/.test(templateName) ? `.${templateName.slice(1)}` : templateName;
}

function walk(dir: string, rel = ''): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]));
}

/**
 * Template layers for a stack and kind: `common` for every app, then the kind's own layer, whose
 * files win on the same path.
 */
export function templateLayers(spec: AppSpec): string[] {
  const root = path.join(TEMPLATES_DIR, spec.settings.stack);
  return [path.join(root, 'common'), path.join(root, spec.settings.kind)];
}

/** Renders the app's backend: relative output path → content. */
export function renderBackend(spec: AppSpec): Map<string, string> {
  const context = templateContext(spec);
  const out = new Map<string, string>();
  for (const layer of templateLayers(spec)) {
    for (const rel of walk(layer)) {
      const source = fs.readFileSync(path.join(layer, rel), 'utf8');
      const dest = rel.split(path.sep).map(outputName).join('/');
      // Most files have nothing to fill in; compiling them would only cost time.
      if (!source.includes('{{')) {
        out.set(dest, source);
        continue;
      }
      // strict: a misspelt variable is a bug in the template, not an empty string in the app.
      out.set(dest, Handlebars.compile(source, { noEscape: true, strict: true })(context));
    }
  }
  return out;
}
