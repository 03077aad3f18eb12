/**
 * A derived kind's file per app, all in one directory (a dashboard, an app's backup CronJobs): the
 * piece of a kind whose cost follows the one app a run changes, not the workspace.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AppSpec } from '../app/spec.ts';
import type { DerivedApp, DerivedContext, DerivedFile } from './derived.ts';

/**
 * `<dir>/<app><ext>` for each of `apps`. A run that changes one app (`ctx.changed`) writes that app's
 * alone, or removes it when the app has none any more; an audit (or `every`, for a workspace whose
 * apps have no such file yet) writes every app's and removes those on disk that no app has.
 */
export function perAppFiles(ctx: DerivedContext, apps: DerivedApp[], dir: string, ext: string, render: (spec: AppSpec) => string, every = false): DerivedFile[] {
  const file = (slug: string): string => `${dir}/${slug}${ext}`;
  if (ctx.changed !== undefined && !every) {
    const app = apps.find((a) => a.dir === ctx.changed);
    if (app) return [{ path: file(app.spec.names.slug), text: render(app.spec) }];
    return ctx.read(path.join(ctx.root, file(ctx.changed))) === undefined ? [] : [{ path: file(ctx.changed), text: undefined }];
  }
  const files: DerivedFile[] = apps.map((a) => ({ path: file(a.spec.names.slug), text: render(a.spec) }));
  const wanted = new Set(files.map((f) => f.path));
  for (const name of namesIn(path.join(ctx.root, dir))) {
    if (name.endsWith(ext) && !wanted.has(`${dir}/${name}`)) files.push({ path: `${dir}/${name}`, text: undefined });
  }
  return files;
}

/** The names in a directory; none when it does not exist. */
function namesIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
