/**
 * Taking an app out of the compose project: apps.compose.yaml is written whole again from the apps
 * that stay (the same function `new` writes it with), so it no longer includes `<app>/compose.yaml`
 * nor passes the app's verifier to ovu-db-init. The workspace's own compose file is the team's and
 * stays as it is (its database service and the include serve the other apps).
 */
import { APPS_COMPOSE_FILE } from './model.ts';
import { appsComposeFile } from './apps-file.ts';
import { DEFAULT_STYLE } from './render.ts';
import { Lines, detectStyle } from './text.ts';
import type { ComposeProject } from './project.ts';
import { databaseReach, type DatabaseReach } from '../derived.ts';

export interface ComposeRemoval {
  appsFile: { name: string; text: string };
  /** ovu-db-init/.env as it will be (undefined: not needed). */
  dbInitEnv: string | undefined;
  notes: string[];
  /** The database apps.compose.yaml's ovu-db-init reaches after the removal, for the derived kinds. */
  dbInit: DatabaseReach | undefined;
}

export function removeAppFromCompose(project: ComposeProject, slug: string): ComposeRemoval {
  const style = project.loaded ? detectStyle(project.loaded.doc, new Lines(project.loaded.text)) : DEFAULT_STYLE;
  const apps = project.apps.filter((a) => a.hasComposeFile && a.dir !== slug);
  const { text, notes, dbInitEnv } = appsComposeFile(apps, project.postgres, style);
  return { appsFile: { name: APPS_COMPOSE_FILE, text }, dbInitEnv, notes, dbInit: databaseReach(project.postgres, apps) };
}
