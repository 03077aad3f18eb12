/** The compose project: read once per run (project.ts), an app added to it (edit.ts). */
export { readComposeProject, type ComposeProject, type KnownApp } from './project.ts';
export { addAppToCompose, type ComposeEdit } from './edit.ts';
export { APP_COMPOSE_FILE } from './model.ts';
