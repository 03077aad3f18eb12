/** The compose project: read once per run (project.ts), an app added to it (edit.ts, apps-file.ts). */
export { readComposeProject, type ComposeProject, type DatabaseService, type KnownApp } from './project.ts';
export { addAppToCompose, type ComposeEdit } from './edit.ts';
export { APP_COMPOSE_FILE, APPS_COMPOSE_FILE, DB_INIT_SERVICE } from './model.ts';
export { removeAppFromCompose, type ComposeRemoval } from './remove.ts';
