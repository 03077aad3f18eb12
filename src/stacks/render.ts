import { CONTAINER_PORT, type AppSpec } from '../app/spec.ts';
import { VERSION } from '../version.ts';
import { templateLayer } from './template-source.ts';
import { STACKS } from './index.ts';
import { stackLayers } from './stack.ts';
import { k8sValues } from '../workspace/k8s.ts';

/**
 * What every template sees: values only. Kept flat and boring: decisions are made here, not in
 * templates, which interpolate these and never branch (what differs per kind is a file of the
 * kind's own layer; test/unit/stacks/templates.test.ts holds them to it).
 */
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
    port: settings.port,
    containerPort: CONTAINER_PORT,
    pool: settings.pool,
    ulmUrl: settings.ulmUrl,
    generatorVersion: VERSION,
    k8s: k8sValues(spec),
  };
}

/** npm drops `.gitignore` from packages, so templates name dotfiles `_gitignore`; `__init__.py` stays. */
export function outputName(templateName: string): string {
  return /^_[^_]/.test(templateName) ? `.${templateName.slice(1)}` : templateName;
}

/**
 * A layer's `partials/<name>` files are not written to the app: a template of any layer says
 * `{{> name}}` and gets the one of the kind's layer, so a file shared by the kinds lives once in
 * `common` and only what differs (a dependency list, a settings block) lives in each kind.
 */
export const PARTIALS_DIR = 'partials/';

/** Renders the app's backend: relative output path → content. */
export async function renderBackend(spec: AppSpec): Promise<Map<string, string>> {
  const context = templateContext(spec);
  const files = (await Promise.all(stackLayers(STACKS[spec.settings.stack], spec.settings.kind).map(templateLayer))).flat();
  const partials: Record<string, (ctx: object) => string> = {};
  for (const file of files) if (file.path.startsWith(PARTIALS_DIR)) partials[file.path.slice(PARTIALS_DIR.length)] = file.render;
  const out = new Map<string, string>();
  for (const file of files) {
    if (file.path.startsWith(PARTIALS_DIR)) continue;
    out.set(file.path.split('/').map(outputName).join('/'), file.render(context, { partials }));
  }
  return out;
}

/** Where an app's CI workflow goes, relative to the workspace root. */
export function ciWorkflowPath(slug: string): string {
  return `.github/workflows/${slug}.yml`;
}

/**
 * Renders the app's CI workflow (its stack's `ciWorkflow` template, with its kind's partials):
 * `{ path, content }`, the path relative to the workspace root.
 */
export async function renderCiWorkflow(spec: AppSpec): Promise<{ path: string; content: string } | undefined> {
  const stack = STACKS[spec.settings.stack];
  if (!stack.ciWorkflow) return undefined;
  const partials: Record<string, (ctx: object) => string> = {};
  for (const layer of stackLayers(stack, spec.settings.kind)) {
    for (const file of await templateLayer(layer)) if (file.path.startsWith(PARTIALS_DIR)) partials[file.path.slice(PARTIALS_DIR.length)] = file.render;
  }
  const cut = stack.ciWorkflow.lastIndexOf('/');
  const template = (await templateLayer(stack.ciWorkflow.slice(0, cut))).find((f) => f.path === stack.ciWorkflow!.slice(cut + 1));
  if (!template) throw new Error(`no CI workflow template ${stack.ciWorkflow}`);
  return { path: ciWorkflowPath(spec.names.slug), content: template.render(templateContext(spec), { partials }) };
}

/**
 * Renders the app's deployment manifests (templates/deploy/: common, then the kind), relative to
 * the app directory: `deploy/k8s/...`.
 */
export async function renderDeploy(spec: AppSpec): Promise<Map<string, string>> {
  const context = templateContext(spec);
  const out = new Map<string, string>();
  for (const layer of ['deploy/common', `deploy/${spec.settings.kind}`]) {
    for (const file of await templateLayer(layer)) out.set(`deploy/${file.path}`, file.render(context));
  }
  return out;
}
